"""Recordings moved between drives: a move (or a copy) gives a file a new id on the other drive, and whatever
covered the original (exemptions, holds, tags) must follow it. Matched by name, creation time and size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, select, tuple_

from .database import Database, chunked
from .recordings import ROWS, StoredRecording, read
from .tables import RecordingRow

_CREATED_AT = ROWS.where(RecordingRow.created_at.in_(bindparam("times", expanding=True)))  # built once: per batch


@dataclass(frozen=True, slots=True)
class Arrival:
    """A file a drive lists that the store does not know yet, as a move is matched by."""

    item_id: str
    name: str
    created_at: dt.datetime
    size: int | None


def moved_from(db: Database, drive_id: str, found: Iterable[Arrival]) -> dict[str, StoredRecording]:
    """For files of one drive the store does not know yet: the recording each was moved from, by item id. That is
    another recording with its name, creation time and size, the newest first: a move to another drive (or back)
    gives a file a new id, and its holds must follow it. The original may not have been seen leaving yet (drives
    are read side by side), may be one teamsretention deleted and its owner restored and moved before its drive
    was read again, and a copy matches too: matching only ever adds covers.
    Whatever its state, then. One query per chunk of creation times, on ``ix_recordings_created_name`` alone."""
    wanted = list(found)
    candidates: dict[tuple[str, dt.datetime], list[StoredRecording]] = {}
    with db.session() as s:
        for chunk in chunked(sorted({r.created_at for r in wanted})):
            for row in read(s, _CREATED_AT, {"times": chunk}):
                candidates.setdefault((row.name, row.created_at), []).append(row)
    answer: dict[str, StoredRecording] = {}
    for rec in wanted:
        for row in sorted(candidates.get((rec.name, rec.created_at), ()), key=lambda r: r.id, reverse=True):
            same = row.drive_id == drive_id and row.item_id == rec.item_id
            if not same and (rec.size is None or row.size is None or row.size == rec.size):
                answer[rec.item_id] = row
                break
    return answer


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a moved recording came from: what covered the original must cover it still."""

    key: str
    drive_id: str
    organizer_id: str | None
    moved_from: str | None


def origins(db: Database) -> dict[str, Origin]:
    """Every recording a move came from, by key, with its own origin: chains (A -> B -> C) and moves back
    (A -> B -> A') are followed by the caller. Two small queries per link of the longest chain."""
    found: dict[str, Origin] = {}
    with db.session() as s:
        wanted = {k for k in s.scalars(select(RecordingRow.moved_from).where(RecordingRow.moved_from.is_not(None)))
                  if k}
        while wanted - found.keys():
            batch = sorted(wanted - found.keys())
            pairs = [tuple(k.split("/", 1)) for k in batch if "/" in k]
            rows = []
            for chunk in chunked(pairs):
                rows += list(s.scalars(select(RecordingRow).where(
                    tuple_(RecordingRow.drive_id, RecordingRow.item_id).in_(chunk))))
            for row in rows:
                key = f"{row.drive_id}/{row.item_id}"
                found[key] = Origin(key, row.drive_id, row.organizer_id, row.moved_from)
                if row.moved_from:
                    wanted.add(row.moved_from)
            for k in batch:  # an origin no longer in the store still counts as a key of its own
                found.setdefault(k, Origin(k, k.split("/", 1)[0], None, None))
    return found
