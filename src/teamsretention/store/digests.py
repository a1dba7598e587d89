"""Digests and the warnings they carry. A digest is recorded as *intended* before it is sent; only a send
Graph accepted (202) marks its warnings *sent*, which is what starts a notice clock."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from ..domain import Action, DigestStatus, RecordingState, WarningSent
from . import audit
from .audit import AuditEvent
from .database import Database, chunked
from .recordings import ROWS, StoredRecording, read
from .tables import DigestRow, RecordingRow, WarningRow

# Core tables for the writes a digest makes (two transactions per digest, thousands in a first cycle): the ORM's
# unit of work and its bulk paths add per-statement bookkeeping and nothing these writes need.
_DIGESTS: Table = DigestRow.__table__  # type: ignore[assignment]  # a declarative class's Table
_WARNINGS: Table = WarningRow.__table__  # type: ignore[assignment]
_RECORDINGS: Table = RecordingRow.__table__  # type: ignore[assignment]
# A digest's writes, built once (two transactions per digest, hundreds of digests a day): the SET of an UPDATE
# is the columns its parameters give.
_ADD_DIGEST = _DIGESTS.insert().returning(_DIGESTS.c.id)
_ADD_WARNINGS = _WARNINGS.insert()
_DIGEST_BY_ID = update(_DIGESTS).where(_DIGESTS.c.id == bindparam("b_id"))
_DROP_WARNINGS = delete(_WARNINGS).where(_WARNINGS.c.digest_id == bindparam("b_digest"))
_WARNINGS_STATUS = update(_WARNINGS).where(_WARNINGS.c.digest_id == bindparam("b_digest"))
_SENT_WARNINGS = (select(WarningRow.recording_id, WarningRow.cycle_date, WarningRow.announced_due, DigestRow.sent_at)
                  .join(DigestRow, DigestRow.id == WarningRow.digest_id)
                  .where(WarningRow.recording_id.in_(bindparam("ids", expanding=True)),
                         WarningRow.status == DigestStatus.SENT.value))
_REPORTED = update(_RECORDINGS).where(_RECORDINGS.c.id.in_(bindparam("ids", expanding=True))).values(
    deletion_reported=True)
DIGEST_BATCH = 50  # organizers whose digests are read from the store in one query (and held in memory at once)


@dataclass(frozen=True, slots=True)
class StoredDigest:
    id: int
    organizer_id: str
    cycle_date: dt.date
    status: DigestStatus
    recipient: str | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Announcement:
    """One recording in a digest, with the deletion date the digest announces."""

    recording_id: int
    announced_due: dt.date


def find(db: Database, organizer_id: str, cycle_date: dt.date) -> StoredDigest | None:
    """The digest of this organizer for this date, if one was recorded."""
    with db.session() as s:
        row = s.scalar(select(DigestRow).where(DigestRow.organizer_id == organizer_id,
                                               DigestRow.cycle_date == cycle_date))
        return _digest(row) if row else None


def existing(db: Database, cycle_date: dt.date, keys: Iterable[str]) -> dict[str, StoredDigest]:
    """The digests already recorded for this date under these keys (organizer ids, team keys), by key: one
    query per chunk of keys (served by the unique index on organizer_id and cycle_date)."""
    found: dict[str, StoredDigest] = {}
    with db.session() as s:
        for chunk in chunked(sorted(set(keys))):
            for row in s.scalars(select(DigestRow).where(DigestRow.cycle_date == cycle_date,
                                                         DigestRow.organizer_id.in_(chunk))):
                found[row.organizer_id] = _digest(row)
    return found


@dataclass(frozen=True, slots=True)
class DigestContent:
    """What a batch of organizers hears today, per organizer (None: recordings whose organizer is unknown)."""

    warn: dict[str | None, list[StoredRecording]]  # warnings decided by this cycle, by recording id
    receipts: dict[str | None, list[StoredRecording]]  # deleted by us, not yet in a receipt, by recording id


def content(db: Database, cycle_date: dt.date, organizer_ids: Sequence[str | None]) -> DigestContent:
    """The recordings of a batch of organizers' digests in one query (at most :data:`DIGEST_BATCH` organizers
    per call is what it is built for). It filters on ``recordings.organizer_id`` first (IN the batch, or IS
    NULL), then on ``state``, ``action``, ``decided_on``, ``deletion_reported`` and ``evidence_pruned_on``:
    an index on ``recordings(organizer_id, ...)`` serves it."""
    ids = sorted({o for o in organizer_ids if o is not None})
    who = [RecordingRow.organizer_id.in_(ids)] if ids else []
    if any(o is None for o in organizer_ids):
        who.append(RecordingRow.organizer_id.is_(None))
    warn: dict[str | None, list[StoredRecording]] = defaultdict(list)
    receipts: dict[str | None, list[StoredRecording]] = defaultdict(list)
    if not who:
        return DigestContent({}, {})
    to_warn = and_(RecordingRow.state == RecordingState.TRACKED.value, RecordingRow.action == Action.WARN.value,
                   RecordingRow.decided_on == cycle_date)
    unreported = and_(RecordingRow.state == RecordingState.DELETED.value, RecordingRow.deletion_reported.is_(False),
                      RecordingRow.evidence_pruned_on.is_(None))
    q = ROWS.where(or_(*who), or_(to_warn, unreported)).order_by(RecordingRow.id)
    with db.session() as s:
        for rec in read(s, q):
            (warn if rec.state is RecordingState.TRACKED else receipts)[rec.organizer_id].append(rec)
    return DigestContent(dict(warn), dict(receipts))


def for_date(db: Database, cycle_date: dt.date) -> list[StoredDigest]:
    with db.session() as s:
        return [_digest(r) for r in s.scalars(select(DigestRow).where(DigestRow.cycle_date == cycle_date)
                                              .order_by(DigestRow.id))]


def _digest(row: DigestRow) -> StoredDigest:
    return StoredDigest(row.id, row.organizer_id, row.cycle_date, DigestStatus(row.status), row.recipient, row.error)


def record_intent(db: Database, *, replace_id: int | None, run_id: int, organizer_id: str, recipient: str | None,
                  recipient_is_fallback: bool, cycle_date: dt.date, status: DigestStatus, language: str,
                  subject: str, announcements: Iterable[Announcement], events: Iterable[AuditEvent],
                  body: str | None = None) -> int:
    """Record the digest (replacing a failed or dry-run one of the same date) and its warnings before the
    send; returns the digest's id. What proves notice is always kept (when, to whom, which recordings, the
    date announced); the ``subject`` and ``body`` only when the caller passes them
    (``evidence.keep_mail_bodies``): give ``""`` and None to keep no mail text."""
    values: dict[str, Any] = {"run_id": run_id, "recipient": recipient, "recipient_is_fallback": recipient_is_fallback,
                              "status": status.value, "language": language, "subject": subject, "body": body,
                              "error": None}
    with db.session() as s:
        if replace_id is not None:
            _update_digest(s, replace_id, values)
            s.execute(_DROP_WARNINGS, {"b_digest": replace_id})
            digest_id = replace_id
        else:
            digest_id = s.execute(_ADD_DIGEST,
                                  {"organizer_id": organizer_id, "cycle_date": cycle_date, **values}).scalar_one()
        warnings = [{"digest_id": digest_id, "recording_id": a.recording_id, "cycle_date": cycle_date,
                     "announced_due": a.announced_due, "status": status.value} for a in announcements]
        if warnings:
            s.execute(_ADD_WARNINGS, warnings)
        audit.write(s, events)
        return digest_id


def _update_digest(s: Session, digest_id: int, values: dict[str, Any]) -> None:
    """One statement, no read first; a digest that is not there is a bug, not a state to carry on from. Its SET is
    the keys of ``values``: one that is no column would be left out without a word, so it is refused."""
    unknown = values.keys() - _DIGESTS.c.keys()
    assert not unknown, f"not columns of digests: {sorted(unknown)}"
    done = s.execute(_DIGEST_BY_ID, {"b_id": digest_id, **values})
    assert cast(CursorResult[Any], done).rowcount == 1, f"no digest {digest_id} in the store"


def record_unknown(db: Database, digest_id: int, error: str, events: Iterable[AuditEvent]) -> None:
    """The send's outcome is unknown: the digest stays *intended* (never sent again for this date)."""
    with db.session() as s:
        _update_digest(s, digest_id, {"error": f"outcome unknown: {error}"})
        audit.write(s, events)


def record_outcome(db: Database, digest_id: int, *, status: DigestStatus, error: str | None,
                   sent_at: dt.datetime | None, events: Iterable[AuditEvent],
                   receipts_for: Iterable[int] = ()) -> None:
    """Sent or failed, for the digest and each of its warnings; a sent digest's receipts are delivered."""
    with db.session() as s:
        _update_digest(s, digest_id, {"status": status.value, "error": error, "sent_at": sent_at})
        s.execute(_WARNINGS_STATUS, {"b_digest": digest_id, "status": status.value})
        if status is DigestStatus.SENT:
            for chunk in chunked(sorted(set(receipts_for))):
                s.execute(_REPORTED, {"ids": chunk})
        audit.write(s, events)


def sent_warnings(db: Database, recording_ids: Iterable[int]) -> dict[int, list[WarningSent]]:
    """Warnings Graph accepted (202), per recording: only these start a notice clock."""
    result: dict[int, list[WarningSent]] = defaultdict(list)
    with db.session() as s:
        for chunk in chunked(sorted(set(recording_ids))):
            for rid, sent_on, due, sent_at in s.execute(_SENT_WARNINGS, {"ids": chunk}):
                result[rid].append(WarningSent(sent_on=sent_on, announced_due=due, sent_at=sent_at))
    return dict(result)


def list_all(db: Database) -> list[StoredDigest]:
    with db.session() as s:
        return [_digest(r) for r in s.scalars(select(DigestRow).order_by(DigestRow.cycle_date, DigestRow.id))]
