"""``/readyz``: the daemon is ready when its state store answers, its last cycle did not fail, and no cycle
is stuck.

Stuck: the latest cycle is still ``running`` and either the cycle lock it holds is gone or has expired (a
live cycle refreshes it at every checkpoint, so the process died or hangs between checkpoints for longer
than the lock's TTL), or it has been running longer than :data:`STUCK_FACTOR` times the last successful
cycle's duration, and at least the lock's TTL (so a first, long inventory is not called stuck too early).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..cycle.run import LOCK_TTL
from ..domain import RunStatus
from ..errors import StoreError
from ..store import health
from ..store.database import Database
from ..store.health import CycleRecord, HealthSnapshot

STUCK_FACTOR = 3


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reason: str  # one line: what was found, in which store, and what to do


def stuck_after(snapshot: HealthSnapshot) -> dt.timedelta:
    usual = snapshot.last_ok.duration_seconds if snapshot.last_ok else None
    if usual is None:
        return LOCK_TTL
    return max(LOCK_TTL, dt.timedelta(seconds=usual * STUCK_FACTOR))


def _running_problem(run: CycleRecord, snapshot: HealthSnapshot, now: dt.datetime, store: str) -> str | None:
    running_for = now - run.started_at
    since = f"running since {run.started_at.isoformat(timespec='seconds')}"
    if snapshot.lock_holder is None or snapshot.lock_expires_at is None or snapshot.lock_expires_at <= now:
        return (f"cycle {run.run_id} (cycle date {run.cycle_date}) in state store {store} is stuck: {since} but "
                "the cycle lock is no longer held, so the process that ran it stopped or hangs; check the "
                "daemon's log, restart it if it hangs, and the next cycle starts afresh")
    limit = stuck_after(snapshot)
    if running_for > limit:
        return (f"cycle {run.run_id} (cycle date {run.cycle_date}) in state store {store} looks stuck: {since}, "
                f"longer than {limit} ({STUCK_FACTOR}x the last successful cycle, at least the lock's TTL); "
                "check the daemon's log for Graph throttling or a hung request")
    return None


def judge(snapshot: HealthSnapshot, now: dt.datetime, store: str) -> Readiness:
    latest = snapshot.latest
    if latest is not None and latest.status is RunStatus.RUNNING:
        problem = _running_problem(latest, snapshot, now, store)
        if problem:
            return Readiness(False, problem)
    last = snapshot.last_finished
    if last is not None and last.status is RunStatus.FAILED:
        why = (last.message or "no reason recorded").splitlines()[0]
        return Readiness(False, f"the last cycle ({last.run_id}, cycle date {last.cycle_date}) in state store "
                                f"{store} failed: {why}; see the daemon's log, fix the cause, and the next cycle "
                                "(or `teamsretention run --once`) makes the daemon ready again")
    if last is None:
        return Readiness(True, f"ready: state store {store} answers; no cycle has finished yet")
    return Readiness(True, f"ready: state store {store} answers; the last cycle ({last.run_id}, cycle date "
                           f"{last.cycle_date}) ended {last.status.value}")


def readiness(db: Database, now: dt.datetime) -> Readiness:
    try:
        snapshot = health.cycle_state(db)
    except StoreError as exc:
        return Readiness(False, f"{str(exc).splitlines()[0]}; the daemon cannot record or decide anything until "
                                "its state store answers")
    return judge(snapshot, now, db.location)
