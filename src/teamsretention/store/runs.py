"""Run records: one row per cycle (and plan), with its configuration snapshot and its outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ..domain import RunMode, RunStatus
from . import audit
from .audit import AuditEvent
from .database import Database
from .tables import RunRow

# A run's stats also name the cycle-lock holder that ran it (host, process), kept when the run finishes.
HOLDER_KEY = "lock_holder"
# The outcomes of a cycle that did its day's work: a failed or interrupted one did not, and may be run again.
COMPLETED = (RunStatus.OK, RunStatus.INCOMPLETE, RunStatus.SAFETY_STOP)


def start(db: Database, *, mode: RunMode, at: dt.datetime, cycle_date: dt.date, started_at: dt.datetime,
          config: dict[str, Any], holder: str | None = None) -> int:
    with db.session() as s:
        run = RunRow(mode=mode.value, at=at, cycle_date=cycle_date, started_at=started_at,
                     status=RunStatus.RUNNING.value, config=config, stats={HOLDER_KEY: holder} if holder else {})
        s.add(run)
        s.flush()
        return run.id


def finish(db: Database, run_id: int, *, finished_at: dt.datetime, status: RunStatus, exit_code: int,
           stats: dict[str, Any], message: str | None, event: AuditEvent) -> None:
    """The outcome and its audit event, in one transaction."""
    with db.session() as s:
        run = s.get(RunRow, run_id)
        if run is None:
            return
        run.finished_at, run.status, run.exit_code = finished_at, status.value, exit_code
        holder = (run.stats or {}).get(HOLDER_KEY)
        run.stats, run.message = ({HOLDER_KEY: holder, **stats} if holder else stats), message
        audit.write(s, [event])


def unfinished(db: Database) -> list[StoredRun]:
    """Runs still recorded as running. Called holding the cycle lock, none of them is running any more: their
    process died or hung and lost the lock (or the store stopped answering before their outcome was written)."""
    with db.session() as s:
        return [_stored(r) for r in s.scalars(select(RunRow).where(RunRow.status == RunStatus.RUNNING.value)
                                              .order_by(RunRow.id))]


def last_run_at(db: Database) -> dt.datetime | None:
    """The moment the latest cycle (not a plan) stood for: time in the store only moves forward."""
    with db.session() as s:
        return s.scalar(select(func.max(RunRow.at)).where(RunRow.mode != RunMode.PLAN.value))


def enforced_since(db: Database) -> dt.datetime | None:
    """When enforcement was last switched (back) on after a dry-run period: the start of the first enforcing
    run after the latest dry run. None while no dry run ever came before an enforcing one, or during one."""
    with db.session() as s:
        last_dry = s.scalar(select(func.max(RunRow.id)).where(RunRow.mode == RunMode.DRY_RUN.value))
        if last_dry is None:
            return None
        first = s.scalar(select(RunRow).where(RunRow.mode == RunMode.ENFORCE.value, RunRow.id > last_dry)
                         .order_by(RunRow.id).limit(1))
        return first.started_at if first is not None else None


def completed_cycle(db: Database, cycle_date: dt.date, mode: RunMode) -> StoredRun | None:
    """The latest cycle of ``mode`` for ``cycle_date`` that completed (:data:`COMPLETED`), if any: a daemon
    does not run that date's cycle again (another daemon sharing the store already did)."""
    with db.session() as s:
        row = s.scalar(select(RunRow).where(RunRow.mode == mode.value, RunRow.cycle_date == cycle_date,
                                            RunRow.status.in_([c.value for c in COMPLETED]))
                       .order_by(RunRow.id.desc()).limit(1))
        return _stored(row) if row is not None else None


@dataclass(frozen=True, slots=True)
class StoredRun:
    id: int
    mode: RunMode
    at: dt.datetime
    cycle_date: dt.date
    status: RunStatus
    exit_code: int | None
    config: dict[str, Any]
    stats: dict[str, Any]
    message: str | None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @property
    def holder(self) -> str | None:
        """Who ran it, as its cycle named itself in the cycle lock (None for runs recorded before)."""
        value = self.stats.get(HOLDER_KEY)
        return value if isinstance(value, str) else None


def _stored(r: RunRow) -> StoredRun:
    return StoredRun(r.id, RunMode(r.mode), r.at, r.cycle_date, RunStatus(r.status), r.exit_code, dict(r.config),
                     dict(r.stats), r.message, r.started_at, r.finished_at)


def list_all(db: Database) -> list[StoredRun]:
    with db.session() as s:
        return [_stored(r) for r in s.scalars(select(RunRow).order_by(RunRow.id))]
