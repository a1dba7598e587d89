"""The audit trail: append-only evidence of every decision change and every action (design §3 step 5).

This module is the trail's one writer: every event goes through :func:`write` (inside another store
function's transaction, so a state change and its evidence are committed together) or :func:`append`
(a transaction of its own). Nothing else constructs an audit row; a test holds the source tree to that.

**Redactable, yet tamper-evident.** Each event is stored in two parts:

- the ``audit`` row: what is never personal (event, moment, cycle date, run, actor, rule, due date) and
  ``personal_digest`` = ``"sha256:" + SHA-256(salt || canonical JSON of the personal part)``;
- the ``audit_personal`` row (keyed by the audit id): the personal part (recording key and name, organizer,
  reason, detail) and its random 16-byte salt.

Triggers refuse UPDATE and DELETE on ``audit`` and UPDATE on ``audit_personal``: the only change the
store allows after the fact is deleting a personal part, which :mod:`store.evidence` does when a
recording's evidence period is over (itself an audited ``evidence_pruned`` event). The digest stays, so a
hash chain over the ``audit`` rows (digest included) stays verifiable over redacted entries, and a copy of
a personal part kept elsewhere (a backup) can still be proven to be the one committed. The salt goes with
the personal part: without it, a redacted digest cannot be used to test a guessed name.
:func:`verify_personal` checks both parts of the whole trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import JSON, Dialect, Table, bindparam, delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from ..domain import RecordingRef
from .database import Database, chunked
from .tables import AuditPersonalRow, AuditRow

SYSTEM_ACTOR = "teamsretention"
_ENTRIES: Table = AuditRow.__table__  # type: ignore[assignment]  # a declarative class's Table
_PARTS: Table = AuditPersonalRow.__table__  # type: ignore[assignment]


class _SerialisedJSON(TypeDecorator[str]):
    """The JSON column, given the text its digest was computed over: stored as that very text (SQLite keeps it,
    PostgreSQL's ``json`` type casts and keeps it), read back as JSON; not serialised a second time."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


# A part's content goes in as its canonical text (bound under its own name: a column's name is the statement's).
_ADD_PARTS = _PARTS.insert().values(content=bindparam("canonical", type_=_SerialisedJSON()))
# The entries' INSERT, built once (a cycle writes thousands of batches): SQLite numbers a multi-row INSERT's rows
# in their order; PostgreSQL is asked to keep it.
_ADD_ENTRIES = {ordered: _ENTRIES.insert().returning(_ENTRIES.c.personal_digest, _ENTRIES.c.id,
                                                     sort_by_parameter_order=ordered) for ordered in (False, True)}


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
    DELETIONS_HELD_BACK = "deletions_held_back"  # a --allow-deletions batch was full: the rest stay due
    # runs and administration
    RUN_FINISHED = "run_finished"
    PAUSED = "paused"
    RESUMED = "resumed"
    EXEMPTION_RECORDED = "exemption_recorded"
    ASSIGNMENT_RECORDED = "assignment_recorded"
    ASSIGNMENT_CLOSED = "assignment_closed"
    ASSIGNMENT_REOPENED = "assignment_reopened"
    ASSIGNMENT_UPDATED = "assignment_updated"  # title, client, closing date or owning list item changed
    ASSIGNMENT_ITEM_DELETED = "assignment_item_deleted"  # its list item was deleted: the store stays the record
    TAGGED = "tagged"
    UNTAGGED = "untagged"
    # the store's own evidence
    EVIDENCE_PRUNED = "evidence_pruned"  # personal data of recordings past the evidence period removed
    # exemptions and legal holds (store/exemptions.py): actor = the acting identity, detail["source"]
    EXEMPTION_REQUESTED = "exemption_requested"
    EXEMPTION_APPROVED = "exemption_approved"
    EXEMPTION_REJECTED = "exemption_rejected"
    EXEMPTION_REVOKED = "exemption_revoked"
    EXEMPTION_EXPIRED = "exemption_expired"
    EXEMPTION_CORRECTED = "exemption_corrected"  # a date an earlier release read a day early from the list
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
    """An event as stored, with its place in the trail. A redacted entry (its personal part pruned) has no
    recording key, name, organizer, reason or detail; its digest is what it committed to."""

    id: int = 0
    personal_digest: str = ""
    redacted: bool = False


SALT_BYTES = 16
PERSONAL_FIELDS = ("recording_key", "recording_name", "organizer_id", "reason", "detail")


@dataclass(frozen=True, slots=True)
class PersonalPart:
    """The personal part of one audit entry and the salt its digest was computed with."""

    salt: str  # hex
    content: dict[str, Any]

    def digest(self) -> str:
        return _digest(self.salt, _canonical(self.content))


def _content(event: AuditEvent) -> dict[str, Any]:
    """The personal part of an event. Its canonical text is what is stored and digested: the JSON column gives
    back exactly what that text says (a tuple as a list, a date as its string), and canonical text of that is
    the text itself, so the digest can be checked from what is read."""
    return {"recording_key": event.recording_key, "recording_name": event.recording_name,
            "organizer_id": event.organizer_id, "reason": event.reason, "detail": dict(event.detail)}


def _digest(salt: str, canonical: str) -> str:
    return "sha256:" + hashlib.sha256(bytes.fromhex(salt) + canonical.encode()).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def write(session: Session, events: Iterable[AuditEvent]) -> None:
    """Add ``events`` to the trail inside the caller's transaction (store modules only), in order, in two
    statements however many there are: the entries, then their personal parts. Each entry's id comes back
    with its digest, which its random salt makes unique, so no one-row-at-a-time insert is needed to learn
    them (SQLite, lacking a sentinel column, would otherwise insert row by row)."""
    batch = list(events)
    # The salts in one draw from the system's CSPRNG (one read, not one per event: a first cycle writes tens of
    # thousands); each event still gets its own 16 bytes.
    salts = secrets.token_hex(SALT_BYTES * len(batch))
    entries, parts = [], []
    for n, e in enumerate(batch):
        salt = salts[2 * SALT_BYTES * n:2 * SALT_BYTES * (n + 1)]
        text = _canonical(_content(e))
        digest = _digest(salt, text)
        entries.append({"at": e.at, "cycle_date": e.cycle_date, "run_id": e.run_id, "actor": e.actor,
                        "event": e.kind.value, "rule": e.rule, "due": e.due, "personal_digest": digest})
        parts.append((digest, {"salt": salt, "recording_key": e.recording_key, "canonical": text}))
    if not entries:
        return
    # Core inserts of the tables (the ORM's bulk path adds nothing here but per-row bookkeeping)
    returned = session.execute(_ADD_ENTRIES[session.get_bind().dialect.name != "sqlite"], entries)
    ids: dict[str, int] = dict(returned.all())
    session.execute(_ADD_PARTS, [{"audit_id": ids[digest], **part} for digest, part in parts])


def append(db: Database, *events: AuditEvent) -> None:
    """Add ``events`` to the trail in one transaction of their own."""
    with db.session() as s:
        write(s, events)


def entries(db: Database, *, kind: AuditKind | None = None, recording_key: str | None = None) -> list[AuditEntry]:
    """The trail in order, optionally only one kind of event or one recording's events."""
    q = (select(AuditRow, AuditPersonalRow).outerjoin(AuditPersonalRow, AuditPersonalRow.audit_id == AuditRow.id)
         .order_by(AuditRow.id))
    if kind is not None:
        q = q.where(AuditRow.event == kind.value)
    if recording_key is not None:
        q = q.where(AuditPersonalRow.recording_key == recording_key)
    with db.session() as s:
        return [_entry(r, p) for r, p in s.execute(q)]


def _entry(r: AuditRow, p: AuditPersonalRow | None) -> AuditEntry:
    c: dict[str, Any] = p.content if p is not None else {}
    return AuditEntry(id=r.id, kind=AuditKind(r.event), at=r.at, cycle_date=r.cycle_date, run_id=r.run_id,
                      actor=r.actor, rule=r.rule, due=r.due, reason=c.get("reason") or "",
                      recording_key=c.get("recording_key"), recording_name=c.get("recording_name"),
                      organizer_id=c.get("organizer_id"), detail=dict(c.get("detail") or {}),
                      personal_digest=r.personal_digest, redacted=p is None)


def personal_part(db: Database, audit_id: int) -> PersonalPart | None:
    """The personal part of one entry as stored (None once it was pruned)."""
    with db.session() as s:
        p = s.get(AuditPersonalRow, audit_id)
        return PersonalPart(p.salt, dict(p.content)) if p is not None else None


def redact(session: Session, recording_keys: Iterable[str]) -> int:
    """Delete the personal part of every entry about these recordings (``store.evidence`` only); the
    entries themselves and their digests stay. Returns how many entries were redacted."""
    count = 0
    for chunk in chunked(sorted(set(recording_keys))):
        result = session.execute(delete(AuditPersonalRow).where(AuditPersonalRow.recording_key.in_(chunk)))
        count += int(getattr(result, "rowcount", 0) or 0)
    return count


def latest_about(session: Session, recording_keys: Iterable[str]) -> dict[str, dt.datetime]:
    """The moment of the newest entry about each of these recordings (those with a personal part)."""
    latest: dict[str, dt.datetime] = {}
    for chunk in chunked(sorted(set(recording_keys))):
        q = (select(AuditPersonalRow.recording_key, func.max(AuditRow.at))
             .join(AuditRow, AuditRow.id == AuditPersonalRow.audit_id)
             .where(AuditPersonalRow.recording_key.in_(chunk)).group_by(AuditPersonalRow.recording_key))
        for key, at in session.execute(q):
            if key is not None and at is not None:
                latest[key] = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return latest


def count_about(session: Session, recording_keys: Iterable[str]) -> int:
    """How many entries about these recordings still have their personal part."""
    total = 0
    for chunk in chunked(sorted(set(recording_keys))):
        total += session.scalar(select(func.count()).select_from(AuditPersonalRow)
                                .where(AuditPersonalRow.recording_key.in_(chunk))) or 0
    return total


@dataclass(frozen=True, slots=True)
class Verification:
    """What :func:`verify_personal` found."""

    checked: int = 0  # entries whose stored personal part matches their digest
    redacted: tuple[int, ...] = ()  # entries pruned under an ``evidence_pruned`` event
    mismatched: tuple[int, ...] = ()  # a personal part that is not the one committed to: tampered with
    unexplained: tuple[int, ...] = ()  # a personal part missing with no pruning that covers it
    copies_matching: tuple[int, ...] = ()  # of the copies given, those that are what was committed
    copies_mismatched: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.unexplained or self.copies_mismatched)


def verify_personal(db: Database, copies: Mapping[int, PersonalPart] | None = None) -> Verification:
    """Check every entry's personal part against its digest. A missing part must be explained by a later
    ``evidence_pruned`` entry whose cutoff is after the entry's moment. ``copies`` (audit id -> a personal
    part kept elsewhere, e.g. restored from a backup) are checked against the digests too, redacted or not."""
    copies = copies or {}
    checked = 0
    redacted: list[int] = []
    mismatched: list[int] = []
    unexplained: list[int] = []
    prunes: list[tuple[int, dt.datetime]] = []  # (entry id, cutoff) of each pruning
    rows = entries(db)
    for e in rows:
        if e.kind is AuditKind.EVIDENCE_PRUNED and "cutoff" in e.detail:
            prunes.append((e.id, dt.datetime.fromisoformat(e.detail["cutoff"])))
    with db.session() as s:
        stored = {p.audit_id: PersonalPart(p.salt, dict(p.content)) for p in s.scalars(select(AuditPersonalRow))}
    digests = {e.id: e.personal_digest for e in rows}
    for e in rows:
        part = stored.get(e.id)
        if part is None:
            covered = any(pid > e.id and e.at < cutoff for pid, cutoff in prunes)
            (redacted if covered else unexplained).append(e.id)
        elif part.digest() == e.personal_digest:
            checked += 1
        else:
            mismatched.append(e.id)
    good = tuple(i for i, c in sorted(copies.items()) if digests.get(i) == c.digest())
    bad = tuple(i for i in sorted(copies) if i not in good)
    return Verification(checked, tuple(redacted), tuple(mismatched), tuple(unexplained), good, bad)
