"""Step 1a of the cycle: who and what is in scope, from the directory's delta feeds.

People and teams are refreshed from ``/users/delta`` and ``/groups/delta``; a feed's deltaLink is stored
only once it was read to the end. The drives in scope are the OneDrives of the people in scope and the
drives of the teams in scope. One user's or one team's failure never stops the tenant's cycle: it is
reported and the rest is governed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import structlog

from ..domain import DriveKind, Person
from ..errors import GraphError, NotFoundError
from ..ports import DriveRef, GraphGateway, Team
from ..store import directory, recordings
from ..store import drives as drive_store
from ..store.audit import AuditKind
from ..store.directory import StoredPerson
from ..store.drives import StoredDrive
from .config import CycleContext
from .outcome import InventoryStats

log = structlog.get_logger(__name__)

USERS_DELTA_KEY = "users_delta"
TEAMS_DELTA_KEY = "teams_delta"
# A user without a OneDrive may get one later, and channel lists change without any group change:
# look again after this long rather than on every cycle (each look costs a request per user or team).
RECHECK_AFTER = dt.timedelta(days=7)
# OneDrive lookups asked of the gateway (which batches them, 20 per JSON batch) and stored per this many people,
# in one transaction each.
ONEDRIVE_LOOKUP_BATCH = 100


async def user_drive(gateway: GraphGateway, user: Person) -> DriveRef | None:
    """One user's OneDrive through the gateway's batched lookup; the GraphError it ended in is raised."""
    answer = (await gateway.get_user_drives([user])).get(user.id)
    if isinstance(answer, GraphError):
        raise answer
    return answer


class DirectorySync:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self.scope = ctx.config.scope
        self.stats: InventoryStats = ctx.report.inventory

    async def run(self) -> list[StoredDrive]:
        """Refresh people and teams from their delta feeds and return the drives in scope."""
        gateway = self.ctx.gateway
        try:
            await self._sync_feed(USERS_DELTA_KEY, gateway.users_delta, lambda page: page.users,
                                  directory.apply_people, "people")
        except GraphError as exc:
            self.stats.directory_errors.append(f"users: {exc}")
            log.warning("directory.users_failed", error=str(exc))
        try:
            if self.scope.channel_sites:
                await self._sync_feed(TEAMS_DELTA_KEY, gateway.teams_delta, lambda page: page.teams,
                                      directory.apply_teams, "teams")
        except GraphError as exc:
            self.stats.directory_errors.append(f"teams: {exc}")
            log.warning("directory.teams_failed", error=str(exc))
        try:
            in_scope = await self._people_in_scope()
        except GraphError as exc:
            # Scope unknown (a group's members could not be read): keep last cycle's drives in scope
            # rather than dropping or adding anyone on a guess.
            self.stats.directory_errors.append(f"scope groups: {exc}")
            drives = drive_store.in_scope(self.ctx.db)
            self.stats.drives = len(drives)
            return drives
        drive_ids: set[str] = set()
        if self.scope.onedrive:
            drive_ids |= await self._resolve_onedrives(in_scope)
        if self.scope.channel_sites:
            drive_ids |= await self._resolve_team_drives()
        drives = drive_store.set_in_scope(self.ctx.db, drive_ids)
        self.stats.drives = len(drives)
        return drives

    async def _sync_feed(self, key: str, feed: Callable[[str | None], AsyncIterator[Any]],
                         listed: Callable[[Any], list[Any]], apply: Callable[[Any, Iterable[Any], Iterable[str]], None],
                         kind: directory.Feed) -> None:
        """Apply a directory delta feed page by page; store its deltaLink only once it was read to the end."""
        db = self.ctx.db
        link = directory.sync_state(db, key)
        seen: set[str] | None = None
        async for page in feed(link):
            if page.reset:
                seen = set()
            entries = listed(page)
            apply(db, entries, page.removed_ids)
            if seen is not None:
                seen.update(entry.id for entry in entries)
            if page.delta_link:
                link = page.delta_link
        if seen is not None:  # a full enumeration: whatever it did not list is gone
            directory.mark_unlisted_removed(db, kind, seen)
        directory.set_sync_state(db, key, link)

    async def _people_in_scope(self) -> list[StoredPerson]:
        allowed: set[str] | None = None
        if self.scope.include_groups:
            allowed = set()
            for group in self.scope.include_groups:
                allowed |= await self.ctx.gateway.group_member_ids(group)
        excluded = {u.lower() for u in self.scope.exclude_users}
        chosen = [p for p in directory.people(self.ctx.db)
                  if (allowed is None or p.id in allowed)
                  and p.id.lower() not in excluded and p.upn.lower() not in excluded]
        self.stats.users_in_scope = len(chosen)
        return chosen

    async def _resolve_onedrives(self, people: list[StoredPerson]) -> set[str]:
        """Each person's OneDrive: the stored one, or looked up (``GET /users/{id}/drive``) when unknown, or when
        "no OneDrive" is older than ``RECHECK_AFTER``. The gateway sends the lookups in JSON batches (20 per
        request, at most ``graph.max_concurrency`` requests at a time); they are stored a batch at a time, in
        one transaction each."""
        now = self.ctx.clock()
        stale = [p for p in people if p.drive_id is None and (
            not p.no_onedrive or p.drive_checked_at is None or now - p.drive_checked_at > RECHECK_AFTER)]
        fresh = {p.id: p for p in people}
        for start in range(0, len(stale), ONEDRIVE_LOOKUP_BATCH):
            if self.ctx.stop.is_set():
                break
            batch = stale[start:start + ONEDRIVE_LOOKUP_BATCH]
            drives = await self.ctx.gateway.get_user_drives([p.person() for p in batch])
            answers = [drives.get(p.id, GraphError(0, "missingAnswer", "the gateway gave no answer for this user"))
                       for p in batch]
            looked_up: list[tuple[str, DriveRef | None]] = []
            for person, answer in zip(batch, answers, strict=True):
                if isinstance(answer, GraphError):
                    self.stats.directory_errors.append(f"OneDrive of {person.upn or person.id}: {answer}")
                    fresh.pop(person.id)  # not known this cycle: neither in scope nor counted without one
                else:
                    looked_up.append((person.id, answer))
            self.ctx.checkpoint()  # still the cycle holding the lock, before writing
            fresh.update((p.id, p) for p in directory.record_onedrives(self.ctx.db, looked_up, now))
        found: set[str] = set()
        for person in people:
            known = fresh.get(person.id)
            if known is None:
                continue
            if known.drive_id:
                found.add(known.drive_id)
            elif known.no_onedrive:
                self.stats.users_without_onedrive += 1
        return found

    async def _resolve_team_drives(self) -> set[str]:
        now = self.ctx.clock()
        wanted = {t.lower() for t in self.scope.teams}
        found: set[str] = set()
        for team in directory.teams(self.ctx.db):
            if wanted and team.id.lower() not in wanted and team.display_name.lower() not in wanted:
                continue
            stale = team.drives_checked_at is None or now - team.drives_checked_at > RECHECK_AFTER
            if not stale:
                found |= set(team.drive_ids)
                continue
            try:
                listed = await self.ctx.gateway.get_team_drives(Team(team.id, team.display_name))
            except GraphError as exc:
                self.stats.directory_errors.append(f"team {team.display_name}: {exc}")
                found |= set(team.drive_ids)
                continue
            # A channel that could not be read is reported, and the drives known before stay in scope (never
            # dropped on a failed read); the team is looked at again next cycle.
            self.stats.directory_errors.extend(listed.problems)
            keep = team.drive_ids if listed.problems else ()
            directory.record_team_drives(self.ctx.db, team.id, listed.drives, None if listed.problems else now, keep)
            found |= {d.id for d in listed.drives} | set(keep)
        return found

    async def replace_lost_onedrives(self, failed: list[StoredDrive]) -> list[StoredDrive]:
        """A OneDrive whose feed answers 404 may have been re-provisioned: the owner's drive is looked up again.
        A new drive is governed from this cycle on; the old one leaves the scope and its recordings, which Graph
        no longer has, stop being tracked (on record). Returns the new drives, to be read now."""
        db, now = self.ctx.db, self.ctx.clock()
        found: list[StoredDrive] = []
        for drive in failed:
            error = self.stats.drive_errors.get(drive.id)
            if drive.kind is not DriveKind.ONEDRIVE or not isinstance(error, NotFoundError) or not drive.owner_id:
                continue
            person = directory.person(db, drive.owner_id)
            if person is None:
                continue
            try:
                current = await user_drive(self.ctx.gateway, person.person())
            except GraphError as exc:
                self.stats.directory_errors.append(f"OneDrive of {person.upn or person.id}: {exc}")
                continue
            if current is None or current.id == drive.id:
                # The same drive, or none at all (a licence removed for a while, a passing outage): nothing
                # proves the recordings are gone. Kept (fail closed), looked at again next cycle.
                continue
            self._retire(drive, person.upn or person.id)
            directory.record_onedrive(db, person.id, current, now)
            self.stats.drives_incomplete.remove(drive.id)
            self.stats.drive_errors.pop(drive.id, None)
            replacement = drive_store.get(db, current.id)
            if replacement is not None:
                found.append(replacement)
        return found

    def _retire(self, drive: StoredDrive, owner: str) -> None:
        events = []
        for rec in recordings.governed_in_drive(self.ctx.db, drive.id):
            unsettled = (" A delete request of ours to it got no answer and can no longer be settled: it is not "
                         "claimed as ours.") if rec.delete_attempted_at else ""
            events.append(self.ctx.event(AuditKind.VANISHED, rec, reason=(
                f"The OneDrive of {owner} was replaced by a new one (its old drive answers 404): this recording is "
                f"no longer in Microsoft 365 and is no longer tracked.{unsettled}")))
        drive_store.retire(self.ctx.db, drive.id, events)
