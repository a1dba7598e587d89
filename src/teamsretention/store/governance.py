"""The facts that keep a recording: tags to client assignments (``store.assignments``) and exemptions.

:func:`load` reads them whole (they are small tables) for the cycle's fact index. Every change is written
with its audit event, naming the acting identity, in one transaction (exemptions: ``store/exemptions.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
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
from .database import Database, chunked
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


def load_for(db: Database, keys: Iterable[str], targets: Iterable[tuple[str, str]]) -> Governance:
    """What may cover one recording, read afresh: the tags of the recordings ``keys`` ("<drive>/<item>": it and
    those it was moved from) and the exemptions of ``targets`` ((target kind, target id) pairs) and of the
    assignments those tags name. A few indexed queries, whatever the size of the tables."""
    items = [(drive, item) for drive, _, item in (k.partition("/") for k in keys)]
    with db.session() as s:
        tags = tuple(assignments.tag_facts(s, items))
        wanted = {*targets, *((TargetKind.ASSIGNMENT.value, t.assignment_id) for _, t in tags)}
        found: list[ExemptionRow] = []
        for chunk in chunked(sorted({target_id for _, target_id in wanted})):
            found += [e for e in s.scalars(select(ExemptionRow).where(ExemptionRow.target_id.in_(chunk)))
                      if (e.target_kind, e.target_id) in wanted]
        exemptions = tuple(_exemption(e) for e in sorted(found, key=lambda e: e.id))
    return Governance(tags, exemptions)


def _exemption(e: ExemptionRow) -> Exemption:
    return Exemption(
        id=e.id, kind=ExemptionKind(e.kind), status=ExemptionStatus(e.status), requested_on=e.requested_on,
        target_kind=TargetKind(e.target_kind), target_id=e.target_id, decided_on=e.decided_on,
        valid_until=e.valid_until, review_on=e.review_on, revoked_on=e.revoked_on, recorded_at=e.recorded_at,
        decided_at=e.decided_at,
        revoked_at=e.revoked_at, requested_by=e.requested_by, decided_by=e.decided_by or "", reason=e.reason)


