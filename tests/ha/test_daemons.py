"""Several daemons on one PostgreSQL store, as real processes against the Graph simulator: one runs each
date's cycle, a standby takes over when the leader is killed or hangs, a leader that lost its lease writes
nothing after it wakes up, and a database restart costs no cycle.

The leader is made to take a few seconds by the simulator's throttling (429 with Retry-After on the drives'
delta reads), so that it can be killed or stopped mid-cycle. Leases are 3 s, standbys retry every second.
"""

from __future__ import annotations

import datetime as dt
import signal
import time

import pytest

from teamsretention.domain import RunMode, RunStatus
from teamsretention.store import Database, audit, digests, runs
from teamsretention.store.audit import AuditKind

from .conftest import Daemon, wait_for

pytestmark = pytest.mark.postgres
LEASE = 3
ORGANIZERS = ["anna@contoso.example", "bob@contoso.example"]


@pytest.fixture
def ha(tmp_path, cluster, simulator):
    """Start daemons on a fresh store; the first drive inventory is slowed by ``stall`` 429s of 2 s (the two
    drives are read side by side: 2 cost one pause)."""
    started: list[Daemon] = []
    url = cluster.database()
    simulator.call("DELETE", "mail")

    def start(*names: str, stall: int = 2) -> list[Daemon]:
        simulator.call("POST", "knobs", {"fail_paths": [
            {"pattern": "root/delta", "status": 429, "count": stall, "retry_after": 2}]})
        daemons = [Daemon(name, tmp_path, simulator, url, LEASE) for name in names]
        started.extend(daemons)
        return daemons

    start.url = url
    yield start
    for daemon in started:  # SIGTERM to all first: they stop side by side
        daemon.terminate()
    for daemon in started:
        daemon.stop()
    simulator.call("POST", "knobs", {"fail_paths": []})


def _store(url: str):
    db = Database(url, create=False)
    try:
        return runs.list_all(db), audit.entries(db), digests.list_all(db)
    finally:
        db.dispose()


def _leader(daemons: list[Daemon]) -> Daemon:
    """The daemon that took the lease first and is now waiting on Graph (throttled) mid-cycle."""
    def throttled_leader():
        return next((d for d in daemons if d.logged("daemon.leader") and d.logged("graph_throttled")), None)
    return wait_for("a leader throttled mid-cycle", throttled_leader, timeout=45)


def _mail_to(simulator) -> list[str]:
    return sorted(to for m in simulator.mail() for to in m["to"])


def test_two_daemons_run_one_cycle_per_date(ha, simulator):
    first, second = ha("a", "b", stall=4)  # long enough for the other one to find the lock held
    leader = _leader([first, second])
    other = second if leader is first else first
    wait_for("the leader's cycle", lambda: leader.logged("daemon.cycle_done"), timeout=45)
    [skipped] = wait_for("the other daemon's skip", lambda: other.logged("daemon.cycle_already_ran"), timeout=30)

    [run], trail, sent = _store(ha.url)
    assert run.status is RunStatus.OK and run.mode is RunMode.ENFORCE and f"process {leader.pid}" in run.holder
    assert [a.run_id for a in trail if a.kind == AuditKind.RUN_FINISHED] == [run.id]
    assert sorted(d.recipient for d in sent) == ORGANIZERS and _mail_to(simulator) == ORGANIZERS
    # the other one waited while the leader ran, then found the date done and named who did it
    [standby] = other.logged("daemon.standby")
    assert f"process {leader.pid}" in standby["reason"]
    assert skipped["run_id"] == run.id and f"process {leader.pid}" in skipped["ran_by"]
    assert not other.logged("daemon.leader") and not other.logged("cycle.lease_taken")


def test_a_killed_leader_is_taken_over_after_its_lease(ha, simulator):
    daemons = ha("a", "b")
    leader = _leader(daemons)
    [standby] = [d for d in daemons if d is not leader]
    leader.signal(signal.SIGKILL)
    killed = time.monotonic()
    wait_for("the standby to take over", lambda: standby.logged("daemon.leader"), timeout=30)
    took_over = time.monotonic() - killed
    wait_for("the standby's cycle", lambda: standby.logged("daemon.cycle_done"), timeout=45)

    abandoned, done = _store(ha.url)[0]
    assert abandoned.status is RunStatus.FAILED and f"process {leader.pid}" in abandoned.holder  # killed...
    assert "abandoned" in abandoned.message and f"process {standby.pid}" in abandoned.message  # ...closed by the standby
    assert done.status is RunStatus.OK and f"process {standby.pid}" in done.holder
    assert abandoned.cycle_date == done.cycle_date
    assert _mail_to(simulator) == ORGANIZERS  # each digest once
    assert took_over <= LEASE + 10  # the lease ran out, then the next retry (1 s) took it
    print(f"takeover {took_over:.1f} s after kill -9 (lease {LEASE} s)")


def test_a_stopped_leader_writes_nothing_after_it_wakes_up(ha, simulator):
    daemons = ha("a", "b")
    leader = _leader(daemons)
    [standby] = [d for d in daemons if d is not leader]
    leader.signal(signal.SIGSTOP)  # hangs: no heartbeat, no write
    wait_for("the standby's cycle", lambda: standby.logged("daemon.cycle_done"), timeout=45)
    before = _store(ha.url)

    leader.signal(signal.SIGCONT)
    [lost] = wait_for("the woken leader to find its lease lost", lambda: leader.logged("cycle.lease_lost"),
                      timeout=30)
    wait_for("the woken leader's cycle to end", lambda: leader.logged("daemon.cycle_failed"), timeout=30)
    assert "lost the cycle lock" in lost["message"] or "no longer holds the cycle lock" in lost["message"]
    assert leader.logged("cycle.fenced") and leader.logged("cycle.lock_not_released")

    after = _store(ha.url)
    assert after == before  # no run, audit or digest row of the old leader after the takeover
    stale, done = after[0]
    assert stale.status is RunStatus.FAILED and f"process {leader.pid}" in stale.holder  # closed by the standby
    assert done.status is RunStatus.OK and f"process {standby.pid}" in done.holder
    [closed] = [a for a in after[1] if a.run_id == stale.id]  # the standby's entry, nothing of the old leader
    assert closed.kind == AuditKind.RUN_FINISHED and "abandoned" in closed.reason
    assert _mail_to(simulator) == ORGANIZERS
    assert leader.proc.poll() is None  # it lives on, for the next date's cycle


def test_the_daemons_survive_a_database_restart(ha, simulator, cluster):
    daemons = ha("a", "b", stall=4)
    _leader(daemons)
    # both running first: a daemon that cannot reach its store at start exits (with a message) by design, and
    # on a slow machine the standby may still be starting when the leader is already mid-cycle
    wait_for("both daemons started", lambda: all(d.logged("daemon.started") for d in daemons), timeout=45)
    cluster.stop()
    try:
        wait_for("a daemon to notice the store is gone", lambda: any(
            d.logged("cycle.lease_not_renewed") or d.logged("daemon.cycle_failed") for d in daemons), timeout=20)
    finally:
        cluster.start()
    wait_for("a cycle completed after the restart", lambda: any(d.logged("daemon.cycle_done") for d in daemons),
             timeout=60)
    assert all(d.proc.poll() is None for d in daemons)  # both still running
    cycles = _store(ha.url)[0]
    today = cycles[-1].cycle_date
    assert [r.status for r in cycles if r.status is not RunStatus.FAILED] == [RunStatus.OK]
    assert all(r.cycle_date == today for r in cycles) and today == dt.datetime.now(dt.UTC).date()
    assert _mail_to(simulator) == ORGANIZERS
