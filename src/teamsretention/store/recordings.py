"""The inventory of recordings: what was found, what was decided, what happened to each.

Reads hand out :class:`StoredRecording` snapshots; the cycle decides what changes and hands the new
snapshots back to :func:`save`, with the audit events that explain them, in one transaction (a state
change is never recorded without its evidence, nor the other way round). Writes are in sets: one
statement per batch, not per row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, Table, bindparam, func, select, type_coerce
from sqlalchemy.orm import Session

from ..domain import Action, DriveKind, Evidence, Recording, RecordingRef, RecordingState
from . import audit
from .audit import AuditEvent
from .database import ID_BATCH, Database, chunked
from .tables import RecordingRow


@dataclass(frozen=True, slots=True)
class StoredRecording:
    id: int  # 0 until it is first saved
    drive_id: str
    item_id: str
    name: str
    created_at: dt.datetime
    recorded_on: dt.date
    first_seen: dt.datetime
    last_seen: dt.datetime
    etag: str | None = None
    web_url: str | None = None
    organizer_id: str | None = None
    drive_kind: DriveKind = DriveKind.ONEDRIVE
    size: int | None = None
    sync_generation: int = 0
    state: RecordingState = RecordingState.TRACKED
    deleted_at: dt.datetime | None = None
    deleted_on: dt.date | None = None
    delete_mode: str | None = None
    deletion_reported: bool = False  # in a digest's receipt yet
    # set just before a delete request, cleared by a definite answer: when the item then vanishes from the
    # drive, the delete whose answer was lost (timeout, shutdown) was ours
    delete_attempted_at: dt.datetime | None = None
    restored_on: tuple[dt.date, ...] = ()  # dates it reappeared after it was deleted or gone
    restored_at: tuple[dt.datetime, ...] = ()  # when those reappearances were seen
    evidence: Evidence | None = None  # what it was recognised by
    recognition_note: str | None = None  # why it is unsure, or why a re-read no longer recognises it
    moved_from: str | None = None  # "<drive>/<item>" of the recording it was moved from (another drive)
    parent_id: str | None = None  # the folder it is in
    mime_type: str | None = None
    # the last decision taken by an enforcing or dry-run cycle
    action: Action | None = None
    rule: str | None = None
    reason: str | None = None
    due: dt.date | None = None
    episode_start: dt.date | None = None
    decided_on: dt.date | None = None
    # the first cycle date on which evaluating it again could change its decision by time alone; None: its
    # facts changed since (every write but the evaluation's own clears it), or it was never evaluated
    review_on: dt.date | None = None
    label_name: str | None = None
    # deletion refused (423/403): Graph's code and message, and when to try again
    blocked_code: str | None = None
    blocked_message: str | None = None
    blocked_attempts: int = 0
    next_attempt_on: dt.date | None = None

    @property
    def ref(self) -> RecordingRef:
        return RecordingRef(self.drive_id, self.item_id)

    def recording(self) -> Recording:
        """What the pure policy needs of it."""
        return Recording(ref=self.ref, name=self.name, created_at=self.created_at, etag=self.etag,
                         web_url=self.web_url, organizer_id=self.organizer_id, drive_kind=self.drive_kind,
                         size=self.size)


_TABLE: Table = RecordingRow.__table__  # type: ignore[assignment]  # a declarative class's Table
_BY_ID = _TABLE.update().where(_TABLE.c.id == bindparam("row_id"))  # SET: the columns each row gives

_COLUMNS = tuple(f.name for f in dataclasses.fields(StoredRecording)
                 if f.name not in ("id", "restored_on", "restored_at"))
_KEYS = tuple(c.key for c in _TABLE.c)
_LISTS = ("restored_dates", "restored_at")  # JSON lists, nearly always empty: parsed only when they are not
# Every column as a plain row: no ORM object per recording read (see ``read``); the JSON lists as their text.
ROWS = select(*(type_coerce(c, String).label(c.key) if c.key in _LISTS else c for c in _TABLE.c))
# The reads a cycle runs per drive or per batch, built once: building a statement and its cache key costs
# several times what executing it does (about 120 of 180 µs for an IN read of a few rows, measured here).
_BY_IDS = ROWS.where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
_IN_DRIVE = ROWS.where(_TABLE.c.drive_id == bindparam("drive_id"),
                       _TABLE.c.item_id.in_(bindparam("ids", expanding=True)))
_GOVERNED = (RecordingState.TRACKED.value, RecordingState.UNSURE.value)
_UNLISTED = ROWS.where(_TABLE.c.drive_id == bindparam("drive_id"), _TABLE.c.state.in_(_GOVERNED),
                       _TABLE.c.sync_generation < bindparam("generation"))
_INSERT = _TABLE.insert()


def read(s: Session, statement: Select[Any], params: Mapping[str, Any] | None = None) -> Iterator[StoredRecording]:
    """The recordings a select of ``ROWS`` answers (for the store's modules), with its bound ``params``."""
    # On the session's connection, not through the ORM's loading of results (a read: nothing for the fence).
    for row in s.connection().execute(statement, params):
        values = dict(zip(_KEYS, row, strict=True))
        restored_dates, restored_at = _list(values.pop("restored_dates")), _list(values.pop("restored_at"))
        del values["evidence_pruned_on"]
        values["drive_kind"] = DriveKind(values["drive_kind"])
        values["state"] = RecordingState(values["state"])
        values["action"] = Action(values["action"]) if values["action"] else None
        values["blocked_attempts"] = values["blocked_attempts"] or 0
        values["restored_on"] = tuple(sorted(dt.date.fromisoformat(d) for d in restored_dates or ()))
        values["restored_at"] = tuple(sorted(dt.datetime.fromisoformat(t) for t in restored_at or ()))
        values["evidence"] = Evidence(values["evidence"]) if values["evidence"] else None
        yield StoredRecording(**values)


def _to_values(rec: StoredRecording, evaluated: bool = True) -> dict[str, Any]:
    """The row of a recording; not ``evaluated``: marked for evaluation by the next cycle (``review_on`` None)."""
    values: dict[str, Any] = {name: getattr(rec, name) for name in _COLUMNS}
    if not evaluated:
        values["review_on"] = None
    values["drive_kind"] = rec.drive_kind.value
    values["state"] = rec.state.value
    values["action"] = rec.action.value if rec.action else None
    values["restored_dates"] = [d.isoformat() for d in rec.restored_on]
    values["restored_at"] = [t.isoformat() for t in rec.restored_at]
    values["evidence"] = rec.evidence.value if rec.evidence else None
    return values


def _list(stored: Any) -> list[str]:
    """A JSON list column read as text (SQLite), or already parsed (a PostgreSQL driver parses json itself)."""
    if stored is None or stored == "[]":
        return []
    return list(json.loads(stored) if isinstance(stored, str) else stored)


# --- reads ----------------------------------------------------------------------------------------------
def get(db: Database, recording_id: int) -> StoredRecording | None:
    with db.session() as s:
        found = list(read(s, ROWS.where(RecordingRow.id == recording_id)))
    return found[0] if found else None


def get_many(db: Database, ids: Iterable[int]) -> list[StoredRecording]:
    """The recordings with these ids, by id."""
    found: list[StoredRecording] = []
    with db.session() as s:
        for chunk in chunked(sorted(set(ids))):
            found += read(s, _BY_IDS, {"ids": chunk})
    return sorted(found, key=lambda r: r.id)


def in_drive(db: Database, drive_id: str, item_ids: Iterable[str]) -> dict[str, StoredRecording]:
    """The known recordings among ``item_ids`` of one drive, by item id (one query per chunk)."""
    found: dict[str, StoredRecording] = {}
    with db.session() as s:
        for chunk in chunked(sorted(set(item_ids))):
            for r in read(s, _IN_DRIVE, {"drive_id": drive_id, "ids": chunk}):
                found[r.item_id] = r
    return found


def tracked_ids(db: Database) -> list[int]:
    with db.session() as s:
        ids = list(s.scalars(select(RecordingRow.id).where(RecordingRow.state == RecordingState.TRACKED.value)
                             .execution_options(yield_per=ID_BATCH)))  # streamed: the whole tenant's ids
    ids.sort()
    return ids


def unlisted(db: Database, drive_id: str, generation: int) -> list[StoredRecording]:
    """Tracked and unsure recordings of a drive that a full enumeration of generation ``generation`` did not
    list."""
    with db.session() as s:
        return list(read(s, _UNLISTED, {"drive_id": drive_id, "generation": generation}))


@dataclass(frozen=True, slots=True)
class DueDeletion:
    """What the deletion step orders and holds back by, without the recording itself (a deletion day on a
    large tenant has tens of thousands: the recordings are read a batch at a time)."""

    id: int
    due: dt.date | None
    recorded_on: dt.date
    next_attempt_on: dt.date | None


def due_deletions(db: Database, cycle_date: dt.date) -> list[DueDeletion]:
    """Tracked recordings this cycle's evaluation decided to delete, by id."""
    with db.session() as s:
        rows = s.execute(select(RecordingRow.id, RecordingRow.due, RecordingRow.recorded_on,
                                RecordingRow.next_attempt_on).where(*_decided(cycle_date, Action.DELETE))
                         .order_by(RecordingRow.id))
        return [DueDeletion(*row) for row in rows]


def digest_organizers(db: Database, cycle_date: dt.date) -> set[str | None]:
    """Organizers with something to hear today: a warning decided this cycle, or an unreported deletion."""
    with db.session() as s:
        found = set(s.scalars(select(RecordingRow.organizer_id).where(*_decided(cycle_date, Action.WARN))
                              .distinct()))
        found |= set(s.scalars(select(RecordingRow.organizer_id).where(
            RecordingRow.state == RecordingState.DELETED.value, RecordingRow.deletion_reported.is_(False),
            RecordingRow.evidence_pruned_on.is_(None))
            .distinct()))
    return found


def governed_in_drive(db: Database, drive_id: str) -> list[StoredRecording]:
    """Tracked and unsure recordings of one drive."""
    states = (RecordingState.TRACKED.value, RecordingState.UNSURE.value)
    with db.session() as s:
        return list(read(s, ROWS.where(RecordingRow.drive_id == drive_id, RecordingRow.state.in_(states))
                          .order_by(RecordingRow.id)))


def in_folders(db: Database, drive_id: str, folder_ids: Iterable[str]) -> list[StoredRecording]:
    """Tracked and unsure recordings directly inside these folders (after a folder was renamed or moved)."""
    found: list[StoredRecording] = []
    states = (RecordingState.TRACKED.value, RecordingState.UNSURE.value)
    with db.session() as s:
        for chunk in chunked(sorted(set(folder_ids))):
            found += read(s, ROWS.where(RecordingRow.drive_id == drive_id, RecordingRow.parent_id.in_(chunk),
                                          RecordingRow.state.in_(states)))
    return found


def with_pending_delete(db: Database) -> list[StoredRecording]:
    """Governed recordings with a delete request of ours whose answer was never settled."""
    states = (RecordingState.TRACKED.value, RecordingState.UNSURE.value)
    with db.session() as s:
        return list(read(s, ROWS.where(RecordingRow.delete_attempted_at.is_not(None),
                                         RecordingRow.state.in_(states)).order_by(RecordingRow.id)))


def count_by(db: Database) -> tuple[dict[str, int], list[StoredRecording]]:
    """Tracked recordings per recognition evidence, and the unsure videos (listed, never touched)."""
    with db.session() as s:
        counts: dict[str, int] = {}
        for evidence, n in s.execute(select(RecordingRow.evidence, func.count()).where(
                RecordingRow.state == RecordingState.TRACKED.value).group_by(RecordingRow.evidence)):
            counts[evidence or "unknown"] = n
        unsure = list(read(s, ROWS.where(RecordingRow.state == RecordingState.UNSURE.value)
                            .order_by(RecordingRow.name)))
    return counts, unsure


def list_all(db: Database) -> list[StoredRecording]:
    with db.session() as s:
        return list(read(s, ROWS.order_by(RecordingRow.id)))


def _decided(cycle_date: dt.date, action: Action) -> tuple[Any, ...]:
    return (RecordingRow.state == RecordingState.TRACKED.value, RecordingRow.action == action.value,
            RecordingRow.decided_on == cycle_date)


# --- writes -------------------------------------------------------------------------------------------
def save(db: Database, changed: Iterable[StoredRecording] = (), *, new: Iterable[StoredRecording] = (),
         events: Iterable[AuditEvent] = (), evaluated: bool = False,
         before: Mapping[int, StoredRecording] | None = None) -> None:
    """Write changed recordings (by id), insert new ones, and append their audit events: one transaction,
    one statement per kind of write. Every write but the evaluation's own (``evaluated``) marks the recording
    for evaluation by the next cycle (``review_on`` None): whatever changed about it is looked at again.

    ``before``: the snapshots the changed ones were made from, by id. Then only the columns that differ are
    written, one statement per set of columns: an UPDATE that leaves a column out leaves its indexes alone (a
    decision touches two of the table's seven), and a column someone else wrote since is not overwritten."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for rec in changed:
        values = _to_values(rec, evaluated)
        old = before.get(rec.id) if before is not None else None
        if old is not None:
            was = _to_values(old)
            columns = tuple(name for name, value in values.items() if value != was[name])
            if not columns:
                continue  # the same as stored: nothing to write
        else:
            columns = tuple(values)
        groups.setdefault(columns, []).append({"row_id": rec.id, **{name: values[name] for name in columns}})
    inserts = [_to_values(r, evaluated) for r in new]
    with db.session() as s:
        for rows in groups.values():
            s.execute(_BY_ID, rows)
        if inserts:
            s.execute(_INSERT, inserts)
        audit.write(s, events)
