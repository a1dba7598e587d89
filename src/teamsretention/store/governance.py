"""The facts that keep a recording: tags to client assignments (``store.assignments``) and exemptions.

:func:`load` reads them whole (they are small tables) for the cycle's fact index. Every change is written
with its audit event, naming the acting identity, in one transaction (exemptions: ``store/exemptions.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..domain import (
    AssignmentTag,
    Exemption,
    ExemptionKind,
    ExemptionStatus,
    RecordingRef,
    TargetKind,
)
from . import assignments
from .assignments import tag  # noqa: F401  (moved to store.assignments; kept for callers of governance.tag)
from .database import Database
from .tables import ExemptionRow


@dataclass(frozen=True, slots=True)
class Governance:
    """Everything that may keep a recording, as of one read."""

    tags: tuple[tuple[RecordingRef, AssignmentTag], ...] = ()
    exemptions: tuple[Exemption, ...] = ()


def load(db: Database) -> Governance:
    with db.session() as s:
        tags = tuple(assignments.tag_facts(s))
        exemptions = tuple(_exemption(e) for e in s.scalars(select(ExemptionRow).order_by(ExemptionRow.id)))
    return Governance(tags, exemptions)


def _exemption(e: ExemptionRow) -> Exemption:
    return Exemption(
        id=e.id, kind=ExemptionKind(e.kind), status=ExemptionStatus(e.status), requested_on=e.requested_on,
        target_kind=TargetKind(e.target_kind), target_id=e.target_id, decided_on=e.decided_on,
        valid_until=e.valid_until, review_on=e.review_on, revoked_on=e.revoked_on, recorded_at=e.recorded_at,
        decided_at=e.decided_at,
        revoked_at=e.revoked_at, requested_by=e.requested_by, decided_by=e.decided_by or "", reason=e.reason)


