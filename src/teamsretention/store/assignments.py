"""Client assignments and their tags on recordings.

An assignment is created by an administrator (``cli``), a CSV import (``csv``) or the Assignments list
(``list``, then owned by one list item). Every change is written with its audit event, naming the acting
identity and the source, in one transaction; a batch (a CSV file, one list sync, one cycle's tag rules) is
one transaction: all of it or nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain import AssignmentStatus, RecordingRef, RecordingState
from ..errors import ConfigError
from . import audit
from .audit import AuditEvent, AuditKind
from .database import Database
from .tables import AssignmentRow, AssignmentTagRow, RecordingRow, SyncStateRow

SOURCES = ("cli", "csv", "list", "rule", "cycle")


@dataclass(frozen=True, slots=True)
class Acting:
    """Who makes a change, through what, and when (``day``: the calendar day it counts for)."""

    actor: str
    source: str
    at: dt.datetime
    day: dt.date


@dataclass(frozen=True, slots=True)
class Fields:
    """An assignment as its source states it; ``closed_on`` set means closed."""

    code: str
    title: str
    client: str | None
    opened_on: dt.date
    closed_on: dt.date | None = None
    list_item_id: str | None = None
    list_id: str | None = None  # the list of list_item_id (an item id names an item only within its list)


@dataclass(frozen=True, slots=True)
class Assignment:
    code: str
    title: str
    client: str | None
    status: AssignmentStatus
    opened_on: dt.date
    closed_on: dt.date | None
    closed_at: dt.datetime | None
    source: str
    list_item_id: str | None
    created_by: str
    list_id: str | None = None

    @property
    def list_owned(self) -> bool:
        return self.list_item_id is not None


@dataclass(frozen=True, slots=True)
class StoredTag:
    id: int
    code: str
    ref: RecordingRef
    tagged_on: dt.date
    tagged_by: str
    source: str
    untagged_on: dt.date | None
    untagged_by: str | None

    @property
    def active(self) -> bool:
        return self.untagged_on is None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A tracked recording as the tag rules see it."""

    ref: RecordingRef
    name: str
    organizer_id: str | None


def _assignment(r: AssignmentRow) -> Assignment:
    return Assignment(r.id, r.name, r.client, AssignmentStatus(r.status), r.opened_on, r.closed_on, r.closed_at,
                      r.source, r.list_item_id, r.created_by, r.list_id)


def _tag(t: AssignmentTagRow) -> StoredTag:
    return StoredTag(t.id, t.assignment_id, RecordingRef(t.drive_id, t.item_id), t.tagged_on, t.tagged_by,
                     t.source, t.untagged_on, t.untagged_by)


# --- reading ------------------------------------------------------------------------------------------
def get(db: Database, code: str) -> Assignment | None:
    with db.session() as s:
        row = s.get(AssignmentRow, code)
        return _assignment(row) if row else None


def list_all(db: Database) -> list[Assignment]:
    with db.session() as s:
        return [_assignment(r) for r in s.scalars(select(AssignmentRow).order_by(AssignmentRow.id))]


def has_assignment(db: Database, code: str) -> bool:
    return get(db, code) is not None


def tags_of(db: Database, ref: RecordingRef) -> list[StoredTag]:
    with db.session() as s:
        q = select(AssignmentTagRow).where(AssignmentTagRow.drive_id == ref.drive_id,
                                           AssignmentTagRow.item_id == ref.item_id)
        return [_tag(t) for t in s.scalars(q.order_by(AssignmentTagRow.id))]


def tags_to(db: Database, code: str) -> list[StoredTag]:
    with db.session() as s:
        q = select(AssignmentTagRow).where(AssignmentTagRow.assignment_id == code)
        return [_tag(t) for t in s.scalars(q.order_by(AssignmentTagRow.id))]


def all_tags(db: Database) -> list[StoredTag]:
    with db.session() as s:
        return [_tag(t) for t in s.scalars(select(AssignmentTagRow).order_by(AssignmentTagRow.id))]


def candidates(db: Database) -> list[Candidate]:
    """Every tracked recording, with its file name (what tag rules read)."""
    with db.session() as s:
        q = select(RecordingRow.drive_id, RecordingRow.item_id, RecordingRow.name, RecordingRow.organizer_id).where(
            RecordingRow.state == RecordingState.TRACKED.value).order_by(RecordingRow.id)
        return [Candidate(RecordingRef(d, i), n or "", o) for d, i, n, o in s.execute(q)]


# --- assignments --------------------------------------------------------------------------------------
def put(db: Database, changes: Sequence[tuple[Fields, Acting]], *,
        state: tuple[str, str | None] | None = None) -> list[str]:
    """Create or bring up to date each assignment as its source states it, in one transaction (with ``state``,
    a sync_state key and value, saved alongside). Returns the codes of the assignments that changed."""
    with db.session() as s:
        made = [fields.code for fields, acting in changes if _put(s, fields, acting)]
        if state is not None:
            _set_state(s, *state)
    return made


def create(db: Database, fields: Fields, acting: Acting) -> None:
    with db.session() as s:
        if s.get(AssignmentRow, fields.code) is not None:
            raise ConfigError(f"assignment {fields.code}: already exists in the store")
        _put(s, fields, acting)


def close(db: Database, code: str, *, closed_on: dt.date, acting: Acting) -> None:
    with db.session() as s:
        row = _row(s, code)
        _put(s, _fields(row, closed_on=closed_on), acting)


def reopen(db: Database, code: str, *, acting: Acting) -> None:
    with db.session() as s:
        row = _row(s, code)
        _put(s, _fields(row, closed_on=None), acting)


def owned_by_other_lists(db: Database, list_id: str) -> int:
    """How many assignments items of lists other than ``list_id`` own (``""``: a list read before list ids were
    kept, not known). An item of ``list_id`` with the same code takes one over."""
    owned = AssignmentRow.list_item_id.is_not(None)
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(AssignmentRow).where(
            owned, AssignmentRow.list_id != list_id)) or 0


def item_deleted(db: Database, code: str, item_id: str, *, acting: Acting, list_name: str) -> None:
    """The list item owning ``code`` was deleted: evidence only, the assignment stays as it is."""
    with db.session() as s:
        row = _row(s, code)
        audit.write(s, [AuditEvent(
            AuditKind.ASSIGNMENT_ITEM_DELETED, at=acting.at, actor=acting.actor, cycle_date=acting.day,
            reason=f"Item {item_id} of the {list_name} list, owning assignment {code}, was deleted; the assignment "
                   f"stays {row.status} as the store holds it.",
            detail={"assignment": code, "list_item": item_id, "source": acting.source})])


def _row(s: Session, code: str) -> AssignmentRow:
    row = s.get(AssignmentRow, code)
    if row is None:
        raise ConfigError(f"assignment {code}: no such assignment in the store")
    return row


def _fields(row: AssignmentRow, *, closed_on: dt.date | None) -> Fields:
    return Fields(row.id, row.name, row.client, row.opened_on, closed_on, row.list_item_id, row.list_id)


def _put(s: Session, f: Fields, acting: Acting) -> list[str]:
    row = s.get(AssignmentRow, f.code)
    detail = {"assignment": f.code, "source": acting.source}
    if f.list_item_id:
        detail["list_item"] = f.list_item_id
        if f.list_id:
            detail["list"] = f.list_id
    events: list[AuditEvent] = []

    def event(kind: AuditKind, reason: str, **extra: object) -> None:
        events.append(AuditEvent(kind, at=acting.at, actor=acting.actor, cycle_date=acting.day, reason=reason,
                                 detail={**detail, **extra}))

    label = f"Client assignment {f.title} ({f.code})"
    if row is None:
        row = AssignmentRow(id=f.code, name=f.title, client=f.client, status=AssignmentStatus.ACTIVE.value,
                            opened_on=f.opened_on, created_by=acting.actor, source=acting.source,
                            list_item_id=f.list_item_id, list_id=f.list_id)
        s.add(row)
        event(AuditKind.ASSIGNMENT_RECORDED, f"{label} opened on {f.opened_on}.",
              client=f.client, title=f.title, opened_on=f.opened_on.isoformat())
    else:
        changed = {k: v for k, v in (("title", f.title), ("client", f.client), ("opened_on", f.opened_on),
                                     ("list_item", f.list_item_id), ("list", f.list_id))
                   if v != {"title": row.name, "client": row.client, "opened_on": row.opened_on,
                            "list_item": row.list_item_id, "list": row.list_id}[k]}
        if changed:
            row.name, row.client, row.opened_on = f.title, f.client, f.opened_on
            row.list_item_id, row.list_id = f.list_item_id, f.list_id
            what = ", ".join(f"{k} {v}" for k, v in changed.items())
            event(AuditKind.ASSIGNMENT_UPDATED, f"{label} changed: {what}.",
                  changed={k: str(v) if v is not None else None for k, v in changed.items()})
    closed = row.status == AssignmentStatus.CLOSED.value
    if f.closed_on is not None and not closed:
        row.status, row.closed_on, row.closed_at = AssignmentStatus.CLOSED.value, f.closed_on, acting.at
        event(AuditKind.ASSIGNMENT_CLOSED, f"{label} closed on {f.closed_on}: its "
              "recordings fall back to the normal retention rule, with warnings before any deletion.",
              closed_on=f.closed_on.isoformat())
    elif f.closed_on is not None and row.closed_on != f.closed_on:
        before, row.closed_on, row.closed_at = row.closed_on, f.closed_on, acting.at
        event(AuditKind.ASSIGNMENT_UPDATED, f"{label}: closing date {before} changed to "
              f"{f.closed_on}.", changed={"closed_on": f.closed_on.isoformat()})
    elif f.closed_on is None and closed:
        before = row.closed_on
        row.status, row.closed_on, row.closed_at = AssignmentStatus.ACTIVE.value, None, None
        event(AuditKind.ASSIGNMENT_REOPENED, f"{label}, closed on {before}, reopened: it "
              "keeps its recordings again.", was_closed_on=before.isoformat() if before else None)
    audit.write(s, events)
    return [e.reason for e in events]


# --- tags ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TagRequest:
    code: str
    ref: RecordingRef
    acting: Acting
    recording_name: str | None = None
    organizer_id: str | None = None
    note: str = ""


def tag(db: Database, assignment_id: str, ref: RecordingRef, *, tagged_on: dt.date, actor: str, at: dt.datetime,
        day: dt.date, source: str = "cli", recording_name: str | None = None,
        organizer_id: str | None = None) -> bool:
    """Tag one recording (False: it already was). Raises ConfigError when the assignment is unknown."""
    request = TagRequest(assignment_id, ref, Acting(actor, source, at, day), recording_name, organizer_id)
    return bool(tag_many(db, [request], tagged_on=tagged_on))


def tag_many(db: Database, requests: Iterable[TagRequest], *, tagged_on: dt.date) -> list[TagRequest]:
    """Tag recordings in one transaction; returns those that were not tagged to that assignment already."""
    made: list[TagRequest] = []
    with db.session() as s:
        for r in requests:
            row = _row(s, r.code)
            q = select(AssignmentTagRow.id).where(
                AssignmentTagRow.assignment_id == r.code, AssignmentTagRow.drive_id == r.ref.drive_id,
                AssignmentTagRow.item_id == r.ref.item_id, AssignmentTagRow.untagged_on.is_(None))
            if s.scalars(q).first() is not None:
                continue
            s.add(AssignmentTagRow(assignment_id=r.code, drive_id=r.ref.drive_id, item_id=r.ref.item_id,
                                   tagged_on=tagged_on, tagged_by=r.acting.actor, source=r.acting.source))
            state = "" if row.status == AssignmentStatus.ACTIVE.value else (
                f" (closed on {row.closed_on}: this tag keeps nothing)")
            audit.write(s, [AuditEvent(
                AuditKind.TAGGED, at=r.acting.at, actor=r.acting.actor, cycle_date=r.acting.day,
                recording_key=r.ref.key, recording_name=r.recording_name, organizer_id=r.organizer_id,
                reason=f"Tagged to client assignment {row.name} ({r.code}){state}.{r.note}",
                detail={"assignment": r.code, "source": r.acting.source, "tagged_on": tagged_on.isoformat()})])
            made.append(r)
    return made


def untag(db: Database, code: str, ref: RecordingRef, *, untagged_on: dt.date, acting: Acting,
          recording_name: str | None = None, organizer_id: str | None = None) -> int:
    """Remove the recording's tags to ``code``; returns how many there were."""
    with db.session() as s:
        row = _row(s, code)
        q = select(AssignmentTagRow).where(
            AssignmentTagRow.assignment_id == code, AssignmentTagRow.drive_id == ref.drive_id,
            AssignmentTagRow.item_id == ref.item_id, AssignmentTagRow.untagged_on.is_(None))
        tags = list(s.scalars(q))
        for t in tags:
            t.untagged_on, t.untagged_at, t.untagged_by = untagged_on, acting.at, acting.actor
        if tags:
            audit.write(s, [AuditEvent(
                AuditKind.UNTAGGED, at=acting.at, actor=acting.actor, cycle_date=acting.day,
                recording_key=ref.key, recording_name=recording_name, organizer_id=organizer_id,
                reason=f"Tag to client assignment {row.name} ({code}) removed on {untagged_on}: the recording falls "
                       "back to the normal retention rule, with warnings before any deletion; tag rules no longer "
                       "tag it to this assignment.",
                detail={"assignment": code, "source": acting.source, "untagged_on": untagged_on.isoformat()})])
        return len(tags)


def _set_state(s: Session, key: str, value: str | None) -> None:
    row = s.get(SyncStateRow, key)
    if row is None:
        s.add(SyncStateRow(key=key, value=value))
    else:
        row.value = value
