"""What the health and metrics endpoint reads, in one short read-only transaction per request: the latest
cycles (not plans), the cycle lock, the pause switch and the recordings by state and rule.

A store that cannot be read raises :class:`~teamsretention.errors.StoreError` naming it (``Database.session``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain import RunMode, RunStatus
from .control import CYCLE_LOCK
from .database import Database
from .tables import LockRow, PauseRow, RecordingRow, RunRow

# summary() keys summed over every finished cycle for the counters
TOTALS = ("warned", "digests_sent", "send_failures", "deleted", "blocked")


@dataclass(frozen=True, slots=True)
class CycleRecord:
    """A cycle as its run record holds it: ``stats`` is ``CycleReport.summary()`` once it has finished."""

    run_id: int
    mode: RunMode
    cycle_date: dt.date
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None
    exit_code: int | None
    message: str | None
    stats: dict[str, Any]

    @property
    def duration_seconds(self) -> float | None:
        return None if self.finished_at is None else (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    latest: CycleRecord | None  # the latest cycle, running or finished
    last_finished: CycleRecord | None
    last_ok: CycleRecord | None
    lock_holder: str | None
    lock_expires_at: dt.datetime | None
    paused: bool
    cycles: dict[str, int] = field(default_factory=dict)  # finished cycles by status
    totals: dict[str, int] = field(default_factory=dict)  # TOTALS over every finished cycle
    recordings: dict[tuple[str, str], int] = field(default_factory=dict)  # (state, rule or "none") -> count


def _record(row: RunRow | None) -> CycleRecord | None:
    if row is None:
        return None
    return CycleRecord(row.id, RunMode(row.mode), row.cycle_date, RunStatus(row.status), row.started_at,
                       row.finished_at, row.exit_code, row.message, dict(row.stats or {}))


def _cycle_state(s: Session) -> dict[str, Any]:
    cycles_only = RunRow.mode != RunMode.PLAN.value
    finished = RunRow.status != RunStatus.RUNNING.value
    latest = s.scalar(select(RunRow).where(cycles_only).order_by(RunRow.id.desc()).limit(1))
    last_finished = s.scalar(select(RunRow).where(cycles_only, finished).order_by(RunRow.id.desc()).limit(1))
    last_ok = s.scalar(select(RunRow).where(cycles_only, RunRow.status == RunStatus.OK.value)
                       .order_by(RunRow.id.desc()).limit(1))
    lock = s.get(LockRow, CYCLE_LOCK)
    pause = s.get(PauseRow, 1)
    return {"latest": _record(latest), "last_finished": _record(last_finished), "last_ok": _record(last_ok),
            "lock_holder": lock.holder if lock else None, "lock_expires_at": lock.expires_at if lock else None,
            "paused": bool(pause.paused) if pause else False}


def cycle_state(db: Database) -> HealthSnapshot:
    """The latest cycles, the lock and the pause switch only (``/readyz``): a few single-row reads."""
    with db.session() as s:
        return HealthSnapshot(**_cycle_state(s))


def snapshot(db: Database) -> HealthSnapshot:
    """Everything ``/metrics`` shows; the sums and counts are computed by the database."""
    cycles_only = RunRow.mode != RunMode.PLAN.value
    finished = RunRow.status != RunStatus.RUNNING.value
    with db.session() as s:
        cycles: dict[str, int] = {str(status): int(n) for status, n in s.execute(
            select(RunRow.status, func.count()).where(cycles_only, finished).group_by(RunRow.status))}
        sums = s.execute(select(*[func.coalesce(func.sum(RunRow.stats[key].as_integer()), 0) for key in TOTALS])
                         .where(cycles_only, finished)).one()
        by = (RecordingRow.state, RecordingRow.rule)
        recordings = {(str(state), rule or "none"): int(n) for state, rule, n in s.execute(
            select(*by, func.count()).group_by(*by))}
        return HealthSnapshot(**_cycle_state(s), cycles=cycles, totals=dict(zip(TOTALS, map(int, sums), strict=True)),
                              recordings=recordings)
