"""What a cycle must evaluate and which drives it must read: the recordings' review dates, read through
``ix_recordings_review`` (state, review_on), never the whole table (``cycle.selection``, ``cycle.polling``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, tuple_

from ..domain import Action, RecordingState
from .database import ID_BATCH, Database, chunked
from .tables import RecordingRow


def due_for_evaluation(db: Database, cycle_date: dt.date, drive_ids: Iterable[str] = ()) -> list[int]:
    """Tracked recordings a cycle of ``cycle_date`` must evaluate, by id: never evaluated or changed since
    (``review_on`` NULL), due for review by time (``review_on`` on or before the date: this includes every
    decision that warns, deletes or fails closed), or in one of ``drive_ids`` (drives whose completeness
    changed). Read through ``ix_recordings_review``, not the whole table."""
    tracked = RecordingRow.state == RecordingState.TRACKED.value
    with db.session() as s:
        # streamed into one list (a large tenant's first cycles name most of it: no result buffer or set beside it)
        found = list(s.scalars(select(RecordingRow.id).where(
            tracked, RecordingRow.review_on.is_(None) | (RecordingRow.review_on <= cycle_date))
            .execution_options(yield_per=ID_BATCH)))
        extra: set[int] = set()
        for chunk in chunked(sorted(set(drive_ids))):
            extra |= set(s.scalars(select(RecordingRow.id).where(tracked, RecordingRow.drive_id.in_(chunk))))
    if extra:
        found = list(extra.union(found))
    found.sort()
    return found


@dataclass(frozen=True, slots=True)
class Covers:
    """What a change of governance may cover: recordings by key ("<drive>/<item>"), organizers, drives, and
    (``moved``) every recording moved from another (whatever covered its origin covers it)."""

    keys: frozenset[str] = frozenset()
    organizers: frozenset[str] = frozenset()
    drives: frozenset[str] = frozenset()
    moved: bool = False


def covered_by(db: Database, covers: Covers) -> list[int]:
    """Tracked recordings ``covers`` names, by id (indexed queries per chunk)."""
    tracked = RecordingRow.state == RecordingState.TRACKED.value
    found: set[int] = set()
    with db.session() as s:
        pairs = [tuple(k.split("/", 1)) for k in sorted(covers.keys) if "/" in k]
        for chunk in chunked(pairs):
            found |= set(s.scalars(select(RecordingRow.id).where(
                tracked, tuple_(RecordingRow.drive_id, RecordingRow.item_id).in_(chunk))))
        for chunk in chunked(sorted(covers.organizers)):
            found |= set(s.scalars(select(RecordingRow.id).where(tracked, RecordingRow.organizer_id.in_(chunk))))
        for chunk in chunked(sorted(covers.drives)):
            found |= set(s.scalars(select(RecordingRow.id).where(tracked, RecordingRow.drive_id.in_(chunk))))
        if covers.moved:
            found |= set(s.scalars(select(RecordingRow.id).where(tracked, RecordingRow.moved_from.is_not(None))))
    return sorted(found)


def drives_with_work(db: Database, until: dt.date) -> set[str]:
    """Drives holding a tracked recording whose decision may change on or before ``until`` (a warning, a
    deletion, a cover ending, facts not yet evaluated): those drives are read every cycle."""
    with db.session() as s:
        return set(s.scalars(select(RecordingRow.drive_id).where(
            RecordingRow.state == RecordingState.TRACKED.value,
            RecordingRow.review_on.is_(None) | (RecordingRow.review_on <= until)).distinct()))


def decision_counts(db: Database) -> tuple[dict[str, int], dict[str, int]]:
    """Tracked recordings per stored action and per stored rule (what the cycle's summary counts)."""
    tracked = RecordingRow.state == RecordingState.TRACKED.value
    with db.session() as s:
        actions = {a or Action.KEEP.value: n for a, n in s.execute(
            select(RecordingRow.action, func.count()).where(tracked).group_by(RecordingRow.action))}
        rules = {r or "": n for r, n in s.execute(
            select(RecordingRow.rule, func.count()).where(tracked).group_by(RecordingRow.rule))}
    return actions, rules
