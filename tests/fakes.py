"""A small in-memory stand-in for the Graph gateway, for cycle tests that need no HTTP.

End-to-end paths use the simulator; this fake keeps the cycle's own logic tests fast and exact.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from teamsretention.domain import DriveKind, LabelStatus, Person, RecordingRef, RetentionLabel
from teamsretention.errors import ForbiddenError, GraphError, LockedError, NotFoundError, TransientGraphError
from teamsretention.lists import Column, ColumnKind
from teamsretention.ports import (
    DeltaPage,
    DirectoryPage,
    DriveRef,
    Identity,
    ItemChange,
    ItemFacets,
    ItemState,
    LabelRead,
    ListColumnInfo,
    ListDeltaPage,
    ListInfo,
    ListItemChange,
    ListItemVersion,
    OutgoingMail,
    SharedItem,
    SiteInfo,
    Team,
    TeamDrives,
    TeamsPage,
)

_etags = itertools.count(1)
_COLUMN_KIND = {ColumnKind.TEXT: "text", ColumnKind.NOTE: "text", ColumnKind.CHOICE: "choice",
                ColumnKind.DATE: "dateTime"}


@dataclass
class FakeListItem:
    id: str
    fields: dict[str, object]
    created_by: Identity
    versions: list[ListItemVersion]  # newest first, as Graph lists them
    version: int = 0  # change counter for delta
    deleted: bool = False
    created_at: dt.datetime | None = None  # the item's createdDateTime (None: its oldest version's time)


@dataclass
class FakeList:
    info: ListInfo
    items: dict[str, FakeListItem] = field(default_factory=dict)
    clock: int = 0
    versioning: bool = True  # False: every edit saves over the newest version (a new list's only one: 1.0)

    def change(self) -> int:
        self.clock += 1
        return self.clock


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
        self.groups: dict[str, set[str]] = {}  # user id -> transitive group ids
        self.fail_groups: set[str] = set()  # user ids whose group memberships cannot be read
        self.site: SiteInfo | None = None
        self.lists: dict[str, FakeList] = {}  # display name -> list
        self.lists_made = 0  # lists ever created (list ids are never reused, as Graph's GUIDs are not)
        self.list_calls = 0  # requests for shares, groups, sites and lists
        self.delta_identities = False  # True: delta items carry createdBy/lastModifiedBy ids (Graph documents no ids)
        self.label_batches: list[int] = []  # the size of every get_items_with_labels call
        self.single_reads: list[str] = []  # the item of every reread_item call (one GET each)
        self.drive_batches: list[int] = []  # the size of every get_user_drives call
        self.mailbox_batches: list[list[str]] = []  # the users of every have_mailboxes call
        self.read_errors: dict[str, GraphError] = {}  # item id -> error its label read ends in

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
        """By object id or by UPN, as Graph's /users/{id | userPrincipalName}."""
        return self.users.get(user_id) or next((u for u in self.users.values() if u.upn.lower() == user_id.lower()),
                                               None)

    async def get_user_drive(self, user: Person) -> DriveRef | None:
        """One user's answer (raises for a failed lookup): what ``get_user_drives`` gives for each user, so a
        test that replaces it is heard there too."""
        drive = self.onedrive.get(user.id)
        return DriveRef(drive, DriveKind.ONEDRIVE, owner_id=user.id, name=user.upn) if drive else None

    async def get_user_drives(self, users: Sequence[Person]) -> dict[str, DriveRef | None | GraphError]:
        """As the gateway's $batch: every user answered, a failed lookup as its error."""
        self.drive_batches.append(len(users))
        out: dict[str, DriveRef | None | GraphError] = {}
        for user in users:
            try:
                out[user.id] = await self.get_user_drive(user)
            except GraphError as exc:
                out[user.id] = exc
        return out

    async def teams_delta(self, delta_link: str | None) -> AsyncIterator[TeamsPage]:
        yield TeamsPage(teams=[], delta_link="teams-link", reset=delta_link is None)

    async def get_team_drives(self, team: Team) -> TeamDrives:
        return TeamDrives()

    async def drive_delta(self, drive_id: str, delta_link: str | None, *,
                          videos_only: bool = False) -> AsyncIterator[DeltaPage]:
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
        """One item's fresh read on its own (a GET): recorded in ``single_reads``."""
        self.single_reads.append(item_id)
        if item_id in self.read_errors:
            raise self.read_errors[item_id]
        return await self._read(drive_id, item_id)

    async def _read(self, drive_id: str, item_id: str) -> ItemState | None:
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

    async def get_items_with_labels(self, refs: Sequence[RecordingRef]) -> dict[RecordingRef, LabelRead]:
        """As the gateway's $batch: every ref answered, a failed read as its error (through ``_read``, so a test
        that replaces it is heard here too)."""
        self.label_batches.append(len(refs))
        out: dict[RecordingRef, LabelRead] = {}
        for ref in refs:
            try:
                if ref.item_id in self.read_errors:
                    raise self.read_errors[ref.item_id]
                out[ref] = await self._read(ref.drive_id, ref.item_id)
            except GraphError as exc:
                out[ref] = exc
        return out

    async def read_beta_facets(self, drive_id: str, item_id: str) -> ItemFacets | None:
        item = self._find(drive_id, item_id)
        return None if item is None else ItemFacets("teams", "meeting")

    async def team_owners(self, team_id: str) -> list[Person]:
        return []

    async def granted_roles(self) -> frozenset[str] | None:
        return self.roles

    async def have_mailboxes(self, user_ids: Sequence[str]) -> dict[str, bool | None | GraphError]:
        self.mailbox_batches.append(list(user_ids))
        return {uid: uid not in self.no_mailbox for uid in user_ids}

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

    # --- shares, groups, sites and lists -----------------------------------------------------------
    async def resolve_share(self, web_url: str) -> SharedItem | None:
        self.list_calls += 1
        for drive, items in self.items.items():
            for i in items.values():
                if not i.deleted and web_url.rstrip("/").lower() == f"https://fake/{drive}/{i.id}".lower():
                    return SharedItem(RecordingRef(drive, i.id), i.name, web_url)
        return None

    async def transitive_group_ids(self, user_id: str) -> frozenset[str]:
        self.list_calls += 1
        if user_id in self.fail_groups:
            raise TransientGraphError(503, "serviceUnavailable", "groups unavailable")
        return frozenset(self.groups.get(user_id, ()))

    async def get_site(self, site: str) -> SiteInfo | None:
        self.list_calls += 1
        return self.site if self.site is not None and site in (self.site.id, self.site.web_url) else None

    async def get_list(self, site_id: str, display_name: str) -> ListInfo | None:
        self.list_calls += 1
        found = self.lists.get(display_name)
        return found.info if found is not None else None

    async def create_list(self, site_id: str, display_name: str, columns: tuple[Column, ...]) -> ListInfo:
        self.list_calls += 1
        self.lists_made += 1
        info = ListInfo(id=f"list-{self.lists_made}", display_name=display_name,
                        web_url=f"{self.site.web_url if self.site else 'https://fake'}/Lists/{display_name}",
                        columns=(ListColumnInfo("Title", "Title", "text", required=True),
                                 *(_column_info(c) for c in columns)))
        self.lists[display_name] = FakeList(info)
        return info

    def _list(self, list_id: str) -> FakeList:
        found = next((f for f in self.lists.values() if f.info.id == list_id), None)
        if found is None:
            raise NotFoundError(404, "itemNotFound", f"list {list_id} does not exist")
        return found

    def remove_list(self, display_name: str) -> None:
        """A site owner deletes the list (and may create one of the same name again)."""
        del self.lists[display_name]

    async def add_list_column(self, site_id: str, list_id: str, column: Column) -> None:
        self.list_calls += 1
        fake = self._list(list_id)
        fake.info = ListInfo(fake.info.id, fake.info.display_name, fake.info.web_url,
                             (*fake.info.columns, _column_info(column)))

    async def list_items_delta(self, site_id: str, list_id: str,
                               delta_link: str | None) -> AsyncIterator[ListDeltaPage]:
        self.list_calls += 1
        fake = self._list(list_id)
        since = int(delta_link.rsplit("=", 1)[1]) if delta_link else 0
        changed = [i for i in fake.items.values() if i.version > since]
        yield ListDeltaPage(
            [ListItemChange(i.id, deleted=True) if i.deleted else ListItemChange(
                i.id, fields=dict(i.fields), created_by=self._delta_identity(i.created_by),
                last_modified_by=self._delta_identity(i.versions[0].modified_by) if self.delta_identities else None,
                created_at=i.created_at or i.versions[-1].modified_at, modified_at=i.versions[0].modified_at,
                etag=f'"{{{uuid.uuid5(uuid.NAMESPACE_URL, list_id + "/" + i.id)}}},{len(i.versions)}"'.upper())
             for i in changed],
            delta_link=f"fake-list-delta?token={fake.clock}", reset=delta_link is None)

    def _delta_identity(self, who: Identity | None) -> Identity | None:
        """Graph documents listItem delta's ``createdBy`` with a display name only and no ``lastModifiedBy``;
        ``delta_identities`` = True is the other answer (ids present), for tests that need both."""
        if who is None or self.delta_identities:
            return who
        return Identity(None, who.display_name)

    async def list_item_versions(self, site_id: str, list_id: str, item_id: str) -> list[ListItemVersion]:
        self.list_calls += 1
        fake = self._list(list_id)
        return list(fake.items[item_id].versions)

    # --- editing a list as a person would (tests) ---------------------------------------------------
    def add_list_item(self, list_name: str, by: Identity, at: dt.datetime, **fields: object) -> str:
        fake = self.lists[list_name]
        item_id = str(len(fake.items) + 1)
        fake.items[item_id] = FakeListItem(item_id, dict(fields), by,
                                           [ListItemVersion("1.0", at, by, dict(fields))], fake.change(),
                                           created_at=at)
        return item_id

    def edit_list_item(self, list_name: str, item_id: str, by: Identity, at: dt.datetime, **fields: object) -> None:
        fake = self.lists[list_name]
        item = fake.items[item_id]
        item.fields.update(fields)
        if not fake.versioning:  # the newest version is saved over; older ones (versioning was on) stay
            item.versions[0] = ListItemVersion(item.versions[0].id, at, by, dict(item.fields))
        else:
            item.versions.insert(0, ListItemVersion(f"{len(item.versions) + 1}.0", at, by, dict(item.fields)))
        item.version = fake.change()

    def delete_list_item(self, list_name: str, item_id: str) -> None:
        fake = self.lists[list_name]
        fake.items[item_id].deleted = True
        fake.items[item_id].version = fake.change()

    def web_url(self, drive: str, item_id: str) -> str:
        return f"https://fake/{drive}/{item_id}"

    async def aclose(self) -> None:
        return None


def _column_info(c: Column) -> ListColumnInfo:
    return ListColumnInfo(c.name, c.display_name, _COLUMN_KIND[c.kind], multiline=c.kind is ColumnKind.NOTE,
                          choices=c.choices, required=c.required)


LOCKED = LockedError(423, "resourceLocked", "The resource you are attempting to access is locked")
FORBIDDEN = ForbiddenError(403, "accessDenied", "Access denied")
