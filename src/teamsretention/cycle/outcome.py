"""What a cycle reports: counts, problems, and the exit code they add up to (design §5).

Exit codes merge one way: 3 (a safety limit stopped deletions) wins over 1 (the cycle did not fully
succeed), which wins over 0.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..domain import Decision, Recording, RunMode, RunStatus
from ..errors import GraphError
from ..ports import OutgoingMail
from ..store.evidence import Pruned

if TYPE_CHECKING:
    from .limits import DeletionOutlook

EXIT_OK, EXIT_INCOMPLETE, EXIT_SAFETY_STOP = 0, 1, 3


def merge_exit(current: int, new: int) -> int:
    return EXIT_SAFETY_STOP if EXIT_SAFETY_STOP in (current, new) else max(current, new)


@dataclass
class InventoryStats:
    users_in_scope: int = 0
    users_without_onedrive: int = 0
    drives: int = 0
    drives_read: int = 0  # read with delta this cycle
    drives_idle: int = 0  # skipped: idle, read every poll_interval_days (cycle.polling)
    poll_interval_days: int = 1
    drives_incomplete: list[str] = field(default_factory=list)
    drives_enumerated: set[str] = field(default_factory=set)  # listed in full: classified with today's settings
    drives_relisted: dict[str, str] = field(default_factory=dict)  # drive id -> why it is listed in full next cycle
    directory_errors: list[str] = field(default_factory=list)
    recordings_new: int = 0
    recordings_vanished: int = 0
    recordings_restored: int = 0
    unsure_videos: int = 0  # unsure videos the feeds reported this cycle
    drive_errors: dict[str, GraphError] = field(default_factory=dict)  # why each incomplete drive is
    evidence: dict[str, int] = field(default_factory=dict)  # tracked recordings per recognition evidence
    unsure: list[str] = field(default_factory=list)  # names of the unsure videos in the store, with why

    @property
    def failed(self) -> bool:
        """Nothing could be inventoried: the directory could not be read and no drive was, or every drive in
        scope failed. An empty result then says nothing about the tenant."""
        if self.drives == 0:
            return bool(self.directory_errors)
        return len(self.drives_incomplete) >= self.drives

    @property
    def complete(self) -> bool:
        return not self.directory_errors and not self.drives_incomplete


@dataclass(frozen=True)
class Organizer:
    """Who a recording belongs to, as the directory knows them (name and UPN None when it does not)."""

    id: str | None
    name: str | None = None
    upn: str | None = None

    def log_fields(self) -> dict[str, str | None]:
        """For a log line: the id, and the name and UPN under personal keys (logging.PERSONAL_KEYS)."""
        return {"organizer_id": self.id, "organizer": self.name, "organizer_upn": self.upn}

    def data(self) -> dict[str, str | None]:
        return {"id": self.id, "name": self.name, "upn": self.upn}


@dataclass(frozen=True)
class DeletionDone:
    """A recording this cycle deleted (or found deleted by a request of ours whose answer was lost)."""

    recording_id: str  # "<drive id>/<item id>"
    name: str
    organizer: Organizer
    rule: str | None
    mode: str  # recycle | permanent
    restore_until: dt.date | None  # recycle: the last day it can be restored from the recycle bin

    def data(self) -> dict[str, Any]:
        return {"recording_id": self.recording_id, "name": self.name, "organizer": self.organizer.data(),
                "rule": self.rule, "mode": self.mode,
                "restore_until": self.restore_until.isoformat() if self.restore_until else None}


@dataclass(frozen=True)
class DeletionBlocked:
    """A deletion Microsoft 365 refused (423 locked, 403 a hold), this cycle or at an earlier attempt."""

    recording_id: str
    name: str
    organizer: Organizer
    rule: str | None
    status: int | None  # Graph's HTTP status; None when only the stored code is known
    code: str | None
    message: str | None
    attempts: int
    next_attempt_on: dt.date | None
    attempted: bool  # False: refused earlier, and the next attempt is not due yet

    def data(self) -> dict[str, Any]:
        return {"recording_id": self.recording_id, "name": self.name, "organizer": self.organizer.data(),
                "rule": self.rule, "status": self.status, "code": self.code, "message": self.message,
                "attempts": self.attempts, "attempted_this_cycle": self.attempted,
                "next_attempt_on": self.next_attempt_on.isoformat() if self.next_attempt_on else None}


@dataclass(frozen=True)
class DigestOutcome:
    """One digest of this cycle: to whom, how many recordings it warns about and reports deleted, and what
    became of it. ``status``: sent | failed | outcome_unknown | undeliverable | dry_run (recorded, not sent).
    ``earlier``: an earlier run handled this organizer's digest for the date; nothing was sent now."""

    organizer: Organizer
    recipient: str | None
    fallback: bool  # sent to notifications.fallback_contact instead of the organizer
    warned: int
    receipts: int
    status: str
    error: str | None = None
    earlier: bool = False

    def data(self) -> dict[str, Any]:
        return {"organizer": self.organizer.data(), "recipient": self.recipient, "fallback": self.fallback,
                "warned": self.warned, "receipts": self.receipts, "status": self.status, "error": self.error,
                "earlier_today": self.earlier}


@dataclass
class Evaluated:
    """One recording's decision as ``plan`` and the digests show it."""

    row_id: int
    recording: Recording
    decision: Decision
    organizer_id: str | None
    drive_id: str
    location: str
    delete_on: dt.date | None = None  # plan --at: the day it would be deleted


@dataclass
class GovernanceStats:
    """What the cycle learnt from the lists and the tag rules, and what it refused (shown by plan and the
    cycle summary; ignored decisions also reach the DPO digest and the audit trail)."""

    list_requests: int = 0  # Graph requests spent reading the lists this cycle
    assignments_changed: int = 0  # assignments created / closed / reopened from the Assignments list
    requests_applied: int = 0  # rows of the Retention requests list that changed the store
    tagged_by_rule: int = 0
    unknown_codes: list[str] = field(default_factory=list)  # "<recording>: code X is no known assignment"
    ignored: list[str] = field(default_factory=list)  # decisions ignored, each with who and why
    problems: list[str] = field(default_factory=list)  # lists that could not be read, rows that are invalid
    corrected: list[str] = field(default_factory=list)  # list dates an earlier release read a day early, moved
    notes: dict[str, list[str]] = field(default_factory=dict)  # recording key -> what plan says on it


@dataclass
class CycleReport:
    run_id: int | None
    cycle_date: dt.date
    mode: RunMode
    status: RunStatus = RunStatus.OK
    exit_code: int = EXIT_OK
    tracked: int = 0
    reevaluated: int = 0  # tracked recordings evaluated this cycle (the others' decisions stood: policy.review)
    actions: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    warned: int = 0
    digests_sent: int = 0
    send_failures: int = 0
    deleted: int = 0
    blocked: int = 0
    held_back: int = 0  # due deletions a --allow-deletions batch left for a later cycle
    problems: list[str] = field(default_factory=list)
    inventory: InventoryStats = field(default_factory=InventoryStats)
    governance: GovernanceStats = field(default_factory=GovernanceStats)
    evaluated: list[Evaluated] = field(default_factory=list)  # plan only: what it prints
    keep_mails: bool = False  # the demo keeps sent mails to show them; a daemon must not hoard them
    graph_endpoint: str = ""  # the Graph root this cycle read, for messages about an inventory that failed
    mails: list[OutgoingMail] = field(default_factory=list)
    store: str = ""  # the state store it used: its file, or its URL without the password
    outlook: DeletionOutlook | None = None  # plan only: the limit and the pause applied to its deletions
    plan_at: dt.datetime | None = None  # plan only: the cycle it shows (plan --at), else None (today's)
    evidence: Pruned | None = None  # personal data of old deletions pruned (plan: would be pruned)
    # what the cycle did, item by item (``run --once`` prints it); not part of summary(): that is stored
    deletions: list[DeletionDone] = field(default_factory=list)
    blocked_deletions: list[DeletionBlocked] = field(default_factory=list)
    digests: list[DigestOutcome] = field(default_factory=list)

    # --- outcomes, merged -------------------------------------------------------------------------
    def add_problem(self, problem: str, *, exit_code: int = EXIT_INCOMPLETE) -> None:
        """A problem that makes the cycle exit non-zero without changing its status."""
        self.problems.append(problem)
        self.exit_code = merge_exit(self.exit_code, exit_code)

    def mark_incomplete(self, *problems: str) -> None:
        """Part of the work could not be done (a drive, the directory, a send): exit 1, status incomplete."""
        self.problems.extend(problems)
        self.exit_code = merge_exit(self.exit_code, EXIT_INCOMPLETE)
        if self.status is RunStatus.OK:
            self.status = RunStatus.INCOMPLETE

    def redecided(self, before: tuple[str, str], after: tuple[str, str]) -> None:
        """A decision (action, rule) the delete step's re-check changed: the counts say what stands now."""
        for counts, old, new in ((self.actions, before[0], after[0]), (self.rules, before[1], after[1])):
            counts[old] -= 1
            counts[new] += 1
            if counts[old] <= 0:
                del counts[old]

    def mark_failed(self, problem: str) -> None:
        self.problems.append(problem)
        self.exit_code = merge_exit(self.exit_code, EXIT_INCOMPLETE)
        self.status = RunStatus.FAILED

    def mark_safety_stop(self, problem: str) -> None:
        self.problems.append(problem)
        self.exit_code, self.status = EXIT_SAFETY_STOP, RunStatus.SAFETY_STOP

    def mark_interrupted(self, problem: str | None = "stopped at a checkpoint by a shutdown request") -> None:
        if problem:
            self.problems.append(problem)
        self.exit_code = merge_exit(self.exit_code, EXIT_INCOMPLETE)
        self.status = RunStatus.INTERRUPTED

    @property
    def would_warn(self) -> int:
        """Dry run: recordings the digests of this date warn about (recorded, not sent)."""
        return sum(d.warned for d in self.digests if d.status == "dry_run")

    @property
    def would_digest(self) -> int:
        return sum(1 for d in self.digests if d.status == "dry_run")

    def summary(self) -> dict[str, Any]:
        """Counts, for the run record, the audit trail and the cycle's log line: no names, titles or addresses
        except the unsure videos' names (a personal key) and the problems' text."""
        dry = self.mode is RunMode.DRY_RUN
        return {"run_id": self.run_id, "cycle_date": self.cycle_date.isoformat(), "mode": self.mode.value,
                "status": self.status.value, "exit_code": self.exit_code, "tracked": self.tracked,
                "warned": self.warned, "digests_sent": self.digests_sent, "send_failures": self.send_failures,
                "deleted": self.deleted, "blocked": self.blocked, "held_back": self.held_back,
                "actions": dict(self.actions),
                "rules": dict(self.rules), "drives": self.inventory.drives,
                "drives_read": self.inventory.drives_read, "drives_skipped_idle": self.inventory.drives_idle,
                "poll_interval_days": self.inventory.poll_interval_days, "evaluated": self.reevaluated,
                "drives_incomplete": len(self.inventory.drives_incomplete),
                "users_without_onedrive": self.inventory.users_without_onedrive,
                "unsure_videos": self.inventory.unsure_videos, "recognised_by": dict(self.inventory.evidence),
                "unsure": list(self.inventory.unsure), "inventory": self.inventory_state, "store": self.store,
                "problems": self.problems,
                "evidence_pruned": self.evidence.recordings if self.evidence and self.mode is not RunMode.PLAN else 0,
                "would_warn": self.would_warn if dry else 0, "would_digest": self.would_digest if dry else 0,
                "would_delete": self.actions.get("delete", 0) if dry else 0}

    @property
    def inventory_state(self) -> str:
        """complete | incomplete | failed (nothing could be read: an empty result says nothing)."""
        return "failed" if self.inventory.failed else "complete" if self.inventory.complete else "incomplete"

    def details(self) -> dict[str, Any]:
        """What was done, item by item (``run --once --json``)."""
        return {"deletions": [d.data() for d in self.deletions],
                "blocked": [b.data() for b in self.blocked_deletions],
                "digests": [d.data() for d in self.digests]}
