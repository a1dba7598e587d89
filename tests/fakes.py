"""A small in-memory stand-in for the Graph gateway, for cycle tests that need no HTTP.

End-to-end paths use the simulator; this fake keeps the cycle's own logic tests fast and exact.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from teamsretention.domain import DriveKind, LabelStatus, Person, RetentionLabel
from teamsretention.errors import ForbiddenError, GraphError, LockedError, NotFoundError, TransientGraphError
from teamsretention.ports import (
    DeltaPage,
    DirectoryPage,
    DriveRef,
    ItemChange,
    ItemFacets,
    ItemState,
    OutgoingMail,
    Team,
    TeamDrives,
    TeamsPage,
)

_etags = itertools.count(1)


@dataclass
class FakeItem:
    id: str
    name: str
    created_at: dt.datetime
    parent_id: str
    is_folder: bool = False
    label: RetentionLabel = field(default_factory=lambda: RetentionLabel(status=LabelStatus.NONE))
    etag: str = field(default_factory=lambda: f'"{{{next(_etags):08d}}},1"')
    version: int = 0
    deleted: bool = False
    teams_facets: bool = True
    web_url: str | None = None


class FakeGateway:
    def __init__(self) -> None:
        self.users: dict[str, Person] = {}
        self.onedrive: dict[str, str] = {}  # user id -> drive id
        self.items: dict[str, dict[str, FakeItem]] = {}  # drive id -> items
        self.clock = 0  # change counter for delta
        self.sent: list[tuple[str, OutgoingMail]] = []
        self.deleted: list[tuple[str, str, str | None, bool]] = []
        self.fail_mail: set[str] = set()  # recipient addresses whose send is refused (429)
        self.delete_errors: dict[str, GraphError] = {}  # item id -> error raised on delete
        self.fail_delta: set[str] = set()  # drive ids whose delta fails
        self.hook_before_delete: object = None  # optional callable(item_id)
        self.lost_answers: set[str] = set()  # item ids whose delete is carried out but answered with a timeout
        self.unanswered: set[str] = set()  # item ids whose delete times out without being carried out
        self.lost_mail_answers: set[str] = set()  # recipients whose mail is accepted but answered with a timeout
        self.no_mailbox: set[str] = set()  # user ids whose mail address has no mailbox behind it
        self.roles: frozenset[str] | None = None  # the token's roles claim; None: no token to read

    # --- building the tenant -------------------------------------------------------------------
    def add_user(self, uid: str, *, mail: str | None = None, lang: str | None = "en-US", enabled: bool = True,
                 onedrive: bool = True) -> None:
        self.users[uid] = Person(id=uid, display_name=uid.title(), upn=f"{uid}@contoso.example",
                                 mail=mail if mail is not None else f"{uid}@contoso.example",
                                 preferred_language=lang, account_enabled=enabled)
        if onedrive:
            drive = f"drive-{uid}"
            self.onedrive[uid] = drive
            self.clock += 1
            self.items[drive] = {
                "root": FakeItem("root", "root", dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "", True, version=self.clock),
                "rec": FakeItem("rec", "Recordings", dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "root", True,
                                version=self.clock),
            }

    def add_recording(self, uid: str, item_id: str, created_at: dt.datetime, *, name: str | None = None,
                      label: RetentionLabel | None = None, web_url: str | None = None) -> None:
        self.clock += 1
        item = FakeItem(item_id, name or f"Weekly sync-{created_at:%Y%m%d_%H%M%S}-Meeting Recording.mp4",
                        created_at, "rec", version=self.clock, web_url=web_url)
        if label is not None:
            item.label = label
        self.items[self.onedrive[uid]][item_id] = item

    def touch(self, drive: str, item_id: str, **changes: object) -> None:
        self.clock += 1
        item = self.items[drive][item_id]
        for k, v in changes.items():
            setattr(item, k, v)
        item.version = self.clock

    # --- GraphGateway ----------------------------------------------------------------------------
    async def users_delta(self, delta_link: str | None) -> AsyncIterator[DirectoryPage]:
        yield DirectoryPage(users=list(self.users.values()), delta_link="users-link", reset=delta_link is None)

    async def group_member_ids(self, group_id: str) -> set[str]:
        return set(self.users)

    async def get_user(self, user_id: str) -> Person | None:
        return self.users.get(user_id)

    async def get_user_drive(self, user: Person) -> DriveRef | None:
        drive = self.onedrive.get(user.id)
        return DriveRef(drive, DriveKind.ONEDRIVE, owner_id=user.id, name=user.upn) if drive else None

    async def teams_delta(self, delta_link: str | None) -> AsyncIterator[TeamsPage]:
        yield TeamsPage(teams=[], delta_link="teams-link", reset=delta_link is None)

    async def get_team_drives(self, team: Team) -> TeamDrives:
        return TeamDrives()

    async def drive_delta(self, drive_id: str, delta_link: str | None) -> AsyncIterator[DeltaPage]:
        if drive_id in self.fail_delta:
            raise TransientGraphError(503, "serviceNotAvailable", "try later")
        since = int(delta_link.split(":")[1]) if delta_link else -1
        changes = [self._change(i) for i in self.items[drive_id].values() if i.version > since]
        yield DeltaPage(items=changes, delta_link=f"{drive_id}:{self.clock}", reset=delta_link is None)

    def _change(self, i: FakeItem) -> ItemChange:
        if i.deleted:
            return ItemChange(id=i.id, deleted=True, is_folder=i.is_folder, parent_id=i.parent_id)
        return ItemChange(id=i.id, name=i.name, is_folder=i.is_folder, is_root=i.id == "root",
                          parent_id=i.parent_id or None, created_at=i.created_at, etag=i.etag,
                          web_url=i.web_url, mime_type=None if i.is_folder else "video/mp4",
                          source_application="teams" if i.teams_facets and not i.is_folder else None,
                          content_category="meeting" if i.teams_facets and not i.is_folder else None)

    def _find(self, drive_id: str, item_id: str) -> FakeItem | None:
        item = self.items.get(drive_id, {}).get(item_id)
        return None if item is None or item.deleted else item

    async def reread_item(self, drive_id: str, item_id: str) -> ItemState | None:
        item = self._find(drive_id, item_id)
        if item is None:
            return None
        folders = self.items[drive_id]
        parent = folders.get(item.parent_id)
        path = f"/drives/{drive_id}/root:" + (f"/{parent.name}" if parent and parent.id != "root" else "")
        facets = item.teams_facets and not item.is_folder
        return ItemState(etag=item.etag, name=item.name, label=item.label, parent_id=item.parent_id,
                         parent_path=path, mime_type=None if item.is_folder else "video/mp4",
                         source_application="teams" if facets else None, content_category="meeting" if facets else None)

    async def read_beta_facets(self, drive_id: str, item_id: str) -> ItemFacets | None:
        item = self._find(drive_id, item_id)
        return None if item is None else ItemFacets("teams", "meeting")

    async def team_owners(self, team_id: str) -> list[Person]:
        return []

    async def granted_roles(self) -> frozenset[str] | None:
        return self.roles

    async def has_mailbox(self, user_id: str) -> bool | None:
        return user_id not in self.no_mailbox

    async def delete_item(self, drive_id: str, item_id: str, etag: str | None, permanent: bool) -> None:
        if callable(self.hook_before_delete):
            self.hook_before_delete(item_id)
        if item_id in self.delete_errors:
            raise self.delete_errors[item_id]
        item = self._find(drive_id, item_id)
        if item is None:
            raise NotFoundError(404, "itemNotFound", "gone")
        if item_id in self.unanswered:
            raise TransientGraphError(0, "timeout", "ReadTimeout")
        self.deleted.append((drive_id, item_id, etag, permanent))
        self.touch(drive_id, item_id, deleted=True)
        if item_id in self.lost_answers:
            raise TransientGraphError(0, "timeout", "ReadTimeout")

    def restore(self, drive_id: str, item_id: str) -> None:
        self.touch(drive_id, item_id, deleted=False)

    async def send_mail(self, sender: str, mail: OutgoingMail) -> None:
        if set(mail.to) & self.fail_mail:  # a definite refusal: throttled past every resend
            raise TransientGraphError(429, "TooManyRequests", "mail service throttled")
        self.sent.append((sender, mail))
        if set(mail.to) & self.lost_mail_answers:
            raise TransientGraphError(0, "timeout", "ReadTimeout")

    async def aclose(self) -> None:
        return None


LOCKED = LockedError(423, "resourceLocked", "The resource you are attempting to access is locked")
FORBIDDEN = ForbiddenError(403, "accessDenied", "Access denied")
