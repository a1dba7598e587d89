"""The daemon's scheduled cycle when the cycle lock is held elsewhere (a ``plan`` or a ``run --once`` on
another host): it waits and tries again instead of skipping the day, and a SIGTERM ends the wait at once.

No APScheduler timing and no real sleep: ``run_day_cycle`` is the body of the scheduled job, and the wait
between attempts is passed in.
"""

from __future__ import annotations

import asyncio
import os

from structlog.testing import capture_logs

from teamsretention.cli import daemon
from teamsretention.cli.daemon import LOCK_RETRIES, LOCK_RETRY_SECONDS, run_day_cycle
from teamsretention.cycle import Cycle
from teamsretention.cycle.run import LOCK_TTL
from teamsretention.domain import RunMode
from teamsretention.errors import LockLost, StoreError
from teamsretention.notify.render import render_digest
from teamsretention.store import control, runs

from ..cycle.test_cycle import DAY0, World, at

OTHER = "plan-on-another-host"


def _world(tmp_path) -> World:
    w = World(tmp_path)  # a real store: sqlite:///<tmp>/state.db
    w.gw.add_user("alice")
    return w


def _cycles(w: World, stop: asyncio.Event):
    moment = at(0)
    return lambda: Cycle(w.db, w.gw, w.config, render_digest, clock=lambda: moment, stop=stop)


def _run(make_cycle, stop: asyncio.Event, wait) -> bool:
    return asyncio.run(run_day_cycle(make_cycle, mode=RunMode.ENFORCE, at=at(0), stop=stop, wait=wait))


def test_a_plan_holding_the_lock_delays_the_days_cycle_instead_of_skipping_it(tmp_path):
    w = _world(tmp_path)
    try:
        assert control.acquire_lock(w.db, OTHER, at(0), LOCK_TTL)
        stop, waits = asyncio.Event(), []

        async def plan_finishes_during_the_wait(stop_: asyncio.Event, seconds: float) -> None:
            waits.append(seconds)
            control.release_lock(w.db, OTHER)

        with capture_logs() as logs:
            assert _run(_cycles(w, stop), stop, plan_finishes_during_the_wait)
        assert waits == [LOCK_RETRY_SECONDS]
        [run] = runs.list_all(w.db)
        assert run.cycle_date == DAY0 and run.mode is RunMode.ENFORCE
        [waiting] = [e for e in logs if e["event"] == "daemon.cycle_waiting"]
        assert f"another cycle holds the cycle lock ({OTHER} since " in waiting["reason"]
        assert waiting["retry_in_seconds"] == LOCK_RETRY_SECONDS
        assert [e["event"] for e in logs if e["event"].startswith("daemon.")] == [
            "daemon.standby", "daemon.cycle_waiting", "daemon.leader", "daemon.cycle_done", "daemon.idle"]
        [standby] = [e for e in logs if e["event"] == "daemon.standby"]
        assert OTHER in standby["reason"]
    finally:
        w.db.dispose()


def test_sigterm_while_waiting_for_the_lock_ends_the_job_without_a_cycle(tmp_path):
    w = _world(tmp_path)
    try:
        assert control.acquire_lock(w.db, OTHER, at(0), LOCK_TTL)
        stop, waits = asyncio.Event(), []

        async def sigterm_during_the_wait(stop_: asyncio.Event, seconds: float) -> None:
            waits.append(seconds)
            stop_.set()  # what the SIGTERM handler does
            control.release_lock(w.db, OTHER)  # even a free lock is not taken once stopping

        assert not _run(_cycles(w, stop), stop, sigterm_during_the_wait)
        assert waits == [LOCK_RETRY_SECONDS]
        assert runs.list_all(w.db) == []
    finally:
        w.db.dispose()


def test_a_lock_held_for_its_whole_ttl_gives_up_and_leaves_the_date_to_a_later_fire(tmp_path):
    w = _world(tmp_path)
    try:
        assert control.acquire_lock(w.db, OTHER, at(0), LOCK_TTL)
        stop, waits = asyncio.Event(), []

        async def still_held(stop_: asyncio.Event, seconds: float) -> None:
            waits.append(seconds)

        with capture_logs() as logs:
            assert not _run(_cycles(w, stop), stop, still_held)
        assert len(waits) == LOCK_RETRIES and sum(waits) == LOCK_TTL.total_seconds()
        assert runs.list_all(w.db) == []
        assert [e["event"] for e in logs][-1] == "daemon.cycle_skipped"
    finally:
        w.db.dispose()


def test_a_lost_lock_is_not_retried():
    attempts, waits = [], []

    class LosesItsLock:
        async def run(self, **_kw):
            attempts.append(1)
            raise LockLost("the cycle lock was lost (it expired and another cycle took it): stopping")

    async def no_wait(stop_: asyncio.Event, seconds: float) -> None:
        waits.append(seconds)

    stop = asyncio.Event()
    assert _run(LosesItsLock, stop, no_wait)  # it ran: the date is not tried again
    assert attempts == [1] and waits == []


def test_the_default_wait_ends_as_soon_as_the_daemon_is_stopped():
    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_soon(stop.set)
        # a day-long wait that must end with the stop event, not the timeout
        await asyncio.wait_for(daemon.wait_unless_stopped(stop, 86400), timeout=60)

    asyncio.run(main())


def test_a_date_whose_cycle_another_daemon_completed_is_not_run_again(tmp_path):
    w = _world(tmp_path)
    try:
        stop = asyncio.Event()
        other = Cycle(w.db, w.gw, w.config, render_digest, clock=lambda: at(0), stop=stop)
        asyncio.run(other.run(mode=RunMode.ENFORCE, at=at(0)))  # the daemon on another host
        [first] = runs.list_all(w.db)

        async def no_wait(stop_: asyncio.Event, seconds: float) -> None:
            raise AssertionError("nothing to wait for")

        with capture_logs() as logs:
            assert _run(_cycles(w, stop), stop, no_wait)
        assert [r.id for r in runs.list_all(w.db)] == [first.id]
        [skipped] = [e for e in logs if e["event"] == "daemon.cycle_already_ran"]
        assert skipped["run_id"] == first.id and skipped["ran_by"] == first.holder
        assert f"process {os.getpid()}" in skipped["ran_by"] and "not running it again" in skipped["reason"]
        assert control.lock_state(w.db).holder is None  # the lock taken to look was given back
    finally:
        w.db.dispose()


def test_a_store_that_did_not_answer_is_tried_again_for_the_same_date(tmp_path):
    w = _world(tmp_path)
    try:
        stop, waits, attempts = asyncio.Event(), [], []
        real = _cycles(w, stop)

        class StoreDown:
            async def run(self, **_kw):
                raise StoreError("state store x: the database server did not answer")

        def make():
            attempts.append(1)
            return StoreDown() if len(attempts) == 1 else real()

        async def restarted(stop_: asyncio.Event, seconds: float) -> None:
            waits.append(seconds)

        with capture_logs() as logs:
            assert _run(make, stop, restarted)
        assert waits == [LOCK_RETRY_SECONDS] and len(attempts) == 2
        [run] = runs.list_all(w.db)
        assert run.cycle_date == DAY0 and run.status.value == "ok"
        [failed] = [e for e in logs if e["event"] == "daemon.cycle_failed"]
        assert "did not answer" in failed["error"] and failed["retry_in_seconds"] == LOCK_RETRY_SECONDS
    finally:
        w.db.dispose()
