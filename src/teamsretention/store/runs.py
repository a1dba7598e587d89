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


def start(db: Database, *, mode: RunMode, at: dt.datetime, cycle_date: dt.date, started_at: dt.datetime,
          config: dict[str, Any]) -> int:
    with db.session() as s:
        run = RunRow(mode=mode.value, at=at, cycle_date=cycle_date, started_at=started_at,
                     status=RunStatus.RUNNING.value, config=config, stats={})
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
        run.stats, run.message = stats, message
        audit.write(s, [event])


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


def list_all(db: Database) -> list[StoredRun]:
    with db.session() as s:
        return [StoredRun(r.id, RunMode(r.mode), r.at, r.cycle_date, RunStatus(r.status), r.exit_code, dict(r.config),
                          dict(r.stats), r.message) for r in s.scalars(select(RunRow).order_by(RunRow.id))]
