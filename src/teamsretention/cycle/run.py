"""The governance cycle: inventory -> evaluate -> warn -> delete -> record (design §3).

One cycle at a time across every process sharing the store (the cycle lock). Everything with side effects
is passed in: the Graph gateway, the store, the digest renderer, the clock and the stop signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Callable

import structlog

from ..domain import Action, RunMode, RunStatus, local_date
from ..errors import LockBusy, LockLost, StoreError, TeamsRetentionError
from ..ports import GraphGateway, OutgoingMail
from ..store import control, recordings, runs
from ..store import directory as directory_store
from ..store.audit import AuditEvent, AuditKind
from ..store.database import Database
from ..store.drives import StoredDrive
from .config import CycleConfig, CycleContext
from .delete import DeleteStep
from .directory import DirectorySync
from .dpo_digest import DpoDigestStep
from .drives import DriveSync
from .evaluate import EvaluateStep
from .evidence import EvidenceStep
from .governance import GovernanceStep
from .limits import DeletionOutlook, DeletionOverride, deletion_outlook
from .memory import release_freed_memory
from .outcome import CycleReport
from .polling import RECOGNITION_KEY, recognition_fingerprint, relist_for_new_folder_names, split_idle
from .progress import CycleProgress
from .warn import WarnStep

log = structlog.get_logger(__name__)

# The cycle lock is a lease ([ha] lease_seconds): renewed by a heartbeat every third of it while the cycle
# runs, and at checkpoints; a holder that died or hangs loses it when it runs out.
DEFAULT_LEASE = dt.timedelta(seconds=300)
LOCK_TTL = dt.timedelta(hours=2)  # how long a cycle may wait for the lock, and the floor of "stuck" (/readyz)
LOCK_REFRESH_SECONDS = 60  # a checkpoint renews the lease at most this often (and at least every third of it)
# the summary's lists of sentences and names stay in the run's record (pruned with it), not in the trail
_NOT_IN_TRAIL = ("problems", "unsure")


def lock_holder(mode: RunMode) -> str:
    """How a cycle names itself in the lock, for whoever finds it busy: the kind of cycle, the host, the
    process; a random suffix keeps two holders in one process apart."""
    return f"a {mode.value} cycle on host {socket.gethostname()}, process {os.getpid()} [{uuid.uuid4().hex[:8]}]"


def busy_message(db: Database) -> str:
    lock = control.lock_state(db)
    since = f" since {lock.acquired_at:%Y-%m-%d %H:%M:%S} UTC" if lock.acquired_at else ""
    until = (f"; if that process died, the lock expires at {lock.expires_at:%Y-%m-%d %H:%M} UTC"
             if lock.expires_at else "")
    return (f"state store {db.location}: another cycle holds the cycle lock ({lock.holder or 'unknown holder'}"
            f"{since}); only one cycle runs at a time. Wait for it to finish and try again{until}.")


class AlreadyRan(TeamsRetentionError):
    """``run(once_per_date=True)``: a cycle of this mode for this cycle date completed already (``run``)."""

    def __init__(self, run: runs.StoredRun) -> None:
        self.run = run
        super().__init__(f"the cycle of {run.cycle_date} already ran (run {run.id}, {run.status.value}, by "
                         f"{run.holder or 'an earlier process'})")


class Cycle:
    def __init__(self, db: Database, gateway: GraphGateway, config: CycleConfig,
                 render: Callable[..., OutgoingMail], clock: Callable[[], dt.datetime],
                 stop: asyncio.Event | None = None, progress: CycleProgress | None = None,
                 lease: dt.timedelta = DEFAULT_LEASE) -> None:
        self.db, self.gateway, self.config, self.render, self.clock = db, gateway, config, render, clock
        self.stop, self.lease = stop or asyncio.Event(), lease
        self.progress = progress or CycleProgress()
        self._holder, self._refreshed, self._lost = "", 0.0, False

    async def run(self, *, mode: RunMode, at: dt.datetime, deletion_override: DeletionOverride | None = None,
                  keep_all: bool = False, project_until: dt.date | None = None,
                  keep_mails: bool = False, once_per_date: bool = False,
                  on_lease: Callable[[str], None] | None = None) -> CycleReport:
        """``once_per_date`` (the daemon): raise :class:`AlreadyRan` instead when a cycle of ``mode`` for this
        cycle date has completed already, on any process sharing the store (checked holding the lock).
        ``on_lease`` is called with the holder once the lock is taken for this cycle."""
        cycle_date = local_date(at, self.config.policy.timezone)
        holder = lock_holder(mode)
        self._holder, self._refreshed, self._lost = holder, time.monotonic(), False
        if not control.acquire_lock(self.db, holder, self.clock(), self.lease):
            raise LockBusy(busy_message(self.db))
        done = runs.completed_cycle(self.db, cycle_date, mode) if once_per_date else None
        if done is not None:
            self._release()
            raise AlreadyRan(done)
        log.info("cycle.lease_taken", holder=holder, store=self.db.location, lease_seconds=self.lease.total_seconds())
        if on_lease is not None:
            on_lease(holder)
        report = CycleReport(run_id=None, cycle_date=cycle_date, mode=mode, keep_mails=keep_mails,
                             store=self.db.location, graph_endpoint=self.config.graph_endpoint)
        self.progress.begin(report)
        try:
            with self.db.fenced(holder):  # every write of this cycle (and of its tasks) checks the lease
                heartbeat = asyncio.create_task(self._heartbeat())
                try:
                    self._close_abandoned_runs()
                    report.run_id = runs.start(self.db, mode=mode, at=at, cycle_date=cycle_date,
                                               started_at=self.clock(), config=self.config.config_snapshot,
                                               holder=holder)
                    ctx = CycleContext(self.db, self.gateway, self.config, self.clock, cycle_date, report,
                                       self.stop, self.checkpoint, self.progress)
                    await self._run_steps(ctx, mode, deletion_override, keep_all, project_until)
                except asyncio.CancelledError:
                    report.mark_interrupted(None)
                    raise
                except Exception as exc:
                    if isinstance(exc, LockLost) and not self._lost:  # found by the fence of a write
                        self._lost = True
                        log.error("cycle.lease_lost", holder=holder, store=self.db.location, message=str(exc))
                    report.mark_failed(f"cycle failed: {type(exc).__name__}: {exc}")
                    raise
                finally:
                    self.progress.enter("done")
                    heartbeat.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await heartbeat
                    self._finish_run(report)
        finally:
            self._release()
            log.info("cycle.summary", **report.summary())
            release_freed_memory()  # a daemon sleeps until the next cycle: at its size, not the cycle's peak
        return report

    async def _run_steps(self, ctx: CycleContext, mode: RunMode, override: DeletionOverride | None, keep_all: bool,
                         project_until: dt.date | None) -> None:
        report = ctx.report
        directory = DirectorySync(ctx)
        self.progress.enter("directory")
        drives = await directory.run()
        # idle drives are read every max_poll_interval_days (cycle.polling); their recordings stay as last read
        read, idle = split_idle(self.db, drives, ctx.cycle_date, self.config.max_poll_interval_days,
                                self.config.recognition)
        report.inventory.drives_read, report.inventory.drives_idle = len(read), len(idle)
        report.inventory.poll_interval_days = self.config.max_poll_interval_days
        complete = await self._sync_drives(ctx, read) | {d.id for d in idle}
        failed = [d for d in drives if d.id in report.inventory.drives_incomplete]
        replacements = await directory.replace_lost_onedrives(failed) if failed else []
        if replacements:
            complete |= await self._sync_drives(ctx, replacements)
            report.inventory.drives += len(replacements)
            report.inventory.drives_read += len(replacements)
        stats = report.inventory
        self.db.refresh_statistics(stats.recordings_new + stats.recordings_vanished)  # a large change: ANALYZE
        if self.stop.is_set():
            return report.mark_interrupted()
        self.checkpoint(force=True)
        release_freed_memory()  # the inventory's pages and rows, before the evaluation's batches
        self.progress.enter("evaluate")
        if mode is not RunMode.PLAN:
            self._apply_new_recognition(ctx, [d for d in [*drives, *replacements] if d.id in complete])
            await DeleteStep(ctx).settle_pending()
        await GovernanceStep(ctx).run(mode)
        await EvaluateStep(ctx, mode, keep_all=keep_all, project_until=project_until).run(complete)
        evidence, unsure = recordings.count_by(self.db)
        report.inventory.evidence = evidence
        report.inventory.unsure = [f"{r.name} ({r.recognition_note})" for r in unsure]
        if self.stop.is_set():
            return report.mark_interrupted()
        if mode is RunMode.PLAN:
            report.outlook = self._outlook(report, project_until or ctx.cycle_date)
        if mode is not RunMode.PLAN:
            release_freed_memory()
            self.progress.enter("warn")
            await WarnStep(ctx, self.render).run(mode is RunMode.ENFORCE)
        if mode is RunMode.ENFORCE and not self.stop.is_set():
            self.progress.enter("digest")
            await DpoDigestStep(ctx).run()
        if mode is RunMode.ENFORCE and not self.stop.is_set():
            release_freed_memory()
            self.progress.enter("delete")
            await DeleteStep(ctx).run(override)
        if self.stop.is_set():
            return report.mark_interrupted()
        self.progress.enter("evidence")
        EvidenceStep(ctx).run(mode)
        if report.send_failures:
            report.mark_incomplete()
        if report.inventory.drives_incomplete or report.inventory.directory_errors:
            report.mark_incomplete(*[f"drive {d} incomplete: no warnings or deletions for it this cycle"
                                     for d in report.inventory.drives_incomplete],
                                   *report.inventory.directory_errors)

    def _outlook(self, report: CycleReport, at: dt.date) -> DeletionOutlook:
        """For ``plan``: what the blast-radius limit and the pause would do to the deletions it shows."""
        days = [e.delete_on or report.cycle_date for e in report.evaluated
                if e.delete_on or e.decision.action is Action.DELETE]
        return deletion_outlook(days, today=report.cycle_date, at=max(at, report.cycle_date), tracked=report.tracked,
                                cfg=self.config, pause=control.pause_state(self.db))

    def _apply_new_recognition(self, ctx: CycleContext, drives: list[StoredDrive]) -> None:
        """When the [recognition] settings differ from those the inventory was classified with, what is stored
        is classified again (an admin adding a suffix expects the videos plan listed to be governed now)."""
        fingerprint = recognition_fingerprint(self.config.recognition)
        stored = directory_store.sync_state(self.db, RECOGNITION_KEY)
        if stored == fingerprint:
            return
        inventory = ctx.report.inventory
        relist_for_new_folder_names(self.db, drives, stored, self.config.recognition, inventory.drives_relisted,
                                    inventory.drives_enumerated)
        sync = DriveSync(ctx)
        for drive in drives:
            if drive.id not in ctx.report.inventory.drives_enumerated:  # listed in full: classified with these
                sync.reclassify_all(drive)
        if len(drives) == ctx.report.inventory.drives:  # every drive done: the new settings are in force
            directory_store.set_sync_state(self.db, RECOGNITION_KEY, fingerprint)

    def checkpoint(self, force: bool = False) -> None:
        """Between drives, batches, digests and deletions: keep the cycle lock alive, and stop at once if
        another process took it over (it expired), so two cycles never act side by side. The lease is renewed
        (and so verified) whenever a third of it has passed since it last was: a process waking up from a
        pause (SIGSTOP, a frozen VM) finds out before its next mail or deletion, not after."""
        if self._lost:
            raise LockLost(self._lost_message())
        if not force and time.monotonic() - self._refreshed < min(LOCK_REFRESH_SECONDS, self._renew_every):
            return
        try:
            held = control.refresh_lock(self.db, self._holder, self.clock(), self.lease)
        except LockLost:  # the fence found the row naming another holder
            held = False
        if not held:
            self._lost = True
            log.error("cycle.lease_lost", holder=self._holder, store=self.db.location, message=self._lost_message())
            raise LockLost(self._lost_message())
        self._refreshed = time.monotonic()

    @property
    def _renew_every(self) -> float:
        return self.lease.total_seconds() / 3

    def _lost_message(self) -> str:
        return (f"state store {self.db.location}: this cycle lost the cycle lock (its lease of "
                f"{self.lease.total_seconds():g} s ran out without renewal, the process hung or paused, and another "
                "process took the cycle over); it stops here and writes nothing more. Nothing to do: the other "
                "process runs the cycle")

    async def _heartbeat(self) -> None:
        """Renews the lease every third of it while the cycle runs, also while it waits on Graph for long. A
        store that does not answer is tried again at the next beat; a lost lease ends the beating."""
        while True:
            await asyncio.sleep(self._renew_every)
            try:
                self.checkpoint(force=True)
            except LockLost:
                return
            except StoreError as exc:
                log.warning("cycle.lease_not_renewed", store=self.db.location, error=str(exc),
                            retry_in_seconds=self._renew_every)

    def _release(self) -> None:
        """Give the lock back, unless it was lost (it is someone else's now: not a write of ours any more). A
        store that does not answer keeps it until its lease runs out."""
        if self._lost:
            log.warning("cycle.lock_not_released", holder=self._holder, reason="the lease was lost to another process")
            return
        try:
            control.release_lock(self.db, self._holder)
        except StoreError as exc:
            log.warning("cycle.lock_not_released", holder=self._holder, error=str(exc),
                        expires_in_seconds=self.lease.total_seconds())

    async def _sync_drives(self, ctx: CycleContext, drives: list[StoredDrive]) -> set[str]:
        complete: set[str] = set()
        gate = asyncio.Semaphore(self.config.max_concurrency)
        sync = DriveSync(ctx)
        self.progress.enter("inventory")
        self.progress.add_drives(len(drives))

        async def one(drive: StoredDrive) -> None:
            async with gate:
                if self.stop.is_set():  # checkpoint between drives
                    return
                self.checkpoint()
                if await sync.run(drive):
                    complete.add(drive.id)
                self.progress.drive_done()

        # A TaskGroup cancels the other drives if one fails unexpectedly: nothing keeps writing after
        # the cycle has ended and released its lock.
        try:
            async with asyncio.TaskGroup() as group:
                for drive in drives:
                    group.create_task(one(drive))
        except ExceptionGroup as failures:
            # Callers handle our own errors (LockBusy, StoreError, ...), not groups of them: raise the first;
            # the other drives were cancelled alongside it.
            raise failures.exceptions[0] from failures
        return complete

    def _finish_run(self, report: CycleReport) -> None:
        if report.run_id is None:
            return
        if self._lost:  # the outcome is not ours to record any more: the run stays as it was last written
            log.error("cycle.fenced", run_id=report.run_id, holder=self._holder,
                      reason="the lease was lost: neither this run's outcome nor anything else is recorded")
            return
        try:
            self._record_finish(report)
        except LockLost:  # lost since the last checkpoint: the fence rolled the outcome back
            self._lost = True
            log.error("cycle.fenced", run_id=report.run_id, holder=self._holder,
                      reason="the lease was lost: this run's outcome is not recorded")
            raise
        except StoreError as exc:  # e.g. the database restarted under the cycle: the run stays "running"
            log.error("cycle.finish_not_recorded", run_id=report.run_id, store=self.db.location, error=str(exc))

    def _close_abandoned_runs(self) -> None:
        """Runs left "running" by a process that died or hung (it lost the lock: we hold it now) are recorded as
        failed, with who took over, so the run records and their metrics do not show them running forever."""
        for stale in runs.unfinished(self.db):
            why = (f"abandoned: its process ({stale.holder or 'unknown'}) stopped renewing the cycle lock (it died, "
                   f"hung or lost the state store) and {self._holder} took over")
            log.warning("cycle.abandoned_run_closed", run_id=stale.id, cycle_date=stale.cycle_date.isoformat(),
                        reason=why)
            runs.finish(self.db, stale.id, finished_at=self.clock(), status=RunStatus.FAILED, exit_code=1,
                        stats=stale.stats, message=why,
                        event=AuditEvent(AuditKind.RUN_FINISHED, at=self.clock(), cycle_date=stale.cycle_date,
                                         run_id=stale.id, reason=f"{stale.mode.value} cycle failed: {why}"))

    def _record_finish(self, report: CycleReport) -> None:
        assert report.run_id is not None
        summary = report.summary()
        runs.finish(self.db, report.run_id, finished_at=self.clock(), status=report.status,
                    exit_code=report.exit_code, stats=summary, message="; ".join(report.problems)[:4000] or None,
                    event=AuditEvent(AuditKind.RUN_FINISHED, at=self.clock(), cycle_date=report.cycle_date,
                                     run_id=report.run_id, reason=f"{report.mode.value} cycle {report.status.value}",
                                     detail={k: v for k, v in summary.items() if k not in _NOT_IN_TRAIL}))

