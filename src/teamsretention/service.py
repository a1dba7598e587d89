"""The governance cycle: inventory -> evaluate -> warn -> delete -> record (design §3).

One cycle at a time across every process sharing the store (the cycle lock). Everything with side effects
is passed in: the Graph gateway, the store, the digest renderer, the clock and the stop signal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import func, select

from .deletions import DeleteStep
from .digests import WarnStep
from .domain import Action, Decision, Facts, LabelStatus, PolicyConfig, RetentionLabel
from .errors import GraphError, LockBusy, LockLost
from .facts import Evaluated, FactIndex, evaluated_from, sent_warnings, to_recording
from .inventory import Inventory, InventoryStats, ScopeRules
from .planning import project
from .policy import evaluate, recorded_date
from .ports import GraphGateway, OutgoingMail
from .store import Database
from .store.tables import AuditRow, DriveRow, RecordingRow, RunRow

log = structlog.get_logger(__name__)

LOCK_TTL = dt.timedelta(hours=2)  # a crashed holder's lock expires; a live cycle refreshes it
LOCK_REFRESH_SECONDS = 60
EVALUATE_BATCH = 500  # recordings evaluated (and labels read) per batch: bounds memory and open work


class Mode(StrEnum):
    ENFORCE = "enforce"  # policy.enforce = true: mail goes out, deletions happen
    DRY_RUN = "dry_run"  # policy.enforce = false: would-be warnings audited, nothing sent or deleted
    PLAN = "plan"  # read-only: nothing recorded but the inventory


@dataclass(frozen=True)
class CycleConfig:
    policy: PolicyConfig
    scope: ScopeRules
    delete_mode: str = "recycle"
    max_deletions_per_cycle: int = 200
    max_deletion_share: float = 0.25
    deletion_share_minimum: int = 20
    blocked_retry_days: tuple[int, ...] = (1, 2, 4, 8, 16)
    restore_window_days: int = 93
    sender: str | None = None
    language: str = "sv"
    fallback_contact: str | None = None
    contact: str | None = None
    approvers: tuple[str, ...] = ()
    max_items_per_digest: int = 50
    max_concurrency: int = 8
    config_snapshot: dict[str, Any] = field(default_factory=dict)


@dataclass
class CycleReport:
    run_id: int | None
    cycle_date: dt.date
    mode: Mode
    status: str = "ok"
    exit_code: int = 0
    tracked: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    warned: int = 0
    digests_sent: int = 0
    send_failures: int = 0
    deleted: int = 0
    blocked: int = 0
    problems: list[str] = field(default_factory=list)
    inventory: InventoryStats = field(default_factory=InventoryStats)
    evaluated: list[Evaluated] = field(default_factory=list)  # plan only: what it prints
    keep_mails: bool = False  # the demo keeps sent mails to show them; a daemon must not hoard them
    mails: list[OutgoingMail] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "cycle_date": self.cycle_date.isoformat(), "mode": self.mode.value,
                "status": self.status, "exit_code": self.exit_code, "tracked": self.tracked,
                "warned": self.warned, "digests_sent": self.digests_sent, "send_failures": self.send_failures,
                "deleted": self.deleted, "blocked": self.blocked, "actions": dict(self.actions),
                "rules": dict(self.rules), "drives": self.inventory.drives,
                "drives_incomplete": len(self.inventory.drives_incomplete),
                "users_without_onedrive": self.inventory.users_without_onedrive,
                "unsure_videos": self.inventory.unsure_videos, "problems": self.problems}


class Cycle:
    def __init__(self, db: Database, gateway: GraphGateway, config: CycleConfig,
                 render: Callable[..., OutgoingMail], clock: Callable[[], dt.datetime],
                 stop: asyncio.Event | None = None) -> None:
        self.db, self.gateway, self.config, self.render, self.clock = db, gateway, config, render, clock
        self.stop = stop or asyncio.Event()
        self.project_until: dt.date | None = None
        self._holder, self._refreshed = "", 0.0

    async def run(self, *, mode: Mode, at: dt.datetime, allow_deletions: int | None = None,
                  keep_all: bool = False, project_until: dt.date | None = None,
                  keep_mails: bool = False) -> CycleReport:
        cycle_date = recorded_date(at, self.config.policy.timezone)
        holder = f"{uuid.uuid4()}"
        self._holder, self._refreshed = holder, time.monotonic()
        if not self.db.acquire_lock(holder, self.clock(), LOCK_TTL):
            raise LockBusy("another cycle is running against this store (the cycle lock is held)")
        report = CycleReport(run_id=None, cycle_date=cycle_date, mode=mode, keep_mails=keep_mails)
        try:
            report.run_id = self._start_run(mode, at, cycle_date)
            self.project_until = project_until
            await self._run_steps(report, mode, cycle_date, allow_deletions, keep_all, holder)
        except asyncio.CancelledError:
            report.status, report.exit_code = "interrupted", 1
            raise
        except Exception as exc:
            report.status, report.exit_code = "failed", 1
            report.problems.append(f"cycle failed: {type(exc).__name__}: {exc}")
            raise
        finally:
            self._finish_run(report)
            self.db.release_lock(holder)
            log.info("cycle.summary", **report.summary())
        return report

    async def _run_steps(self, report: CycleReport, mode: Mode, cycle_date: dt.date,
                         allow_deletions: int | None, keep_all: bool, holder: str) -> None:
        inventory = Inventory(self.db, self.gateway, self.config.scope, self.config.policy.timezone,
                              self.clock, cycle_date, report.run_id, self.config.delete_mode)
        report.inventory = inventory.stats
        inventory.checkpoint = self.checkpoint
        drives = await inventory.sync_directory()
        complete = await self._sync_drives(inventory, drives)
        if self.stop.is_set():
            return self._interrupted(report)
        self.checkpoint(force=True)
        await self._evaluate(report, mode, cycle_date, complete, keep_all)
        if self.stop.is_set():
            return self._interrupted(report)
        if mode is not Mode.PLAN:
            warn = WarnStep(self.db, self.gateway, self.config, self.render, self.clock, report, self.stop,
                            self.checkpoint)
            await warn.run(mode is Mode.ENFORCE, cycle_date)
        if mode is Mode.ENFORCE and not self.stop.is_set():
            delete = DeleteStep(self.db, self.gateway, self.config, self.clock, report, self.stop, self.checkpoint)
            await delete.run(cycle_date, allow_deletions)
        if self.stop.is_set():
            return self._interrupted(report)
        if report.send_failures:
            report.exit_code = 3 if report.exit_code == 3 else 1
            if report.status == "ok":
                report.status = "incomplete"
        if report.inventory.drives_incomplete or report.inventory.directory_errors:
            report.problems += [f"drive {d} incomplete: no warnings or deletions for it this cycle"
                                for d in report.inventory.drives_incomplete]
            report.problems += report.inventory.directory_errors
            report.exit_code = max(report.exit_code, 1) if report.exit_code != 3 else 3
            if report.status == "ok":
                report.status = "incomplete"

    def checkpoint(self, force: bool = False) -> None:
        """Between drives, batches, digests and deletions: keep the cycle lock alive, and stop at once if
        another process took it over (it expired), so two cycles never act side by side."""
        if not force and time.monotonic() - self._refreshed < LOCK_REFRESH_SECONDS:
            return
        if not self.db.refresh_lock(self._holder, self.clock(), LOCK_TTL):
            raise LockLost("the cycle lock was lost (it expired and another cycle took it): stopping")
        self._refreshed = time.monotonic()

    def _interrupted(self, report: CycleReport) -> None:
        report.status = "interrupted"
        report.exit_code = 3 if report.exit_code == 3 else 1
        report.problems.append("stopped at a checkpoint by a shutdown request")

    async def _sync_drives(self, inventory: Inventory, drives: list[DriveRow]) -> set[str]:
        complete: set[str] = set()
        gate = asyncio.Semaphore(self.config.max_concurrency)

        async def sync(drive: DriveRow) -> None:
            async with gate:
                if self.stop.is_set():  # checkpoint between drives
                    return
                self.checkpoint()
                if await inventory.sync_drive(drive):
                    complete.add(drive.id)

        # A TaskGroup cancels the other drives if one fails unexpectedly: nothing keeps writing after
        # the cycle has ended and released its lock.
        try:
            async with asyncio.TaskGroup() as group:
                for drive in drives:
                    group.create_task(sync(drive))
        except ExceptionGroup as failures:
            # Callers handle our own errors (LockBusy, StoreError, ...), not groups of them: raise the first;
            # the other drives were cancelled alongside it.
            raise failures.exceptions[0] from failures
        return complete

    # --- evaluate ---------------------------------------------------------------------------------
    async def _evaluate(self, report: CycleReport, mode: Mode, cycle_date: dt.date, complete: set[str],
                        keep_all: bool) -> None:
        """Evaluate every tracked recording, EVALUATE_BATCH at a time, and store each decision on its row.

        Memory stays flat on large tenants: one batch of rows is in memory at a time, labels are read
        for that batch only, and (except for ``plan``, which prints them) decisions are not kept: the
        warn and delete steps read this cycle's decisions back from the store."""
        with self.db.session() as s:
            index = FactIndex.load(s)
            drive_names = {d.id: d.name for d in s.scalars(select(DriveRow))}
            ids = list(s.scalars(select(RecordingRow.id).where(RecordingRow.state == "tracked")
                                 .order_by(RecordingRow.id)))
        report.tracked = len(ids)
        for start in range(0, len(ids), EVALUATE_BATCH):
            if self.stop.is_set():
                return
            self.checkpoint()
            chunk_ids = ids[start:start + EVALUATE_BATCH]
            with self.db.session() as s:
                rows = list(s.scalars(select(RecordingRow).where(RecordingRow.id.in_(chunk_ids))))
                warnings = sent_warnings(s, chunk_ids)
                first = []
                for row in rows:
                    facts = index.facts_for(row, warnings.get(row.id, []), drive_complete=row.drive_id in complete)
                    first.append((row, facts, evaluate(to_recording(row), facts, self.config.policy, cycle_date)))
                # Labels are read only where the decision would warn or delete (design §3.2).
                wanting = [row for row, _, decision in first if decision.needs_label]
                labels = dict(zip((r.id for r in wanting), await self._read_labels(wanting), strict=True))
                for row, facts, decision in first:
                    label = labels.get(row.id)
                    if label is not None:
                        facts = replace(facts, label=label)
                        decision = evaluate(to_recording(row), facts, self.config.policy, cycle_date)
                        if label.status is LabelStatus.PRESENT and mode is not Mode.PLAN:
                            row.label_name = label.name
                    self._record(s, report, mode, row, decision, drive_names, keep_all, cycle_date, facts)

    async def _read_labels(self, rows: list[RecordingRow]) -> list[RetentionLabel]:
        gate = asyncio.Semaphore(self.config.max_concurrency)

        async def read(row: RecordingRow) -> RetentionLabel:
            async with gate:
                try:
                    return await self.gateway.read_label(row.drive_id, row.item_id)
                except GraphError as exc:
                    log.warning("label.read_failed", recording_id=f"{row.drive_id}/{row.item_id}", error=str(exc))
                    return RetentionLabel(status=LabelStatus.FAILED)

        return list(await asyncio.gather(*(read(row) for row in rows)))

    def _record(self, s: Any, report: CycleReport, mode: Mode, row: RecordingRow, decision: Decision,
                drive_names: dict[str, str], keep_all: bool, cycle_date: dt.date, facts: Facts) -> None:
        delete_on = None
        if mode is Mode.PLAN and self.project_until and self.project_until > cycle_date:
            decision, delete_on = project(to_recording(row), facts, self.config.policy, cycle_date,
                                          self.project_until)
        report.actions[decision.action.value] += 1
        report.rules[decision.rule] += 1
        if mode is Mode.PLAN:
            if decision.action is not Action.KEEP or keep_all:
                entry = evaluated_from(row, decision, drive_names, delete_on)
                if row.drive_kind == "onedrive":  # an admin reading the plan needs whose OneDrive
                    entry.location = f"OneDrive of {drive_names.get(row.drive_id) or row.organizer_id}"
                report.evaluated.append(entry)
            return
        changed = (row.action, row.rule, row.due) != (decision.action.value, decision.rule, decision.due)
        if changed:
            s.add(AuditRow(at=self.clock(), cycle_date=cycle_date, run_id=report.run_id, event="decision",
                           recording_key=f"{row.drive_id}/{row.item_id}", recording_name=row.name,
                           organizer_id=row.organizer_id, rule=decision.rule, due=decision.due,
                           reason=decision.reason,
                           detail={"action": decision.action.value, "previous_rule": row.rule,
                                   "previous_due": row.due.isoformat() if row.due else None,
                                   "episode_start": decision.episode_start.isoformat()
                                   if decision.episode_start else None}))
        row.action, row.rule, row.reason, row.due = (decision.action.value, decision.rule, decision.reason,
                                                     decision.due)
        row.episode_start, row.decided_on = decision.episode_start, cycle_date

    # --- run records ------------------------------------------------------------------------------
    def _start_run(self, mode: Mode, at: dt.datetime, cycle_date: dt.date) -> int:
        with self.db.session() as s:
            run = RunRow(mode=mode.value, at=at, cycle_date=cycle_date, started_at=self.clock(), status="running",
                         config=self.config.config_snapshot, stats={})
            s.add(run)
            s.flush()
            return run.id

    def _finish_run(self, report: CycleReport) -> None:
        if report.run_id is None:
            return
        with self.db.session() as s:
            run = s.get(RunRow, report.run_id)
            if run is None:
                return
            run.finished_at, run.status, run.exit_code = self.clock(), report.status, report.exit_code
            run.stats = report.summary()
            run.message = "; ".join(report.problems)[:4000] or None
            s.add(AuditRow(at=self.clock(), cycle_date=report.cycle_date, run_id=report.run_id,
                           event="run_finished", reason=f"{report.mode.value} cycle {report.status}",
                           detail={k: v for k, v in report.summary().items() if k != "problems"}))


def last_run_at(db: Database) -> dt.datetime | None:
    with db.session() as s:
        return s.scalar(select(func.max(RunRow.at)).where(RunRow.mode != Mode.PLAN.value))
