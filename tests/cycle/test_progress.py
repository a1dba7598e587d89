"""The progress a running cycle reports: drives done of total, the counts of its report, the Graph traffic since
it began, and an estimate of the time left that waits for enough data (a fake clock throughout)."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from teamsretention.cycle import Cycle, CycleConfig, CycleReport, ScopeRules
from teamsretention.cycle.progress import CycleProgress, estimate
from teamsretention.domain import PolicyConfig, RunMode
from teamsretention.notify.render import render_digest
from teamsretention.ports import GraphTraffic
from teamsretention.store import Database

from ..fakes import FakeGateway

TZ = ZoneInfo("Europe/Stockholm")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def report() -> CycleReport:
    return CycleReport(run_id=1, cycle_date=dt.date(2026, 3, 2), mode=RunMode.ENFORCE)


def test_the_estimate_waits_for_enough_drives_and_time_then_follows_the_rate():
    assert estimate(0, 100, 60) is None  # nothing done yet
    assert estimate(2, 100, 60) is None  # a couple of drives say little
    assert estimate(10, 100, 4) is None  # ten fast ones in four seconds: still too early
    assert estimate(10, 100, 20) == pytest.approx(180)  # 2 s a drive, 90 to go
    assert estimate(100, 100, 20) == 0.0
    assert estimate(0, 0, 20) is None  # nothing to measure against
    assert estimate(40, 10_000, 600) is None  # a large tenant: 50 drives before the first estimate
    assert estimate(50, 10_000, 600) == pytest.approx(12 * 9950)


def test_progress_reads_the_cycle_its_report_and_the_traffic_since_the_cycle_began():
    clock, traffic = Clock(), GraphTraffic(requests={("GET", 200): 40}, resource_units=40, throttle_wait_seconds=3)
    progress = CycleProgress(clock=clock, traffic=lambda: traffic)
    rep = report()
    progress.begin(rep)  # traffic before the cycle (a daemon's earlier cycles) does not count
    progress.enter("directory")
    clock.now += 5
    progress.enter("inventory")
    progress.add_drives(20)
    for _ in range(5):
        clock.now += 2
        progress.drive_done()
    rep.inventory.recordings_new = 12
    traffic = GraphTraffic(requests={("GET", 200): 90, ("GET", 429): 2}, resource_units=95, throttle_wait_seconds=7.5,
                           pacing_wait_seconds=12.0)
    s = progress.snapshot()
    assert (s.phase, s.drives_done, s.drives_total, s.recordings_found) == ("inventory", 5, 20, 12)
    assert (s.graph_requests, s.resource_units, s.throttle_wait_seconds) == (52, 55, 4.5)
    assert s.elapsed_seconds == 15 and s.eta_seconds == pytest.approx(30)  # 2 s a drive, 15 to go
    assert s.fields()["drives_done"] == 5 and s.fields()["pacing_wait_seconds"] == 12.0  # waiting on the RU budget

    progress.enter("evaluate")
    rep.tracked, rep.actions["keep"], rep.actions["warn"] = 12, 2, 1
    s = progress.snapshot()
    assert (s.recordings_evaluated, s.recordings_tracked, s.eta_seconds, s.estimating) == (3, 12, None, True)
    progress.enter("warn")
    rep.digests_sent, rep.warned, rep.deleted = 2, 3, 1
    s = progress.snapshot()
    assert (s.digests_sent, s.recordings_warned, s.deletions, s.estimating) == (2, 3, 1, False)
    assert progress.active
    progress.enter("done")
    assert not progress.active


def test_an_unknown_phase_is_refused():
    with pytest.raises(ValueError, match="unknown phase"):
        CycleProgress().enter("napping")


def test_a_cycle_moves_its_progress_through_the_phases_to_every_drive_done(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    gw = FakeGateway()
    for uid in ("alice", "bob", "carol"):
        gw.add_user(uid)
        gw.add_recording(uid, f"r-{uid}", dt.datetime(2026, 1, 20, 10, tzinfo=dt.UTC))
    config = CycleConfig(policy=PolicyConfig(), scope=ScopeRules(channel_sites=False),
                         sender="retention@contoso.example", language="en")
    moment = dt.datetime(2026, 3, 2, 6, tzinfo=TZ)
    progress = CycleProgress()
    phases: list[str] = []
    enter = progress.enter
    progress.enter = lambda phase: (phases.append(phase), enter(phase))[1]  # type: ignore[method-assign]
    cycle = Cycle(db, gw, config, render_digest, clock=lambda: moment, progress=progress)
    rep = asyncio.run(cycle.run(mode=RunMode.ENFORCE, at=moment))
    s = progress.snapshot()
    assert phases == ["directory", "inventory", "evaluate", "warn", "digest", "delete", "evidence", "done"]
    assert (s.drives_done, s.drives_total, s.recordings_found) == (3, 3, 3)
    assert (s.recordings_evaluated, s.recordings_tracked, s.deletions) == (3, 3, rep.deleted)
    assert s.digests_sent == rep.digests_sent == 3
    db.dispose()
