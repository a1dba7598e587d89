"""In-memory state of a simulated Microsoft 365 tenant.

Users, groups/teams with channels, drives holding a tree of driveItems, a per-drive change log (what
``/root/delta`` replays), a recycle bin, a mail log and a request log. Time is simulated: ``now`` starts at
``epoch`` and moves only when told to; events scheduled at a time fire as the clock passes them.

Everything is deterministic: identifiers and random choices come from one seeded RNG.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import random
import uuid
from typing import Any

from .entities import (
    ChangeLog,
    Label,
    RecycledItem,
    SimChannel,
    SimDrive,
    SimGroup,
    SimItem,
    SimUser,
)
from .events import ScheduledEvent, apply_event
from .knobs import Knobs
from .reqlog import RequestLog

__all__ = [
    "ChangeLog",
    "Label",
    "RecycledItem",
    "SimChannel",
    "SimDrive",
    "SimGroup",
    "SimItem",
    "SimUser",
    "TenantModel",
]

RECYCLE_BIN_DAYS = 93  # SharePoint/OneDrive keep deleted items 93 days over both recycle-bin stages


class TenantModel:
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
    ) -> SimUser:
        user = SimUser(
            user_id or self.new_guid(),
            display_name,
            upn,
            mail,
            account_enabled,
            preferred_language,
            has_onedrive,
        )
        self.users[user.id] = user
        self.user_order.append(user.id)
        user.seq = self.user_log.record(user.id)
        if has_onedrive:
            slug = upn.replace("@", "_").replace(".", "_")
            drive = self.add_drive(
                "business",
                "OneDrive",
                f"https://{self.tenant_host}-my.sharepoint.com/personal/{slug}/Documents",
                owner_user_id=user.id,
            )
            user.drive_id = drive.id
        return user

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
    ) -> SimGroup:
        group = SimGroup(group_id or self.new_guid(), display_name, is_team, list(member_ids or []))
        self.groups[group.id] = group
        self.group_order.append(group.id)
        group.seq = self.group_log.record(group.id)
        if is_team:
            slug = "".join(ch for ch in display_name if ch.isalnum())
            drive = self.add_drive(
                "documentLibrary",
                "Documents",
                f"https://{self.tenant_host}.sharepoint.com/sites/{slug}/Shared%20Documents",
                owner_group_id=group.id,
            )
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
            drive = self.add_drive(
                "documentLibrary",
                "Documents",
                f"https://{self.tenant_host}.sharepoint.com/sites/{slug}/Shared%20Documents",
                owner_group_id=group.id,
            )
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
            elif member in self.groups:
                stack.extend(reversed(self.groups[member].member_ids))
        return out

    # --- drives and items --------------------------------------------------------------------------
    def add_drive(
        self,
        drive_type: str,
        name: str,
        web_url: str,
        *,
        owner_user_id: str | None = None,
        owner_group_id: str | None = None,
    ) -> SimDrive:
        drive_id = self.new_drive_id()
        root_id = self.new_item_id()
        drive = SimDrive(drive_id, drive_type, name, web_url, root_id, owner_user_id, owner_group_id)
        self.drives[drive_id] = drive
        root = SimItem(
            root_id,
            drive_id,
            "root",
            None,
            self.epoch - dt.timedelta(days=400),
            self.epoch - dt.timedelta(days=400),
            is_folder=True,
            created_by=owner_user_id,
        )
        self._insert(drive, root)
        return drive

    def _insert(self, drive: SimDrive, item: SimItem) -> None:
        drive.items[item.id] = item
        drive.order.append(item.id)
        self.item_drive[item.id] = drive.id
        item.seq = drive.log.record(item.id)
        if item.parent_id is not None:
            self._change_child_count(drive, item.parent_id, +1)

    def _change_child_count(self, drive: SimDrive, parent_id: str, delta: int) -> None:
        parent = drive.items[parent_id]
        parent.child_count += delta
        # A folder's childCount changed: Graph reports the parent again in delta.
        parent.seq = drive.log.record(parent.id)

    def ensure_folder(self, drive_id: str, path: list[str]) -> SimItem:
        drive = self.drives[drive_id]
        parent = drive.items[drive.root_id]
        for part in path:
            found_id = drive.folders.get((parent.id, part))
            found = drive.items[found_id] if found_id else None
            if found is None or found.deleted:
                found = SimItem(
                    self.new_item_id(),
                    drive_id,
                    part,
                    parent.id,
                    self.epoch - dt.timedelta(days=200),
                    self.epoch - dt.timedelta(days=200),
                    is_folder=True,
                    created_by=drive.owner_user_id,
                )
                self._insert(drive, found)
                drive.folders[(parent.id, part)] = found.id
            parent = found
        return parent

    def add_file(
        self,
        drive_id: str,
        folder: list[str],
        name: str,
        created: dt.datetime,
        *,
        mime_type: str = "application/octet-stream",
        size: int = 1024,
        created_by: str | None = None,
        teams_recording: bool = False,
        label: Label | None = None,
        item_id: str | None = None,
    ) -> SimItem:
        parent = self.ensure_folder(drive_id, folder)
        item = SimItem(
            item_id or self.new_item_id(),
            drive_id,
            name,
            parent.id,
            created,
            created,
            mime_type=mime_type,
            size=size,
            created_by=created_by,
            teams_recording=teams_recording,
            label=label,
        )
        self._insert(self.drives[drive_id], item)
        return item

    def get_item(self, drive_id: str, item_id: str) -> SimItem | None:
        drive = self.drives.get(drive_id)
        return drive.items.get(item_id) if drive else None

    def find_item(self, ref: str) -> SimItem:
        item_id = self.resolve(ref)
        drive_id = self.item_drive.get(item_id)
        if drive_id is None:
            raise KeyError(f"no item {ref!r}")
        return self.drives[drive_id].items[item_id]

    def touch_item(self, item: SimItem, *, new_version: bool = True) -> None:
        if new_version:
            item.version += 1
        item.modified = self.now
        item.seq = self.drives[item.drive_id].log.record(item.id)

    def delete_item(self, item: SimItem, *, by: str = "app", permanent: bool = False) -> None:
        """Delete an item and everything under it; to the recycle bin unless permanent."""
        drive = self.drives[item.drive_id]
        for victim in [item, *self._descendants(drive, item)]:
            if victim.deleted:
                continue
            victim.deleted = True
            victim.purged = permanent
            victim.seq = drive.log.record(victim.id)
        if not permanent:
            self.recycle_bin[(drive.id, item.id)] = RecycledItem(drive.id, item.id, item.name, self.now, by)
        if item.parent_id is not None:
            self._change_child_count(drive, item.parent_id, -1)

    def restore_item(self, drive_id: str, item_id: str) -> SimItem:
        """Restore from the recycle bin with the same id: delta reports it again as a change."""
        entry = self.recycle_bin.pop((drive_id, item_id))
        drive = self.drives[entry.drive_id]
        item = drive.items[item_id]
        for victim in [item, *self._descendants(drive, item)]:
            victim.deleted = False
            victim.seq = drive.log.record(victim.id)
        if item.parent_id is not None:
            self._change_child_count(drive, item.parent_id, +1)
        return item

    def _descendants(self, drive: SimDrive, item: SimItem) -> list[SimItem]:
        if not item.is_folder:
            return []
        out: list[SimItem] = []
        frontier = {item.id}
        for other_id in drive.order:  # creation order: parents come before their children
            other = drive.items[other_id]
            if other.parent_id in frontier:
                out.append(other)
                if other.is_folder:
                    frontier.add(other.id)
        return out

    def set_label(self, item: SimItem, label: Label | None) -> None:
        item.label = label
        if label is not None and label.applied_at is None:
            label.applied_at = self.now
        self.touch_item(item)  # a label is list-item metadata: SharePoint gives the item a new eTag

    def item_path(self, item: SimItem) -> str:
        """``/drive/root:/A/B`` of the folder holding ``item`` (Graph's parentReference.path)."""
        drive = self.drives[item.drive_id]
        parts: list[str] = []
        parent_id = item.parent_id
        while parent_id is not None and parent_id != drive.root_id:
            parent = drive.items[parent_id]
            parts.append(parent.name)
            parent_id = parent.parent_id
        return "/drive/root:" + "".join("/" + p for p in reversed(parts))

    # --- clock and events ----------------------------------------------------------------------------
    def schedule(self, at: dt.datetime, kind: str, params: dict[str, Any]) -> ScheduledEvent:
        if at.tzinfo is None:
            raise ValueError("event times must be timezone-aware")
        event = ScheduledEvent(at, self._scheduled, kind, params)
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
            fired.append(apply_event(self, event))
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
            i for d in self.drives.values() for i in d.items.values() if i.teams_recording and not i.deleted
        ]
