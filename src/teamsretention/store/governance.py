"""The facts that keep a recording: tags to client assignments (``store.assignments``) and exemptions.

:func:`load` reads them whole (they are small tables) for the cycle's fact index. Every change is written
with its audit event, naming the acting identity, in one transaction (exemptions: ``store/exemptions.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, select, tuple_
from sqlalchemy.orm import Session

from ..domain import (
    AssignmentStatus,
    AssignmentTag,
    Exemption,
    ExemptionKind,
    ExemptionStatus,
    RecordingRef,
    TargetKind,
)
from .assignments import tag  # noqa: F401  (moved to store.assignments; kept for callers of governance.tag)
from .database import Database, chunked
from .tables import AssignmentRow, AssignmentTagRow, ExemptionRow

_EXEMPTION_TABLE: Table = ExemptionRow.__table__  # type: ignore[assignment]  # a declarative class's Table
_EXEMPTIONS_OF = select(_EXEMPTION_TABLE).where(_EXEMPTION_TABLE.c.target_id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True, slots=True)
class Governance:
    """Everything that may keep a recording, as of one read."""

    tags: tuple[tuple[RecordingRef, AssignmentTag], ...] = ()
    exemptions: tuple[Exemption, ...] = ()


def load(db: Database) -> Governance:
    with db.session() as s:
        tags = tuple(tag_facts(s))
        exemptions = tuple(_exemption(e) for e in s.scalars(select(ExemptionRow).order_by(ExemptionRow.id)))
    return Governance(tags, exemptions)


def load_for(db: Database, keys: Iterable[str], targets: Iterable[tuple[str, str]]) -> Governance:
    """What may cover one recording, read afresh: the tags of the recordings ``keys`` ("<drive>/<item>": it and
    those it was moved from) and the exemptions of ``targets`` ((target kind, target id) pairs) and of the
    assignments those tags name. A few indexed queries, whatever the size of the tables."""
    items = [(drive, item) for drive, _, item in (k.partition("/") for k in keys)]
    with db.session() as s:
        tags = tuple(tag_facts(s, items))
        wanted = {*targets, *((TargetKind.ASSIGNMENT.value, t.assignment_id) for _, t in tags)}
        found: list[Any] = []  # rows of the exemptions table (plain rows: no ORM objects are built)
        for chunk in chunked(sorted({target_id for _, target_id in wanted})):
            found += [e for e in s.execute(_EXEMPTIONS_OF, {"ids": chunk}) if (e.target_kind, e.target_id) in wanted]
        exemptions = tuple(_exemption(e) for e in sorted(found, key=lambda e: e.id))
    return Governance(tags, exemptions)


def _exemption(e: Any) -> Exemption:
    """From an ORM object or a plain row of the exemptions table (the same attribute names)."""
    return Exemption(
        id=e.id, kind=ExemptionKind(e.kind), status=ExemptionStatus(e.status), requested_on=e.requested_on,
        target_kind=TargetKind(e.target_kind), target_id=e.target_id, decided_on=e.decided_on,
        valid_until=e.valid_until, review_on=e.review_on, revoked_on=e.revoked_on, recorded_at=e.recorded_at,
        decided_at=e.decided_at,
        revoked_at=e.revoked_at, requested_by=e.requested_by,
        requested_by_id=e.requested_by_id, decided_by=e.decided_by or "", reason=e.reason)


_TAG_TABLE: Table = AssignmentTagRow.__table__  # type: ignore[assignment]  # a declarative class's Table
_ASSIGNMENT_TABLE: Table = AssignmentRow.__table__  # type: ignore[assignment]
_TAGS_OF = select(_TAG_TABLE).where(
    tuple_(_TAG_TABLE.c.drive_id, _TAG_TABLE.c.item_id).in_(bindparam("pairs", expanding=True)))
_ASSIGNMENTS_BY_CODE = select(_ASSIGNMENT_TABLE).where(_ASSIGNMENT_TABLE.c.id.in_(bindparam("codes", expanding=True)))


def tag_facts(s: Session, items: Sequence[tuple[str, str]] | None = None) -> list[tuple[RecordingRef, AssignmentTag]]:
    """Every tag as the policy reads it (inside :func:`load`'s session); with ``items``, only the
    tags of these (drive id, item id) pairs, with their assignments."""
    rows: list[Any]  # ORM objects or plain rows of the tags table
    assignments: dict[str, Any]
    if items is None:
        assignments = {a.id: a for a in s.scalars(select(AssignmentRow))}
        rows = list(s.scalars(select(AssignmentTagRow).order_by(AssignmentTagRow.id)))
    else:  # just before a deletion: plain rows from statements built once (the same attribute names)
        rows = []
        for chunk in chunked(sorted(set(items))):
            rows += s.execute(_TAGS_OF, {"pairs": chunk})
        rows.sort(key=lambda t: t.id)
        codes = sorted({t.assignment_id for t in rows})
        assignments = {a.id: a for a in s.execute(_ASSIGNMENTS_BY_CODE, {"codes": codes})} if codes else {}
    found: list[tuple[RecordingRef, AssignmentTag]] = []
    for t in rows:
        a = assignments.get(t.assignment_id)
        if a is None:
            continue
        active = a.status == AssignmentStatus.ACTIVE.value
        # A closed assignment always has a closing date; a row that lost it counts as closed since it opened
        # (a closed assignment keeps nothing, whatever its date).
        closed_on = None if active else (a.closed_on or a.opened_on)
        found.append((RecordingRef(t.drive_id, t.item_id), AssignmentTag(
            assignment_id=a.id, assignment_name=a.name, active=active,
            tagged_on=t.tagged_on, closed_on=closed_on, untagged_on=t.untagged_on, closed_at=a.closed_at,
            untagged_at=t.untagged_at)))
    return found
