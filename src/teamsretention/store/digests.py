"""Digests and the warnings they carry. A digest is recorded as *intended* before it is sent; only a send
Graph accepted (202) marks its warnings *sent*, which is what starts a notice clock."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from ..domain import DigestStatus, WarningSent
from . import audit
from .audit import AuditEvent
from .database import Database, chunked
from .tables import DigestRow, RecordingRow, WarningRow


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
    with db.session() as s:
        if replace_id is not None:
            digest = s.get(DigestRow, replace_id)
            assert digest is not None, f"no digest {replace_id} in the store"
            digest.status, digest.run_id, digest.error = status.value, run_id, None
            digest.recipient, digest.recipient_is_fallback = recipient, recipient_is_fallback
            digest.language, digest.subject, digest.body = language, subject, body
            for w in s.scalars(select(WarningRow).where(WarningRow.digest_id == replace_id)):
                s.delete(w)
        else:
            digest = DigestRow(run_id=run_id, organizer_id=organizer_id, recipient=recipient,
                               recipient_is_fallback=recipient_is_fallback, cycle_date=cycle_date,
                               status=status.value, language=language, subject=subject, body=body)
            s.add(digest)
        s.flush()
        for a in announcements:
            s.add(WarningRow(digest_id=digest.id, recording_id=a.recording_id, cycle_date=cycle_date,
                             announced_due=a.announced_due, status=status.value))
        audit.write(s, events)
        return digest.id


def record_unknown(db: Database, digest_id: int, error: str, events: Iterable[AuditEvent]) -> None:
    """The send's outcome is unknown: the digest stays *intended* (never sent again for this date)."""
    with db.session() as s:
        digest = s.get(DigestRow, digest_id)
        assert digest is not None, f"no digest {digest_id} in the store"
        digest.error = f"outcome unknown: {error}"
        audit.write(s, events)


def record_outcome(db: Database, digest_id: int, *, status: DigestStatus, error: str | None,
                   sent_at: dt.datetime | None, events: Iterable[AuditEvent],
                   receipts_for: Iterable[int] = ()) -> None:
    """Sent or failed, for the digest and each of its warnings; a sent digest's receipts are delivered."""
    with db.session() as s:
        digest = s.get(DigestRow, digest_id)
        assert digest is not None, f"no digest {digest_id} in the store"
        digest.status, digest.error, digest.sent_at = status.value, error, sent_at
        for w in s.scalars(select(WarningRow).where(WarningRow.digest_id == digest_id)):
            w.status = status.value
        if status is DigestStatus.SENT:
            for rid in receipts_for:
                row = s.get(RecordingRow, rid)
                if row is not None:
                    row.deletion_reported = True
        audit.write(s, events)


def sent_warnings(db: Database, recording_ids: Iterable[int]) -> dict[int, list[WarningSent]]:
    """Warnings Graph accepted (202), per recording: only these start a notice clock."""
    result: dict[int, list[WarningSent]] = defaultdict(list)
    with db.session() as s:
        for chunk in chunked(sorted(set(recording_ids))):
            q = (select(WarningRow.recording_id, WarningRow.cycle_date, WarningRow.announced_due, DigestRow.sent_at)
                 .join(DigestRow, DigestRow.id == WarningRow.digest_id)
                 .where(WarningRow.recording_id.in_(chunk), WarningRow.status == DigestStatus.SENT.value))
            for rid, sent_on, due, sent_at in s.execute(q):
                result[rid].append(WarningSent(sent_on=sent_on, announced_due=due, sent_at=sent_at))
    return dict(result)


def list_all(db: Database) -> list[StoredDigest]:
    with db.session() as s:
        return [_digest(r) for r in s.scalars(select(DigestRow).order_by(DigestRow.cycle_date, DigestRow.id))]
