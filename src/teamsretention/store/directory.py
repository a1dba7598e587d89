"""The directory as the cycle last saw it: people (with their OneDrive), teams (with their drives) and the
tenant-level delta links of the users and groups feeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Row, Table, bindparam, select, true, update

from ..domain import Person
from ..ports import DriveRef, Team
from . import sets
from .database import Database, chunked
from .drives import upsert_drives
from .tables import PersonRow, SyncStateRow, TeamRow

Feed = Literal["people", "teams"]
_PEOPLE: Table = PersonRow.__table__  # type: ignore[assignment]  # a declarative class's Table
_TEAMS: Table = TeamRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class StoredPerson:
    id: str
    display_name: str
    upn: str
    mail: str | None
    preferred_language: str | None
    account_enabled: bool
    removed: bool
    drive_id: str | None
    no_onedrive: bool
    drive_checked_at: dt.datetime | None
    mailbox: bool | None = None  # True / False as Graph said; None: not checked or could not be told
    mailbox_checked_at: dt.datetime | None = None

    def person(self) -> Person:
        """A removed user (left the organisation) counts as unreachable, like a disabled one."""
        return Person(id=self.id, display_name=self.display_name, upn=self.upn, mail=self.mail,
                      preferred_language=self.preferred_language,
                      account_enabled=self.account_enabled and not self.removed)


@dataclass(frozen=True, slots=True)
class StoredTeam:
    id: str
    display_name: str
    drive_ids: tuple[str, ...]
    drives_checked_at: dt.datetime | None


def _person(row: PersonRow | Row[Any]) -> StoredPerson:
    mailbox = {"yes": True, "no": False}.get(row.mailbox or "")
    return StoredPerson(row.id, row.display_name, row.upn, row.mail, row.preferred_language, row.account_enabled,
                        row.removed, row.drive_id, row.no_onedrive, row.drive_checked_at, mailbox,
                        row.mailbox_checked_at)


# --- delta links --------------------------------------------------------------------------------------
def sync_state(db: Database, key: str) -> str | None:
    with db.session() as s:
        row = s.get(SyncStateRow, key)
        return row.value if row else None


def set_sync_state(db: Database, key: str, value: str | None) -> None:
    with db.session() as s:
        row = s.get(SyncStateRow, key)
        if row is None:
            s.add(SyncStateRow(key=key, value=value))
        else:
            row.value = value


# --- feeds --------------------------------------------------------------------------------------------
def apply_people(db: Database, people: Iterable[Person], removed_ids: Iterable[str]) -> None:
    """One page of the users feed: upsert who it lists, mark who it removes (a few statements per page, none
    per person)."""
    with db.session() as s:
        sets.upsert(s, _PEOPLE, ({"id": p.id, "display_name": p.display_name, "upn": p.upn, "mail": p.mail,
                                  "preferred_language": p.preferred_language, "account_enabled": p.account_enabled,
                                  "removed": False} for p in people), defaults={"no_onedrive": False})
        sets.mark(s, _PEOPLE, removed_ids, removed=True)


def apply_teams(db: Database, teams: Iterable[Team], removed_ids: Iterable[str]) -> None:
    """One page of the groups feed (teams only): upsert the teams it lists, mark the ones it removes."""
    with db.session() as s:
        sets.upsert(s, _TEAMS, ({"id": team.id, "display_name": team.display_name, "removed": False}
                                for team in teams), defaults={"drive_ids": []})
        sets.mark(s, _TEAMS, removed_ids, removed=True)


def mark_unlisted_removed(db: Database, feed: Feed, listed: set[str]) -> None:
    """After a full enumeration of a feed: whatever it did not list is gone."""
    table: type[PersonRow] | type[TeamRow] = PersonRow if feed == "people" else TeamRow
    with db.session() as s:
        s.execute(update(table).where(table.id.not_in(listed) if listed else true()).values(removed=True))


# --- reads ----------------------------------------------------------------------------------------------
def people(db: Database) -> list[StoredPerson]:
    """People not removed from the directory."""
    with db.session() as s:
        # plain rows, not ORM objects: a tenant's people at once would otherwise cost ~2 KiB each at the peak
        return [_person(r) for r in s.execute(select(_PEOPLE).where(_PEOPLE.c.removed.is_(False)))]


def person(db: Database, person_id: str) -> StoredPerson | None:
    with db.session() as s:
        row = s.get(PersonRow, person_id)
        return _person(row) if row else None


def people_by_id(db: Database, person_ids: Iterable[str]) -> dict[str, StoredPerson]:
    """The people among ``person_ids`` the store knows (removed ones too, as :func:`person`), in one query."""
    found: dict[str, StoredPerson] = {}
    with db.session() as s:
        for chunk in chunked(sorted(set(person_ids))):
            found |= {r.id: _person(r) for r in s.execute(select(_PEOPLE).where(_PEOPLE.c.id.in_(chunk)))}
    return found


def teams(db: Database) -> list[StoredTeam]:
    with db.session() as s:
        return [StoredTeam(t.id, t.display_name, tuple(t.drive_ids or ()), t.drives_checked_at)
                for t in s.scalars(select(TeamRow).where(TeamRow.removed.is_(False)))]


# --- drives found for people and teams ---------------------------------------------------------------
def record_onedrive(db: Database, person_id: str, drive: DriveRef | None, checked_at: dt.datetime) -> StoredPerson:
    """What ``GET /users/{id}/drive`` said (None: no OneDrive), with the drive itself."""
    with db.session() as s:
        row = s.get(PersonRow, person_id)
        assert row is not None, f"no person {person_id} in the store"
        row.drive_checked_at = checked_at
        row.no_onedrive = drive is None
        row.drive_id = drive.id if drive else None
        if drive is not None:
            upsert_drives(s, [drive])
        return _person(row)


def record_onedrives(db: Database, looked_up: Iterable[tuple[str, DriveRef | None]],
                     checked_at: dt.datetime) -> list[StoredPerson]:
    """``record_onedrive`` for a set of people, in one transaction (the directory sync writes per batch, not per
    user). People not in the store are skipped."""
    found = dict(looked_up)  # one answer per person: the last one
    if not found:
        return []
    with db.session() as s:  # the drives, one UPDATE for the people, one read back: no object per person
        upsert_drives(s, {d.id: d for d in found.values() if d is not None}.values())
        s.execute(update(_PEOPLE).where(_PEOPLE.c.id == bindparam("pid")).values(
            drive_checked_at=bindparam("checked"), no_onedrive=bindparam("none"), drive_id=bindparam("drive")),
            [{"pid": pid, "checked": checked_at, "none": drive is None, "drive": drive.id if drive else None}
             for pid, drive in found.items()])
        rows = {r.id: _person(r) for r in s.execute(select(_PEOPLE).where(_PEOPLE.c.id.in_(list(found))))}
    return [rows[pid] for pid in found if pid in rows]


def record_mailboxes(db: Database, found: Mapping[str, bool | None], checked_at: dt.datetime) -> None:
    """What ``mailboxSettings`` said for a set of people (None: it could not be told), in one transaction and
    one statement. People not in the store are skipped."""
    if not found:
        return
    rows = [{"pid": pid, "mailbox": {True: "yes", False: "no", None: "unknown"}[answer], "checked": checked_at}
            for pid, answer in found.items()]
    with db.session() as s:
        s.execute(update(_PEOPLE).where(_PEOPLE.c.id == bindparam("pid")).values(
            mailbox=bindparam("mailbox"), mailbox_checked_at=bindparam("checked")), rows)


def record_team_drives(db: Database, team_id: str, drives: list[DriveRef], checked_at: dt.datetime | None,
                       keep: Iterable[str] = ()) -> None:
    """The team's drives as Graph listed them, plus ``keep`` (drives known before whose channel could not be
    read this time: never dropped on a failed read). ``checked_at`` None: look again next cycle."""
    with db.session() as s:
        row = s.get(TeamRow, team_id)
        assert row is not None, f"no team {team_id} in the store"
        ids = [d.id for d in drives]
        row.drive_ids = ids + [k for k in keep if k not in ids]
        row.drives_checked_at = checked_at
        upsert_drives(s, drives)
