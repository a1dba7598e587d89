"""Client assignments, their tags on recordings, and exemptions: the facts that keep a recording.

:func:`load` reads them whole (they are small tables) for the cycle's fact index. Every change is written
with its audit event, naming the acting identity, in one transaction (exemptions: ``store/exemptions.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from ..domain import (
    AssignmentStatus,
    AssignmentTag,
    Exemption,
    ExemptionKind,
    ExemptionStatus,
    RecordingRef,
    TargetKind,
)
from . import audit
from .audit import AuditEvent, AuditKind
from .database import Database
from .tables import AssignmentRow, AssignmentTagRow, ExemptionRow


@dataclass(frozen=True, slots=True)
class Governance:
    """Everything that may keep a recording, as of one read."""

    tags: tuple[tuple[RecordingRef, AssignmentTag], ...] = ()
    exemptions: tuple[Exemption, ...] = ()


def load(db: Database) -> Governance:
    with db.session() as s:
        assignments = {a.id: a for a in s.scalars(select(AssignmentRow))}
        tags: list[tuple[RecordingRef, AssignmentTag]] = []
        for t in s.scalars(select(AssignmentTagRow).order_by(AssignmentTagRow.id)):
            a = assignments.get(t.assignment_id)
            if a is None:
                continue
            tags.append((RecordingRef(t.drive_id, t.item_id), AssignmentTag(
                assignment_id=a.id, assignment_name=a.name, active=a.status == AssignmentStatus.ACTIVE.value,
                tagged_on=t.tagged_on, closed_on=a.closed_on, untagged_on=t.untagged_on, closed_at=a.closed_at,
                untagged_at=t.untagged_at)))
        exemptions = tuple(_exemption(e) for e in s.scalars(select(ExemptionRow).order_by(ExemptionRow.id)))
    return Governance(tuple(tags), exemptions)


def _exemption(e: ExemptionRow) -> Exemption:
    return Exemption(
        id=e.id, kind=ExemptionKind(e.kind), status=ExemptionStatus(e.status), requested_on=e.requested_on,
        target_kind=TargetKind(e.target_kind), target_id=e.target_id, decided_on=e.decided_on,
        valid_until=e.valid_until, review_on=e.review_on, revoked_on=e.revoked_on, recorded_at=e.recorded_at,
        decided_at=e.decided_at,
        revoked_at=e.revoked_at, requested_by=e.requested_by, decided_by=e.decided_by or "", reason=e.reason)


def has_assignment(db: Database, assignment_id: str) -> bool:
    with db.session() as s:
        return s.get(AssignmentRow, assignment_id) is not None


def record_assignment(db: Database, assignment_id: str, *, name: str, client: str | None, opened_on: dt.date,
                      actor: str, at: dt.datetime, day: dt.date) -> None:
    with db.session() as s:
        s.add(AssignmentRow(id=assignment_id, name=name, client=client, status=AssignmentStatus.ACTIVE.value,
                            opened_on=opened_on, created_by=actor))
        audit.write(s, [AuditEvent(AuditKind.ASSIGNMENT_RECORDED, at=at, actor=actor, cycle_date=day,
                                   reason=f"Client assignment {name} ({assignment_id}) opened on {opened_on}.",
                                   detail={"assignment": assignment_id, "client": client})])


def tag(db: Database, assignment_id: str, ref: RecordingRef, *, tagged_on: dt.date, actor: str,
        at: dt.datetime, day: dt.date) -> None:
    with db.session() as s:
        s.add(AssignmentTagRow(assignment_id=assignment_id, drive_id=ref.drive_id, item_id=ref.item_id,
                               tagged_on=tagged_on, tagged_by=actor))
        audit.write(s, [AuditEvent(AuditKind.TAGGED, at=at, actor=actor, cycle_date=day,
                                   recording_key=ref.key, reason=f"Tagged to client assignment {assignment_id}.",
                                   detail={"assignment": assignment_id})])


def close_assignment(db: Database, assignment_id: str, *, closed_on: dt.date, actor: str, at: dt.datetime,
                     reason: str) -> None:
    with db.session() as s:
        row = s.get(AssignmentRow, assignment_id)
        assert row is not None, f"no assignment {assignment_id} in the store"
        row.status, row.closed_on, row.closed_at = AssignmentStatus.CLOSED.value, closed_on, at
        audit.write(s, [AuditEvent(AuditKind.ASSIGNMENT_CLOSED, at=at, actor=actor, cycle_date=closed_on,
                                   reason=reason, detail={"assignment": assignment_id})])
