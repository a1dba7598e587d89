"""The audit trail: append-only evidence of every decision change and every action (design §3 step 5).

This module is the trail's one writer: every event goes through :func:`write` (inside another store
function's transaction, so a state change and its evidence are committed together) or :func:`append`
(a transaction of its own). Nothing else constructs an audit row; a test holds the source tree to that.
Triggers in the migrations refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import RecordingRef
from .database import Database
from .tables import AuditRow

SYSTEM_ACTOR = "teamsretention"


class AuditKind(StrEnum):
    # inventory
    DISCOVERED = "discovered"
    VANISHED = "vanished"  # deleted or moved away outside teamsretention
    UNTRACKED = "untracked"  # no longer recognised as a recording
    UNSURE = "unsure"  # a video in a Recordings folder not taken for a recording: listed, never touched
    RECOGNISED = "recognised"  # an unsure video now recognised (its folder or name changed, or an admin's list)
    MOVED = "moved"  # found on another drive: what covered it before the move covers it still
    RESTORED = "restored"  # back after teamsretention deleted it
    REAPPEARED = "reappeared"  # back after it vanished
    # evaluation
    DECISION = "decision"
    # warnings
    WOULD_WARN = "would_warn"
    WARN_INTENDED = "warn_intended"
    WARN_UNDELIVERABLE = "warn_undeliverable"
    WARN_OUTCOME_UNKNOWN = "warn_outcome_unknown"
    WARNED = "warned"
    WARN_FAILED = "warn_failed"
    # deletions
    DELETED = "deleted"
    ALREADY_GONE = "already_gone"
    DELETE_SKIPPED = "delete_skipped"
    DELETE_FAILED = "delete_failed"
    DELETE_OUTCOME_UNKNOWN = "delete_outcome_unknown"
    DELETE_SETTLED = "delete_settled"  # a delete whose answer was lost, settled by a re-read: not carried out
    DELETE_BLOCKED = "delete_blocked"
    DELETIONS_PAUSED = "deletions_paused"
    PERMISSION_PROBLEM = "permission_problem"
    DELETION_LIMIT_OVERRIDE = "deletion_limit_override"
    SAFETY_STOP = "safety_stop"
    # runs and administration
    RUN_FINISHED = "run_finished"
    PAUSED = "paused"
    RESUMED = "resumed"
    EXEMPTION_RECORDED = "exemption_recorded"
    ASSIGNMENT_RECORDED = "assignment_recorded"
    ASSIGNMENT_CLOSED = "assignment_closed"
    TAGGED = "tagged"
    # exemptions and legal holds (store/exemptions.py): actor = the acting identity, detail["source"]
    EXEMPTION_REQUESTED = "exemption_requested"
    EXEMPTION_APPROVED = "exemption_approved"
    EXEMPTION_REJECTED = "exemption_rejected"
    EXEMPTION_REVOKED = "exemption_revoked"
    EXEMPTION_EXPIRED = "exemption_expired"
    DECISION_IGNORED = "decision_ignored"  # a decision by someone outside the roles, the requester, or on own
    LIST_ITEM_DELETED = "list_item_deleted"  # a Retention requests item deleted: reported, the store stands
    REQUEST_INVALID = "request_invalid"  # a list row that could not be applied (missing reason, bad link, ...)
    DPO_DIGEST_INTENDED = "dpo_digest_intended"
    DPO_DIGEST_SENT = "dpo_digest_sent"
    DPO_DIGEST_FAILED = "dpo_digest_failed"


class Subject(Protocol):
    """What an event about one recording names: any stored recording will do."""

    @property
    def ref(self) -> RecordingRef: ...
    @property
    def name(self) -> str: ...
    @property
    def organizer_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class AuditEvent:
    kind: AuditKind
    at: dt.datetime
    reason: str = ""
    cycle_date: dt.date | None = None
    run_id: int | None = None
    actor: str = SYSTEM_ACTOR
    recording_key: str | None = None
    recording_name: str | None = None
    organizer_id: str | None = None
    rule: str | None = None
    due: dt.date | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def about(cls, kind: AuditKind, subject: Subject | None, *, at: dt.datetime, reason: str = "",
              cycle_date: dt.date | None = None, run_id: int | None = None, actor: str = SYSTEM_ACTOR,
              rule: str | None = None, due: dt.date | None = None, **detail: Any) -> AuditEvent:
        """An event about ``subject`` (a recording), or about the run when it is None."""
        return cls(kind=kind, at=at, reason=reason, cycle_date=cycle_date, run_id=run_id, actor=actor,
                   recording_key=subject.ref.key if subject else None,
                   recording_name=subject.name if subject else None,
                   organizer_id=subject.organizer_id if subject else None, rule=rule, due=due, detail=detail)


@dataclass(frozen=True, slots=True)
class AuditEntry(AuditEvent):
    """An event as stored, with its place in the trail."""

    id: int = 0


def write(session: Session, events: Iterable[AuditEvent]) -> None:
    """Add ``events`` to the trail inside the caller's transaction (store modules only)."""
    for e in events:
        session.add(AuditRow(at=e.at, cycle_date=e.cycle_date, run_id=e.run_id, actor=e.actor, event=e.kind.value,
                             recording_key=e.recording_key, recording_name=e.recording_name,
                             organizer_id=e.organizer_id, rule=e.rule, due=e.due, reason=e.reason,
                             detail=dict(e.detail)))


def append(db: Database, *events: AuditEvent) -> None:
    """Add ``events`` to the trail in one transaction of their own."""
    with db.session() as s:
        write(s, events)


def entries(db: Database, *, kind: AuditKind | None = None, recording_key: str | None = None) -> list[AuditEntry]:
    """The trail in order, optionally only one kind of event or one recording's events."""
    q = select(AuditRow).order_by(AuditRow.id)
    if kind is not None:
        q = q.where(AuditRow.event == kind.value)
    if recording_key is not None:
        q = q.where(AuditRow.recording_key == recording_key)
    with db.session() as s:
        return [AuditEntry(id=r.id, kind=AuditKind(r.event), at=r.at, reason=r.reason, cycle_date=r.cycle_date,
                           run_id=r.run_id, actor=r.actor, recording_key=r.recording_key,
                           recording_name=r.recording_name, organizer_id=r.organizer_id, rule=r.rule, due=r.due,
                           detail=dict(r.detail or {}))
                for r in s.scalars(q)]
