"""Step 1 of the cycle: which drives are in scope, and what recordings they hold.

get → transform → load, per drive, page by page: a delta page is applied to the store as soon as it
arrives (flat memory), and the drive's deltaLink is stored only when the whole feed was read. A drive whose
feed broke off is marked incomplete: its recordings get neither warnings nor deletions this cycle (the
partial result never drives a deletion), and the next cycle replays the same deltaLink.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .domain import DriveKind, Person
from .errors import GraphError
from .policy import recorded_date
from .ports import DriveRef, GraphGateway, ItemChange, Team
from .recognize import Verdict, classify, is_recordings_folder_name, is_video
from .store import Database
from .store.tables import AuditRow, DriveRow, FolderRow, PersonRow, RecordingRow, TeamRow

log = structlog.get_logger(__name__)

USERS_DELTA_KEY = "users_delta"
TEAMS_DELTA_KEY = "teams_delta"
# A user without a OneDrive may get one later, and channel lists change without any group change:
# look again after this long rather than on every cycle (each look costs a request per user or team).
RECHECK_AFTER = dt.timedelta(days=7)


@dataclass
class ScopeRules:
    include_groups: list[str] = field(default_factory=list)
    exclude_users: list[str] = field(default_factory=list)
    onedrive: bool = True
    channel_sites: bool = True
    teams: list[str] = field(default_factory=list)


@dataclass
class InventoryStats:
    users_in_scope: int = 0
    users_without_onedrive: int = 0
    drives: int = 0
    drives_incomplete: list[str] = field(default_factory=list)
    directory_errors: list[str] = field(default_factory=list)
    recordings_new: int = 0
    recordings_vanished: int = 0
    recordings_restored: int = 0
    unsure_videos: int = 0


class Inventory:
    def __init__(self, db: Database, gateway: GraphGateway, scope: ScopeRules, timezone: str,
                 clock: Callable[[], dt.datetime], cycle_date: dt.date, run_id: int | None,
                 delete_mode: str = "recycle") -> None:
        self.db, self.gateway, self.scope, self.timezone = db, gateway, scope, timezone
        self.delete_mode = delete_mode
        self.clock, self.cycle_date, self.run_id = clock, cycle_date, run_id
        self.stats = InventoryStats()
        self.checkpoint: Callable[[], None] = lambda: None  # the cycle's: keeps its lock alive

    # --- directory ----------------------------------------------------------------------------
    async def sync_directory(self) -> list[DriveRow]:
        """Refresh people and teams from their delta feeds and return the drives in scope."""
        try:
            await self._sync_users()
        except GraphError as exc:
            self.stats.directory_errors.append(f"users: {exc}")
            log.warning("directory.users_failed", error=str(exc))
        try:
            if self.scope.channel_sites:
                await self._sync_teams()
        except GraphError as exc:
            self.stats.directory_errors.append(f"teams: {exc}")
            log.warning("directory.teams_failed", error=str(exc))
        try:
            in_scope = await self._people_in_scope()
        except GraphError as exc:
            # Scope unknown (a group's members could not be read): keep last cycle's drives in scope
            # rather than dropping or adding anyone on a guess.
            self.stats.directory_errors.append(f"scope groups: {exc}")
            with self.db.session() as s:
                drives = list(s.scalars(select(DriveRow).where(DriveRow.in_scope.is_(True)).order_by(DriveRow.id)))
            self.stats.drives = len(drives)
            return drives
        drive_ids: set[str] = set()
        if self.scope.onedrive:
            drive_ids |= await self._resolve_onedrives(in_scope)
        if self.scope.channel_sites:
            drive_ids |= await self._resolve_team_drives()
        with self.db.session() as s:
            s.execute(update(DriveRow).values(in_scope=False))
            if drive_ids:
                s.execute(update(DriveRow).where(DriveRow.id.in_(drive_ids)).values(in_scope=True))
            drives = list(s.scalars(select(DriveRow).where(DriveRow.in_scope.is_(True)).order_by(DriveRow.id)))
        self.stats.drives = len(drives)
        return drives

    async def _sync_users(self) -> None:
        await self._sync_feed(USERS_DELTA_KEY, self.gateway.users_delta, PersonRow,
                              lambda page: page.users, _upsert_person)

    async def _sync_teams(self) -> None:
        await self._sync_feed(TEAMS_DELTA_KEY, self.gateway.teams_delta, TeamRow,
                              lambda page: page.teams, _upsert_team)

    async def _sync_feed(self, key: str, feed: Callable[[str | None], AsyncIterator[Any]],
                         table: type[PersonRow] | type[TeamRow], listed: Callable[[Any], list[Any]],
                         upsert: Callable[[Session, Any], None]) -> None:
        """Apply a directory delta feed page by page; store its deltaLink only once it was read to the end."""
        link = self.db.get_state(key)
        seen: set[str] | None = None
        async for page in feed(link):
            if page.reset:
                seen = set()
            with self.db.session() as s:
                for entry in listed(page):
                    upsert(s, entry)
                    if seen is not None:
                        seen.add(entry.id)
                for removed in page.removed_ids:
                    row = s.get(table, removed)
                    if row is not None:
                        row.removed = True
            if page.delta_link:
                link = page.delta_link
        with self.db.session() as s:
            if seen is not None:  # a full enumeration: whatever it did not list is gone
                s.execute(update(table).where(table.id.not_in(seen) if seen else True).values(removed=True))
        self.db.set_state(key, link)

    async def _people_in_scope(self) -> list[PersonRow]:
        allowed: set[str] | None = None
        if self.scope.include_groups:
            allowed = set()
            for group in self.scope.include_groups:
                allowed |= await self.gateway.group_member_ids(group)
        excluded = {u.lower() for u in self.scope.exclude_users}
        with self.db.session() as s:
            people = list(s.scalars(select(PersonRow).where(PersonRow.removed.is_(False))))
        chosen = [p for p in people
                  if (allowed is None or p.id in allowed)
                  and p.id.lower() not in excluded and p.upn.lower() not in excluded]
        self.stats.users_in_scope = len(chosen)
        return chosen

    async def _resolve_onedrives(self, people: list[PersonRow]) -> set[str]:
        now = self.clock()
        found: set[str] = set()
        for person in people:
            recheck = person.drive_checked_at is None or now - person.drive_checked_at > RECHECK_AFTER
            if person.drive_id is None and (not person.no_onedrive or recheck):
                try:
                    drive = await self.gateway.get_user_drive(person_from_row(person))
                except GraphError as exc:  # one user's failure must not stop the tenant's cycle
                    self.stats.directory_errors.append(f"OneDrive of {person.upn or person.id}: {exc}")
                    continue
                with self.db.session() as s:
                    row = s.get(PersonRow, person.id)
                    assert row is not None
                    row.drive_checked_at = now
                    row.no_onedrive = drive is None
                    row.drive_id = drive.id if drive else None
                    if drive is not None:
                        _upsert_drive(s, drive)
                person.drive_id, person.no_onedrive = row.drive_id, row.no_onedrive
            if person.drive_id:
                found.add(person.drive_id)
            elif person.no_onedrive:
                self.stats.users_without_onedrive += 1
        return found

    async def _resolve_team_drives(self) -> set[str]:
        now = self.clock()
        wanted = {t.lower() for t in self.scope.teams}
        with self.db.session() as s:
            teams = list(s.scalars(select(TeamRow).where(TeamRow.removed.is_(False))))
        found: set[str] = set()
        for team in teams:
            if wanted and team.id.lower() not in wanted and team.display_name.lower() not in wanted:
                continue
            stale = team.drives_checked_at is None or now - team.drives_checked_at > RECHECK_AFTER
            if stale:
                try:
                    drives = await self.gateway.get_team_drives(Team(team.id, team.display_name))
                except GraphError as exc:
                    self.stats.directory_errors.append(f"team {team.display_name}: {exc}")
                    found |= set(team.drive_ids or [])
                    continue
                with self.db.session() as s:
                    row = s.get(TeamRow, team.id)
                    assert row is not None
                    row.drive_ids = [d.id for d in drives]
                    row.drives_checked_at = now
                    for drive in drives:
                        _upsert_drive(s, drive)
                team.drive_ids = [d.id for d in drives]
            found |= set(team.drive_ids or [])
        return found

    # --- drives -------------------------------------------------------------------------------
    async def sync_drive(self, drive: DriveRow) -> bool:
        """Read the drive's changes; True when the feed was read to its deltaLink."""
        generation = drive.sync_generation
        full = False
        final_link: str | None = None
        pending: dict[str, ItemChange] = {}  # videos whose parent folder had not been seen yet, by id
        try:
            async for page in self.gateway.drive_delta(drive.id, drive.delta_link):
                self.checkpoint()  # a long drive keeps the cycle lock alive, and stops if it was lost
                if page.reset:  # a (re)started full enumeration: earlier pages of this feed no longer count
                    full, generation = True, generation + 1
                    pending.clear()
                for item in page.items:  # a later state of an item replaces any waiting earlier one
                    pending.pop(item.id, None)
                with self.db.session() as s:
                    pending.update((i.id, i) for i in self._apply_page(s, drive, page.items, generation))
                if page.delta_link:
                    final_link = page.delta_link
            if final_link is None:
                raise GraphError(0, "incompleteFeed", "the delta feed ended without a deltaLink")
        except GraphError as exc:
            with self.db.session() as s:
                row = s.get(DriveRow, drive.id)
                assert row is not None
                row.complete, row.last_error = False, str(exc)
            self.stats.drives_incomplete.append(drive.id)
            log.warning("drive.incomplete", drive_id=drive.id, error=str(exc))
            return False
        with self.db.session() as s:
            for item in pending.values():
                self._apply_file(s, drive, item, generation, final=True)
            if full:
                self._forget_unlisted(s, drive, generation)
            row = s.get(DriveRow, drive.id)
            assert row is not None
            row.delta_link, row.complete, row.last_error = final_link, True, None
            row.sync_generation, row.last_sync_at = generation, self.clock()
        return True

    def _apply_page(self, s: Session, drive: DriveRow, items: list[ItemChange], gen: int) -> list[ItemChange]:
        latest: dict[str, ItemChange] = {}
        for item in items:  # one feed may list an item twice: the last one wins
            latest.pop(item.id, None)
            latest[item.id] = item
        for item in latest.values():
            if item.is_folder or item.is_root:
                self._apply_folder(s, drive, item)
        pending = []
        for item in latest.values():
            is_file = not (item.is_folder or item.is_root)
            if is_file and not self._apply_file(s, drive, item, gen, final=False):
                pending.append(item)
        return pending

    def _apply_folder(self, s: Session, drive: DriveRow, item: ItemChange) -> None:
        row = s.get(FolderRow, (drive.id, item.id))
        if item.deleted:
            if row is not None:
                s.delete(row)
            return
        if item.is_root:
            drive_row = s.get(DriveRow, drive.id)
            if drive_row is not None:
                drive_row.root_id = item.id
        if row is None:
            s.add(FolderRow(drive_id=drive.id, item_id=item.id, name=item.name or "",
                            parent_id=item.parent_id, is_root=item.is_root))
        else:
            row.name, row.parent_id = item.name or row.name, item.parent_id

    def _in_recordings_folder(self, s: Session, drive: DriveRow, parent_id: str | None) -> bool | None:
        """None when the parent folder is not known yet."""
        if parent_id is None:
            return False
        parent = s.get(FolderRow, (drive.id, parent_id))
        if parent is None:
            return None
        if not is_recordings_folder_name(parent.name):
            return False
        # OneDrive: /Recordings; team sites: /<channel folder>/Recordings
        if parent.parent_id is None:
            return False
        grand = s.get(FolderRow, (drive.id, parent.parent_id))
        if grand is None:
            return False
        if grand.is_root:
            return True
        if drive.kind != DriveKind.CHANNEL.value or grand.parent_id is None:
            return False
        great = s.get(FolderRow, (drive.id, grand.parent_id))
        return great is not None and great.is_root

    def _apply_file(self, s: Session, drive: DriveRow, item: ItemChange, gen: int, final: bool) -> bool:
        """Returns False when the item must wait for its parent folder (not final yet)."""
        row = s.scalar(select(RecordingRow).where(RecordingRow.drive_id == drive.id,
                                                  RecordingRow.item_id == item.id))
        if item.deleted:
            if row is not None and row.state == "tracked" and row.delete_attempted_at is not None:
                self._record_our_deletion(s, row)
            elif row is not None and row.state == "tracked":
                row.state = "gone"
                self._audit(s, "vanished", row, "Deleted in Microsoft 365 outside teamsretention "
                            "(by a person or another policy); no longer tracked.")
                self.stats.recordings_vanished += 1
            return True
        if not is_video(item):
            return True
        in_folder = self._in_recordings_folder(s, drive, item.parent_id)
        if in_folder is None and not final:
            return False
        verdict = classify(item, bool(in_folder))
        if verdict is Verdict.UNSURE:
            self.stats.unsure_videos += 1
        if verdict is not Verdict.RECORDING or item.created_at is None:
            if row is not None and row.state == "tracked":
                row.state = "gone"
                self._audit(s, "untracked", row, "No longer recognised as a Teams recording (moved or "
                            "renamed); teamsretention will not delete it.")
            return True
        now = self.clock()
        organizer = drive.owner_id if drive.kind == DriveKind.ONEDRIVE.value else item.created_by_id
        if row is None:
            row = RecordingRow(drive_id=drive.id, item_id=item.id, name=item.name or "", created_at=item.created_at,
                               recorded_on=recorded_date(item.created_at, self.timezone), etag=item.etag,
                               web_url=item.web_url, organizer_id=organizer, drive_kind=drive.kind,
                               size=item.size, first_seen=now, last_seen=now, sync_generation=gen,
                               state="tracked", restored_dates=[], blocked_attempts=0)
            s.add(row)
            s.flush()
            self.stats.recordings_new += 1
            self._audit(s, "discovered", row, f"Teams recording found, recorded {row.recorded_on.isoformat()}.")
        else:
            if row.state == "deleted":
                row.restored_dates = [*row.restored_dates, self.cycle_date.isoformat()]
                self.stats.recordings_restored += 1
                self._audit(s, "restored", row, "Reappeared after teamsretention deleted it (restored from the "
                            "recycle bin): a new notice episode starts, with fresh warnings.")
            elif row.state == "gone":
                # Whoever brought it back may be counting on it: it gets fresh warnings, like a restore.
                row.restored_dates = [*row.restored_dates, self.cycle_date.isoformat()]
                self._audit(s, "reappeared", row, "Reappeared after it was deleted or moved away outside "
                            "teamsretention: a new notice episode starts, with fresh warnings.")
            row.state, row.delete_attempted_at = "tracked", None  # listed alive: no delete of ours is pending
            row.name, row.etag, row.web_url = item.name or row.name, item.etag, item.web_url
            row.size, row.last_seen, row.sync_generation = item.size, now, gen
            row.organizer_id = organizer or row.organizer_id
        return True

    def _record_our_deletion(self, s: Session, row: RecordingRow) -> None:
        """Our delete request got no definite answer (timeout, shutdown); its effect shows now."""
        assert row.delete_attempted_at is not None
        row.state, row.deleted_at = "deleted", row.delete_attempted_at
        row.deleted_on = recorded_date(row.delete_attempted_at, self.timezone)
        row.delete_mode = row.delete_mode or self.delete_mode
        row.deletion_reported, row.delete_attempted_at = False, None
        self._audit(s, "deleted", row, "Deleted by teamsretention: the delete request sent on "
                    f"{row.deleted_on} got no answer, and the file has since left the drive.",
                    rule=row.rule, due=row.due)

    def _forget_unlisted(self, s: Session, drive: DriveRow, generation: int) -> None:
        """After a full enumeration, tracked recordings it did not list are gone."""
        for row in s.scalars(select(RecordingRow).where(RecordingRow.drive_id == drive.id,
                                                        RecordingRow.state == "tracked",
                                                        RecordingRow.sync_generation < generation)):
            if row.delete_attempted_at is not None:
                self._record_our_deletion(s, row)
                continue
            row.state = "gone"
            self.stats.recordings_vanished += 1
            self._audit(s, "vanished", row, "Not listed by a full re-enumeration of its drive; no longer tracked.")

    def _audit(self, s: Session, event: str, row: RecordingRow, reason: str, *, rule: str | None = None,
               due: dt.date | None = None) -> None:
        s.add(AuditRow(at=self.clock(), cycle_date=self.cycle_date, run_id=self.run_id, event=event,
                       recording_key=f"{row.drive_id}/{row.item_id}", recording_name=row.name,
                       organizer_id=row.organizer_id, rule=rule, due=due, reason=reason, detail={}))


def _upsert_person(s: Session, p: Person) -> None:
    row = s.get(PersonRow, p.id)
    if row is None:
        s.add(PersonRow(id=p.id, display_name=p.display_name, upn=p.upn, mail=p.mail,
                        preferred_language=p.preferred_language, account_enabled=p.account_enabled,
                        removed=False, no_onedrive=False))
        return
    row.display_name, row.upn, row.mail = p.display_name, p.upn, p.mail
    row.preferred_language, row.account_enabled, row.removed = p.preferred_language, p.account_enabled, False


def _upsert_team(s: Session, team: Team) -> None:
    row = s.get(TeamRow, team.id)
    if row is None:
        s.add(TeamRow(id=team.id, display_name=team.display_name, drive_ids=[]))
    else:
        row.display_name, row.removed = team.display_name, False


def _upsert_drive(s: Session, d: DriveRef) -> None:
    row = s.get(DriveRow, d.id)
    if row is None:
        s.add(DriveRow(id=d.id, kind=d.kind.value, owner_id=d.owner_id, team_id=d.team_id, name=d.name,
                       in_scope=True, complete=False, sync_generation=0))
    else:
        row.kind, row.owner_id, row.team_id, row.name = d.kind.value, d.owner_id, d.team_id, d.name


def person_from_row(row: PersonRow) -> Person:
    """A removed user (left the organisation) counts as unreachable, like a disabled one."""
    return Person(id=row.id, display_name=row.display_name, upn=row.upn, mail=row.mail,
                  preferred_language=row.preferred_language, account_enabled=row.account_enabled and not row.removed)
