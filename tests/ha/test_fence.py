"""The fence: a cycle's writes commit only while its holder still holds the cycle lock. A process whose lease
ran out and was taken over (it hung, it was paused) has every later write rolled back with LockLost, on SQLite
and PostgreSQL; on PostgreSQL a takeover waits for a transaction that passed the check to end first."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt

import pytest
from structlog.testing import capture_logs

from teamsretention.cycle import Cycle
from teamsretention.domain import DigestStatus, RunMode, RunStatus
from teamsretention.errors import LockLost, StoreError
from teamsretention.notify.render import render_digest
from teamsretention.store import Database, audit, control, digests, runs

from ..cycle.test_cycle import DAY0, World, at, created

LEASE = dt.timedelta(seconds=30)


def _start_run(db: Database) -> int:
    return runs.start(db, mode=RunMode.ENFORCE, at=at(0), cycle_date=DAY0, started_at=at(0), config={})


def _takeover(db: Database, by: str = "host-b") -> None:
    assert control.acquire_lock(db, by, at(0) + LEASE + dt.timedelta(seconds=1), LEASE)  # "host-a" expired


def _fence_refuses_writes_after_a_takeover(url: str) -> None:
    leader, standby = Database(url), Database(url)
    try:
        assert control.acquire_lock(leader, "host-a", at(0), LEASE)
        with leader.fenced("host-a"):
            first = _start_run(leader)  # still the holder: it commits
            _takeover(standby)
            with pytest.raises(LockLost, match="no longer holds the cycle lock"):
                _start_run(leader)
            with pytest.raises(LockLost):  # a digest's intent (Core statements, no ORM unit of work) likewise
                digests.record_intent(leader, replace_id=None, run_id=first, organizer_id="alice",
                                      recipient="alice@contoso.example", recipient_is_fallback=False, cycle_date=DAY0,
                                      status=DigestStatus.INTENDED, language="en", subject="", announcements=[],
                                      events=[])
            with pytest.raises(LockLost):  # nor can it give back a lock that is not its own any more
                control.release_lock(leader, "host-a")
        assert [r.id for r in runs.list_all(standby)] == [first]  # the second run was rolled back
        assert digests.for_date(standby, DAY0) == []
        assert control.lock_state(standby).holder == "host-b"
        _start_run(leader)  # outside the fenced block (another command, the web endpoint) nothing is checked
    finally:
        leader.dispose()
        standby.dispose()


def test_a_write_after_a_takeover_is_rolled_back_on_sqlite(tmp_path):
    _fence_refuses_writes_after_a_takeover(f"sqlite:///{tmp_path}/state.db")


@pytest.mark.postgres
def test_a_write_after_a_takeover_is_rolled_back_on_postgresql(postgres_url):
    _fence_refuses_writes_after_a_takeover(postgres_url)


@pytest.mark.postgres
def test_a_takeover_waits_for_a_checked_transaction_on_postgresql(postgres_url):
    """The leader's transaction passed the check (it holds the lock row FOR SHARE): a takeover cannot commit
    in between; here it gives up after 200 ms instead of waiting, and succeeds once the leader committed."""
    leader = Database(postgres_url)
    impatient = Database(postgres_url + "?options=-c%20lock_timeout%3D200")
    try:
        assert control.acquire_lock(leader, "host-a", at(0), LEASE)
        with leader.fenced("host-a"), leader.session() as s:
            s.add(runs.RunRow(mode="enforce", at=at(0), cycle_date=DAY0, started_at=at(0), status="running",
                              config={}, stats={}))
            leader._check_fence(s)  # what commit does first
            with pytest.raises(StoreError):
                _takeover(impatient)
        assert len(runs.list_all(impatient)) == 1
        _takeover(impatient)
        assert control.lock_state(leader).holder == "host-b"
    finally:
        leader.dispose()
        impatient.dispose()


class _TakenOverDuringInventory:
    """A gateway whose drive listing is slow enough for the lease to run out and another process to take over
    (the takeover is done here, as that other process would)."""

    def __init__(self, w: World) -> None:
        self.w, self.done = w, False

    def __getattr__(self, name):
        return getattr(self.w.gw, name)

    async def drive_delta(self, drive_id, delta_link, *, videos_only=False):
        if not self.done:
            self.done = True
            contextvars.Context().run(_takeover_current, self.w.db)  # another process: not under our fence
        async for page in self.w.gw.drive_delta(drive_id, delta_link):
            yield page


def _takeover_current(db: Database) -> None:
    assert control.acquire_lock(db, "a cycle on host-b", control.lock_state(db).expires_at + dt.timedelta(seconds=1),
                                LEASE)


def test_a_cycle_that_lost_its_lease_records_nothing_more(tmp_path):
    w = World(tmp_path)
    w.gw.add_user("alice")
    w.gw.add_recording("alice", "r1", created(-25))  # to be warned today, if the cycle got that far
    try:
        cycle = Cycle(w.db, _TakenOverDuringInventory(w), w.config, render_digest, clock=lambda: at(0), lease=LEASE)
        with capture_logs() as logs, pytest.raises(LockLost):
            asyncio.run(cycle.run(mode=RunMode.ENFORCE, at=at(0)))
        [run] = runs.list_all(w.db)
        assert run.status is RunStatus.RUNNING  # its outcome is not recorded: not its to record any more
        assert control.lock_state(w.db).holder == "a cycle on host-b"  # not released by the fenced cycle
        assert [a.kind for a in audit.entries(w.db)] == []  # no inventory, no warning, no run_finished
        assert w.gw.sent == []
        events = [e["event"] for e in logs]
        assert "cycle.lease_lost" in events and "cycle.fenced" in events and "cycle.lock_not_released" in events
        [lost] = [e for e in logs if e["event"] == "cycle.lease_lost"]
        assert "writes nothing more" in lost["message"] or "rolled back" in lost["message"]
    finally:
        w.db.dispose()


def test_a_run_left_running_by_a_process_that_lost_the_lock_is_closed_by_the_next_cycle(tmp_path):
    w = World(tmp_path)
    w.gw.add_user("alice")
    try:
        assert control.acquire_lock(w.db, "a cycle on host-a", at(0), LEASE)
        abandoned = runs.start(w.db, mode=RunMode.ENFORCE, at=at(0), cycle_date=DAY0, started_at=at(0), config={},
                               holder="a cycle on host-a")  # then host-a froze
        later = at(0) + LEASE + dt.timedelta(seconds=1)
        report = asyncio.run(Cycle(w.db, w.gw, w.config, render_digest, clock=lambda: later, lease=LEASE)
                             .run(mode=RunMode.ENFORCE, at=at(0)))
        closed, done = runs.list_all(w.db)
        assert (closed.id, closed.status, done.id) == (abandoned, RunStatus.FAILED, report.run_id)
        assert "a cycle on host-a" in closed.message and "took over" in closed.message
        [entry] = [a for a in audit.entries(w.db) if a.run_id == abandoned]
        assert entry.kind == "run_finished" and "abandoned" in entry.reason
    finally:
        w.db.dispose()
