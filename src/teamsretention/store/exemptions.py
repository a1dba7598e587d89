"""Exemptions and legal holds: requested, approved or rejected, revoked, expired; and the items of the
"Retention requests" list they came from.

Every change is written with its audit event in one transaction, naming the acting identity (``actor``) and
where the change came from (``detail["source"]``: cli | list | cycle). A status changes only along
pending -> approved | rejected and approved -> revoked | expired; the transition is checked inside the
transaction that makes it, so two deciders racing cannot both win.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..domain import Exemption, ExemptionKind, ExemptionStatus, TargetKind
from ..errors import InvalidInput
from . import audit
from .audit import AuditEvent, AuditKind
from .database import Database
from .tables import ExemptionRow, RequestItemRow, SyncStateRow

# Which status may follow which, and the audit event of each change.
_NEXT: dict[ExemptionStatus, tuple[ExemptionStatus, AuditKind, ExemptionStatus]] = {
    ExemptionStatus.APPROVED: (ExemptionStatus.PENDING, AuditKind.EXEMPTION_APPROVED, ExemptionStatus.APPROVED),
    ExemptionStatus.REJECTED: (ExemptionStatus.PENDING, AuditKind.EXEMPTION_REJECTED, ExemptionStatus.REJECTED),
    ExemptionStatus.REVOKED: (ExemptionStatus.APPROVED, AuditKind.EXEMPTION_REVOKED, ExemptionStatus.REVOKED),
}


@dataclass(frozen=True, slots=True)
class StoredExemption:
    id: str
    kind: ExemptionKind
    status: ExemptionStatus
    target_kind: TargetKind
    target_id: str
    requested_on: dt.date
    requested_by: str  # the acting identity as recorded ("<name> <object id>", or the CLI's --actor)
    requested_by_id: str | None  # the requester's Entra object id (self-approval is checked on it)
    reason: str
    legal_basis: str
    valid_until: dt.date | None
    review_on: dt.date | None
    source: str
    list_item_id: str | None
    list_id: str | None  # the list of list_item_id
    recorded_at: dt.datetime | None
    decided_on: dt.date | None
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_note: str | None
    revoked_on: dt.date | None
    revoked_at: dt.datetime | None
    revoked_by: str | None

    def describe_target(self) -> str:
        return f"{self.target_kind.value} {self.target_id}"

    @property
    def requester(self) -> str:
        """Who asked, as one person (see :attr:`~..domain.Exemption.requester`)."""
        return (self.requested_by_id or self.requested_by).lower()

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for f in fields(self):
            name, value = f.name, getattr(self, f.name)
            out[name] = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else (
                value.value if isinstance(value, (ExemptionKind, ExemptionStatus, TargetKind)) else value)
        return out


@dataclass(frozen=True, slots=True)
class NewRequest:
    kind: ExemptionKind
    target_kind: TargetKind
    target_id: str
    reason: str
    legal_basis: str
    requested_on: dt.date
    requested_by: str
    requested_by_id: str | None
    valid_until: dt.date | None = None
    review_on: dt.date | None = None
    source: str = "cli"
    list_item_id: str | None = None
    list_id: str | None = None


@dataclass(frozen=True, slots=True)
class ItemMark:
    """What the cycle last applied from one list item (written with the change it caused)."""

    list_id: str  # an item id names an item only within its list
    item_id: str
    status_seen: str | None = None
    version_seen: str | None = None
    exemption_id: str | None = None
    tag_key: str | None = None
    deleted_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredRequestItem:
    list_id: str
    item_id: str
    exemption_id: str | None
    tag_key: str | None
    status_seen: str | None
    version_seen: str | None
    deleted_at: dt.datetime | None


def _stored(e: ExemptionRow) -> StoredExemption:
    return StoredExemption(
        id=e.id, kind=ExemptionKind(e.kind), status=ExemptionStatus(e.status), target_kind=TargetKind(e.target_kind),
        target_id=e.target_id, requested_on=e.requested_on, requested_by=e.requested_by or "",
        requested_by_id=e.requested_by_id, reason=e.reason or "", legal_basis=e.legal_basis or "",
        valid_until=e.valid_until, review_on=e.review_on, source=e.source or "cli", list_item_id=e.list_item_id,
        list_id=e.list_id,
        recorded_at=e.recorded_at, decided_on=e.decided_on, decided_at=e.decided_at, decided_by=e.decided_by,
        decision_note=e.decision_note, revoked_on=e.revoked_on, revoked_at=e.revoked_at, revoked_by=e.revoked_by)


def _event(kind: AuditKind, e: ExemptionRow, *, actor: str, at: dt.datetime, day: dt.date, reason: str,
           source: str, run_id: int | None = None, **detail: object) -> AuditEvent:
    return AuditEvent(kind, at=at, actor=actor, reason=reason, cycle_date=day, run_id=run_id,
                      recording_key=e.target_id if e.target_kind == TargetKind.RECORDING.value else None,
                      detail={"exemption": e.id, "kind": e.kind, "status": e.status, "target_kind": e.target_kind,
                              "target_id": e.target_id, "source": source, **detail})


def _mark(s: Session, mark: ItemMark | None) -> None:
    if mark is None:
        return
    row = s.get(RequestItemRow, (mark.list_id, mark.item_id))
    if row is None:
        row = RequestItemRow(list_id=mark.list_id, item_id=mark.item_id)
        s.add(row)
    for name in ("status_seen", "version_seen", "exemption_id", "tag_key", "deleted_at"):
        value = getattr(mark, name)
        if value is not None:
            setattr(row, name, value)


def _next_id(ids: list[str]) -> str:
    numbers = [int(m.group(1)) for i in ids if (m := re.fullmatch(r"EX-(\d+)", i))]
    return f"EX-{max(numbers, default=0) + 1}"


# --- reads ---------------------------------------------------------------------------------------
def get(db: Database, exemption_id: str) -> StoredExemption | None:
    with db.session() as s:
        row = s.get(ExemptionRow, exemption_id)
        return _stored(row) if row is not None else None


def list_all(db: Database, status: ExemptionStatus | None = None) -> list[StoredExemption]:
    q = select(ExemptionRow).order_by(ExemptionRow.requested_on, ExemptionRow.id)
    if status is not None:
        q = q.where(ExemptionRow.status == status.value)
    with db.session() as s:
        return [_stored(r) for r in s.scalars(q)]


def request_item(db: Database, list_id: str, item_id: str) -> StoredRequestItem | None:
    with db.session() as s:
        r = s.get(RequestItemRow, (list_id, item_id))
        return None if r is None else StoredRequestItem(r.list_id, r.item_id, r.exemption_id, r.tag_key,
                                                         r.status_seen, r.version_seen, r.deleted_at)


def items_of_other_lists(db: Database, list_id: str) -> int:
    """How many items the store holds of lists other than ``list_id`` (``""``: a list read before list ids were
    kept, not known)."""
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(RequestItemRow).where(RequestItemRow.list_id != list_id)) or 0


def adopt_item(db: Database, list_id: str, item_id: str) -> None:
    """An item read before list ids were kept turned out to be item ``item_id`` of ``list_id`` (the same creator,
    the same day): it and its exemption are named by that list from now on."""
    with db.session() as s:
        row = s.get(RequestItemRow, ("", item_id))
        if row is None:
            return
        s.execute(update(RequestItemRow).where(RequestItemRow.list_id == "", RequestItemRow.item_id == item_id)
                  .values(list_id=list_id))
        if row.exemption_id:
            s.execute(update(ExemptionRow).where(ExemptionRow.id == row.exemption_id, ExemptionRow.list_id == "")
                      .values(list_id=list_id))


# --- changes -------------------------------------------------------------------------------------
def record_exemption(db: Database, e: Exemption, *, actor: str, at: dt.datetime, day: dt.date, note: str,
                     source: str = "cli", legal_basis: str = "") -> None:
    """An exemption (request) as it already stands (imported or seeded), with who recorded it and why."""
    with db.session() as s:
        row = ExemptionRow(id=e.id, kind=e.kind.value, status=e.status.value, target_kind=e.target_kind.value,
                           target_id=e.target_id, requested_on=e.requested_on, requested_by=e.requested_by,
                           decided_on=e.decided_on, decided_by=e.decided_by or None, valid_until=e.valid_until,
                           review_on=e.review_on, revoked_on=e.revoked_on, reason=e.reason,
                           legal_basis=legal_basis, source=source, recorded_at=e.recorded_at or at,
                           decided_at=e.decided_at or (at if e.decided_on else None),
                           revoked_at=e.revoked_at or (at if e.revoked_on else None))
        s.add(row)
        audit.write(s, [_event(AuditKind.EXEMPTION_RECORDED, row, actor=actor, at=at, day=day, reason=note,
                               source=source)])


def request(db: Database, new: NewRequest, *, actor: str, at: dt.datetime, day: dt.date,
            run_id: int | None = None, mark: ItemMark | None = None) -> StoredExemption:
    """A new pending request; its id is the next ``EX-<n>``."""
    with db.session() as s:
        exemption_id = _next_id(list(s.scalars(select(ExemptionRow.id))))
        row = ExemptionRow(
            id=exemption_id, kind=new.kind.value, status=ExemptionStatus.PENDING.value,
            target_kind=new.target_kind.value, target_id=new.target_id, requested_on=new.requested_on,
            requested_by=new.requested_by, requested_by_id=new.requested_by_id, reason=new.reason,
            legal_basis=new.legal_basis, valid_until=new.valid_until, review_on=new.review_on, source=new.source,
            list_item_id=new.list_item_id, list_id=new.list_id, recorded_at=at)
        s.add(row)
        ends = (f" until {new.valid_until}" if new.valid_until else "") + (
            f", review on {new.review_on}" if new.review_on else "")
        audit.write(s, [_event(AuditKind.EXEMPTION_REQUESTED, row, actor=actor, at=at, day=day, run_id=run_id,
                               source=new.source, legal_basis=new.legal_basis, list_item=new.list_item_id,
                               **({"list": new.list_id} if new.list_id else {}),
                               reason=f"{new.kind.value.replace('_', ' ')} requested for "
                                      f"{new.target_kind.value} {new.target_id}{ends}: {new.reason}")])
        _mark(s, mark and ItemMark(mark.list_id, mark.item_id, mark.status_seen, mark.version_seen,
                                   exemption_id=exemption_id))
        return _stored(row)


def decide(db: Database, exemption_id: str, status: ExemptionStatus, *, actor: str, at: dt.datetime,
           day: dt.date, note: str, source: str, run_id: int | None = None,
           mark: ItemMark | None = None,
           dates: tuple[dt.date | None, dt.date | None] | None = None) -> StoredExemption:
    """Approve, reject or revoke. Raises InvalidInput (naming the exemption and its status) when the change is
    not one the exemption's status allows; nothing is written then. ``dates``: an approval's own end and review
    date (None in it: that one unchanged), set with it and audited with what they were."""
    before, kind, after = _NEXT[status]
    with db.session() as s:
        row = s.get(ExemptionRow, exemption_id)
        if row is None:
            raise InvalidInput(f"exemption {exemption_id}: no such exemption in the store")
        if row.status != before.value:
            raise InvalidInput(f"exemption {exemption_id} is {row.status}: only a {before.value} one can be "
                              f"{after.value}")
        row.status = after.value
        changed: dict[str, object] = {}
        if dates is not None:
            for name, value in zip(("valid_until", "review_on"), dates, strict=True):
                if value is not None and value != getattr(row, name):
                    changed |= {f"{name}_was": str(getattr(row, name)), name: value.isoformat()}
                    setattr(row, name, value)
        if after is ExemptionStatus.REVOKED:
            row.revoked_on, row.revoked_at, row.revoked_by = day, at, actor
        else:
            row.decided_on, row.decided_at, row.decided_by, row.decision_note = day, at, actor, note or None
        audit.write(s, [_event(kind, row, actor=actor, at=at, day=day, run_id=run_id, source=source,
                               reason=f"exemption {exemption_id} {after.value} by {actor}"
                                      + "".join(f", {k.replace('_', ' ')} {v}" for k, v in changed.items()
                                                if not k.endswith("_was"))
                                      + (f": {note}" if note else ""), note=note, **changed,
                               **({"list": mark.list_id, "list_item": mark.item_id} if mark else {}))])
        _mark(s, mark)
        return _stored(row)


def expire_due(db: Database, *, today: dt.date, at: dt.datetime, run_id: int | None = None) -> list[StoredExemption]:
    """Approved exceptions whose end has come (``valid_until`` on or before today) become expired."""
    with db.session() as s:
        rows = list(s.scalars(select(ExemptionRow).where(
            ExemptionRow.status == ExemptionStatus.APPROVED.value,
            ExemptionRow.kind == ExemptionKind.EXCEPTION.value,
            ExemptionRow.valid_until.is_not(None), ExemptionRow.valid_until <= today)))
        for row in rows:
            row.status = ExemptionStatus.EXPIRED.value
            audit.write(s, [_event(AuditKind.EXEMPTION_EXPIRED, row, actor=audit.SYSTEM_ACTOR, at=at, day=today,
                                   run_id=run_id, source="cycle",
                                   reason=f"exemption {row.id} ended on {row.valid_until}")])
        return [_stored(r) for r in rows]


def list_made(db: Database, list_id: str) -> list[StoredExemption]:
    """The pending and approved exemptions items of the list ``list_id`` asked for (or of a list the store could
    not name), with an end or a review date."""
    with db.session() as s:
        rows = s.scalars(select(ExemptionRow).where(
            ExemptionRow.source == "list", ExemptionRow.list_item_id.is_not(None),
            or_(ExemptionRow.list_id == list_id, ExemptionRow.list_id == "", ExemptionRow.list_id.is_(None)),
            ExemptionRow.status.in_([ExemptionStatus.PENDING.value, ExemptionStatus.APPROVED.value]),
            or_(ExemptionRow.valid_until.is_not(None), ExemptionRow.review_on.is_not(None)))
            .order_by(ExemptionRow.recorded_at, ExemptionRow.id))
        return [_stored(r) for r in rows]


def correct_dates(db: Database, exemption_id: str, *, valid_until: dt.date | None, review_on: dt.date | None,
                  at: dt.datetime, day: dt.date, reason: str, run_id: int | None = None) -> StoredExemption:
    """Set an exemption's end and review dates to what its list item says (audited with both dates); only ever
    later than stored, which the caller has checked."""
    with db.session() as s:
        row = s.get(ExemptionRow, exemption_id)
        if row is None:
            raise InvalidInput(f"exemption {exemption_id}: no such exemption in the store")
        was = {"valid_until_was": row.valid_until.isoformat() if row.valid_until else None,
               "review_on_was": row.review_on.isoformat() if row.review_on else None}
        row.valid_until, row.review_on = valid_until, review_on
        audit.write(s, [_event(AuditKind.EXEMPTION_CORRECTED, row, actor=audit.SYSTEM_ACTOR, at=at, day=day,
                               run_id=run_id, source="list", reason=reason, list=row.list_id,
                               list_item=row.list_item_id, **was,
                               valid_until=valid_until.isoformat() if valid_until else None,
                               review_on=review_on.isoformat() if review_on else None)])
        return _stored(row)


def note_item(db: Database, mark: ItemMark, events: list[AuditEvent]) -> None:
    """A list item handled without changing an exemption (ignored, invalid, deleted): its mark and the
    evidence, together."""
    with db.session() as s:
        _mark(s, mark)
        audit.write(s, events)


def record_digest_state(db: Database, key: str, value: str, events: list[AuditEvent]) -> None:
    """The DPO digest's state for its week (intended, sent, failed) with its evidence, together."""
    with db.session() as s:
        row = s.get(SyncStateRow, key)
        if row is None:
            s.add(SyncStateRow(key=key, value=value))
        else:
            row.value = value
        audit.write(s, events)
