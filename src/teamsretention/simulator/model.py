"""In-memory state of a simulated Microsoft 365 tenant.

Users, groups/teams with channels and owners, SharePoint sites, drives holding a tree of driveItems, a
per-drive change log (what ``/root/delta`` replays), a recycle bin, a mail log and a request log. Time is
simulated: ``now`` starts at ``epoch`` and moves only when told to; events scheduled at a time fire as the
clock passes them.

Everything is deterministic: identifiers and random choices come from one seeded RNG.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import random
import uuid
from typing import Any

from .drivetree import RECYCLE_BIN_DAYS, DriveTree
from .entities import (
    ChangeLog,
    EventAction,
    Label,
    RecycledItem,
    ScheduledEvent,
    SimChannel,
    SimDrive,
    SimGroup,
    SimItem,
    SimSite,
    SimUser,
)
from .knobs import Knobs
from .lists import ListIndex, SimList
from .reqlog import RequestLog
from .sites import SiteIndex

__all__ = [
    "ChangeLog",
    "Label",
    "RecycledItem",
    "SimChannel",
    "SimDrive",
    "SimGroup",
    "SimItem",
    "SimSite",
    "SimUser",
    "TenantModel",
]


class TenantModel(DriveTree, SiteIndex, ListIndex):
    def __init__(self, epoch: dt.datetime, *, seed: int = 1, domain: str = "contoso.example") -> None:
        if epoch.tzinfo is None:
            raise ValueError("the simulator epoch must be timezone-aware")
        self.epoch = epoch
        self.now = epoch
        self.domain = domain
        self.rng = random.Random(seed)
        self.users: dict[str, SimUser] = {}
        self.groups: dict[str, SimGroup] = {}
        self.drives: dict[str, SimDrive] = {}
        self.sites: dict[str, SimSite] = {}
        self.item_drive: dict[str, str] = {}  # item id -> drive id
        self.user_order: list[str] = []
        self.group_order: list[str] = []
        self.user_log = ChangeLog()
        self.group_log = ChangeLog()
        self.aliases: dict[str, str] = {}  # scenario keys -> object ids
        self.events: list[ScheduledEvent] = []
        self.fired: list[dict[str, Any]] = []
        self._scheduled = 0
        self.recycle_bin: dict[tuple[str, str], RecycledItem] = {}
        self.mail_log: list[dict[str, Any]] = []
        self.rejected_mail: list[dict[str, Any]] = []
        self.requests = RequestLog()
        self.knobs = Knobs()
        self.fault_rng = random.Random(self.knobs.seed)  # faults only: throttling never shifts tenant choices
        self.error_counter = 0
        self.token_generation = 1  # tokens from an older generation answer 410
        self.loop_first_links: dict[str, str] = {}  # knob next_link_loops: scope -> its first page's URL
        self.lists: dict[str, SimList] = {}  # list id -> list (lists.py)
        self.site_zones: dict[str, str] = {}  # site id -> IANA time zone (date-only columns)
        self.records_site_id: str | None = None

    def set_knobs(self, knobs: Knobs) -> None:
        self.knobs = knobs
        self.fault_rng = random.Random(knobs.seed)

    # --- identifiers -----------------------------------------------------------------------------
    def new_guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_item_id(self) -> str:
        # Graph driveItem ids: "01" + 32 base32 characters.
        return "01" + base64.b32encode(self.rng.getrandbits(160).to_bytes(20, "big")).decode()

    def new_drive_id(self) -> str:
        return (
            "b!"
            + uuid.UUID(int=self.rng.getrandbits(128)).hex
            + uuid.UUID(int=self.rng.getrandbits(64)).hex[:16]
        )

    def resolve(self, ref: str) -> str:
        """A scenario key or an object id -> the object id."""
        return self.aliases.get(ref, ref)

    # --- directory -------------------------------------------------------------------------------
    def add_user(
        self,
        display_name: str,
        upn: str,
        mail: str | None,
        *,
        user_id: str | None = None,
        account_enabled: bool = True,
        preferred_language: str | None = None,
        has_onedrive: bool = True,
        has_mailbox: bool | None = None,
        time_zone: str = "UTC",
    ) -> SimUser:
        """``has_mailbox`` defaults to whether the user has a mail address (an Exchange licence gives both)."""
        user = SimUser(
            user_id or self.new_guid(),
            display_name,
            upn,
            mail,
            account_enabled,
            preferred_language,
            has_onedrive,
            has_mailbox=mail is not None if has_mailbox is None else has_mailbox,
            time_zone=time_zone,
        )
        self.users[user.id] = user
        self.user_order.append(user.id)
        user.seq = self.user_log.record(user.id)
        if has_onedrive:
            self._provision_onedrive(user)
        return user

    def _provision_onedrive(self, user: SimUser) -> SimDrive:
        """A OneDrive in a personal site of its own; a re-provisioned one gets a numbered URL, as
        SharePoint does when the old personal site URL is still taken."""
        slug = user.upn.replace("@", "_").replace(".", "_") + (
            str(user.drive_generation) if user.drive_generation else ""
        )
        host = f"{self.tenant_host}-my.sharepoint.com"
        drive = self.add_drive(
            "business", "OneDrive", f"https://{host}/personal/{slug}/Documents", owner_user_id=user.id
        )
        self.add_site(drive, host, f"/personal/{slug}", slug, user.display_name)
        user.drive_id = drive.id
        return drive

    def replace_onedrive(self, user: SimUser) -> SimDrive:
        """The OneDrive was deleted and provisioned again: a new drive id in a new personal site with an
        empty ``Recordings`` folder; the old drive (and its site) answer 404 from now on."""
        old = self.drives.get(user.drive_id) if user.drive_id else None
        if old is not None:
            old.removed = True
            if old.site_id in self.sites:
                self.sites[old.site_id].removed = True
            for key in [k for k in self.recycle_bin if k[0] == old.id]:
                del self.recycle_bin[key]  # the recycle bin went with the old site
        user.drive_generation += 1
        user.has_onedrive = True
        drive = self._provision_onedrive(user)
        root = drive.items[drive.root_id]
        root.created = root.modified = self.now
        self.ensure_folder(drive.id, ["Recordings"], created=self.now)
        return drive

    def drive_for_ref(self, ref: str) -> str | None:
        """A drive id from a drive id, or from a user, team or channel (id or scenario key) owning one."""
        obj_id = self.resolve(ref)
        if obj_id in self.drives:
            return obj_id
        if obj_id in self.users:
            return self.users[obj_id].drive_id
        if obj_id in self.groups:
            return self.groups[obj_id].drive_id
        for group in self.groups.values():
            for channel in group.channels:
                if channel.id == obj_id:
                    return channel.drive_id
        return None

    @property
    def tenant_host(self) -> str:
        return self.domain.split(".")[0]

    def touch_user(self, user: SimUser) -> None:
        user.seq = self.user_log.record(user.id)

    def find_user(self, ref: str) -> SimUser | None:
        """By id, scenario key, UPN or mail (case-insensitive), as Graph's /users/{id | upn} does."""
        user = self.users.get(self.resolve(ref))
        if user is None:
            low = ref.lower()
            user = next(
                (u for u in self.users.values() if u.upn.lower() == low or (u.mail or "").lower() == low),
                None,
            )
        return None if user is None or user.removed else user

    def add_group(
        self,
        display_name: str,
        *,
        is_team: bool = False,
        member_ids: list[str] | None = None,
        group_id: str | None = None,
        owner_ids: list[str] | None = None,
    ) -> SimGroup:
        group = SimGroup(group_id or self.new_guid(), display_name, is_team, list(member_ids or []))
        group.owner_ids = list(owner_ids or [])
        self.groups[group.id] = group
        self.group_order.append(group.id)
        group.seq = self.group_log.record(group.id)
        if is_team:
            slug = "".join(ch for ch in display_name if ch.isalnum())
            host = f"{self.tenant_host}.sharepoint.com"
            drive = self.add_drive(
                "documentLibrary",
                "Documents",
                f"https://{host}/sites/{slug}/Shared%20Documents",
                owner_group_id=group.id,
            )
            self.add_site(drive, host, f"/sites/{slug}", slug, display_name)
            group.drive_id = drive.id
        return group

    def add_channel(
        self, group: SimGroup, display_name: str, membership_type: str = "standard"
    ) -> SimChannel:
        """Standard channels get a folder in the team drive; private/shared ones a drive of their own."""
        if membership_type == "standard":
            assert group.drive_id is not None, "channels need a team"
            drive = self.drives[group.drive_id]
        else:
            slug = "".join(ch for ch in group.display_name + "-" + display_name if ch.isalnum() or ch == "-")
            host = f"{self.tenant_host}.sharepoint.com"
            drive = self.add_drive(
                "documentLibrary",
                "Documents",
                f"https://{host}/sites/{slug}/Shared%20Documents",
                owner_group_id=group.id,
            )
            self.add_site(drive, host, f"/sites/{slug}", slug, f"{group.display_name}-{display_name}")
        folder = self.ensure_folder(drive.id, [display_name])
        channel = SimChannel(
            f"19:{uuid.UUID(int=self.rng.getrandbits(128)).hex}@thread.tacv2",
            display_name,
            membership_type,
            drive.id,
            folder.id,
        )
        group.channels.append(channel)
        return channel

    def transitive_user_ids(self, group: SimGroup) -> list[str]:
        return self.transitive_member_ids(group, users_only=True)

    def transitive_member_ids(self, group: SimGroup, *, users_only: bool = False) -> list[str]:
        """Members of ``group`` and of every group nested in it, depth first, each once; nested groups
        themselves are members too (what the un-cast ``transitiveMembers`` lists). Removed objects are
        no members, and nothing under a removed group is reached through it."""
        seen: set[str] = set()
        out: list[str] = []
        stack = list(reversed(group.member_ids))
        while stack:
            member = stack.pop()
            if member in seen:
                continue
            seen.add(member)
            if member in self.users and not self.users[member].removed:
                out.append(member)
            elif member in self.groups and not self.groups[member].removed:
                if not users_only:
                    out.append(member)
                stack.extend(reversed(self.groups[member].member_ids))
        return out

    # --- clock and events ----------------------------------------------------------------------------
    def schedule(self, at: dt.datetime, kind: str, params: dict[str, Any], fire: EventAction) -> ScheduledEvent:
        """Queue an event; ``fire`` performs it when the clock passes ``at`` (``events.schedule`` passes the
        simulator's own event kinds)."""
        if at.tzinfo is None:
            raise ValueError("event times must be timezone-aware")
        event = ScheduledEvent(at, self._scheduled, kind, params, fire)
        self._scheduled += 1
        bisect.insort(self.events, event)
        return event

    def advance_to(self, when: dt.datetime) -> list[dict[str, Any]]:
        """Move the clock to ``when``, firing due events in time order (each at its own time)."""
        if when.tzinfo is None:
            raise ValueError("clock times must be timezone-aware")
        if when < self.now:
            raise ValueError("the simulated clock does not run backwards")
        fired: list[dict[str, Any]] = []
        while self.events and self.events[0].at <= when:
            event = self.events.pop(0)
            self.now = max(self.now, event.at)
            fired.append(event.fire(self, event))
        self.now = when
        self._purge_recycle_bin()
        self.fired.extend(fired)
        return fired

    def advance(self, days: float = 0, hours: float = 0) -> list[dict[str, Any]]:
        return self.advance_to(self.now + dt.timedelta(days=days, hours=hours))

    def _purge_recycle_bin(self) -> None:
        cutoff = self.now - dt.timedelta(days=RECYCLE_BIN_DAYS)
        for key in [k for k, v in self.recycle_bin.items() if v.deleted_at < cutoff]:
            entry = self.recycle_bin.pop(key)
            self.drives[entry.drive_id].items[entry.item_id].purged = True

    # --- counts for summaries and tests -------------------------------------------------------------
    def live_recordings(self) -> list[SimItem]:
        return [
            i
            for d in self.drives.values()
            if not d.removed
            for i in d.items.values()
            if i.teams_recording and not i.deleted
        ]
