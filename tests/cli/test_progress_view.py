"""What an operator sees of a running cycle, in process: the ``cycle.progress`` log line and its interval, the
live display's lines, and how the first and second Ctrl-C (or SIGTERM) stop ``run --once`` and ``plan``."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal

import pytest
from structlog.testing import capture_logs
from typer.testing import CliRunner

from teamsretention.cli import app
from teamsretention.cli.progress import STOPPING, ProgressView, progress_lines, run_interruptible
from teamsretention.cycle import CycleReport
from teamsretention.cycle.progress import CycleProgress
from teamsretention.domain import RunMode, RunStatus


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def report() -> CycleReport:
    return CycleReport(run_id=7, cycle_date=dt.date(2026, 3, 2), mode=RunMode.ENFORCE)


def test_off_a_terminal_a_progress_line_comes_every_interval_once_the_cycle_began():
    clock = Clock()
    progress = CycleProgress(clock=clock)
    view = ProgressView(progress, live=False, interval=60, clock=clock)
    with capture_logs() as logs:
        clock.now = 500
        view.tick()  # no cycle yet (a daemon between cycles): nothing to say
        progress.begin(report())
        progress.enter("inventory")
        progress.add_drives(10)
        view.tick()
        clock.now = 559
        progress.drive_done()
        view.tick()  # 59 s into the cycle
        clock.now = 560
        view.tick()
        clock.now = 600
        view.tick()
        clock.now = 621
        progress.drive_done()
        view.tick()
    lines = [e for e in logs if e["event"] == "cycle.progress"]
    assert [(e["drives_done"], e["drives_total"], e["elapsed_seconds"]) for e in lines] == [(1, 10, 60), (2, 10, 121)]
    assert lines[0]["phase"] == "inventory" and lines[0]["log_level"] == "info"
    for key in ("recordings_found", "recordings_evaluated", "recordings_tracked", "digests_sent", "deletions",
                "graph_requests", "resource_units", "throttle_wait_seconds", "eta_seconds"):
        assert key in lines[0]


def test_an_interval_of_0_logs_no_progress():
    clock = Clock()
    progress = CycleProgress(clock=clock)
    view = ProgressView(progress, live=False, interval=0, clock=clock)
    progress.begin(report())
    with capture_logs() as logs:
        for clock.now in (100, 1000, 10_000):
            view.tick()
    assert [e for e in logs if e["event"] == "cycle.progress"] == []


def test_the_live_lines_say_drives_done_of_total_the_counters_and_the_time_left():
    clock = Clock()
    progress = CycleProgress(clock=clock)
    rep = report()
    progress.begin(rep)
    progress.enter("inventory")
    progress.add_drives(200)
    first, second = progress_lines(progress.snapshot())
    assert first == "drives 0/200 · inventory · 0:00 elapsed, estimating the time left"
    for _ in range(20):
        clock.now += 3
        progress.drive_done()
    rep.inventory.recordings_new = 57
    first, second = progress_lines(progress.snapshot())
    assert first == "drives 20/200 · inventory · 1:00 elapsed, about 9:00 left"
    assert second.startswith("recordings 57 found, 0/0 evaluated · 0 digests sent (0 recordings warned) · 0 deleted")
    assert "Graph 0 requests, ~0 RU, 0 s throttled" in second


def test_the_first_interrupt_asks_for_a_checkpoint_and_the_cycle_reports_interrupted(capsys):
    async def scenario() -> CycleReport:
        stop, progress, rep = asyncio.Event(), CycleProgress(), report()

        async def cycle() -> CycleReport:
            progress.begin(rep)
            os.kill(os.getpid(), signal.SIGTERM)
            await stop.wait()  # the next checkpoint
            rep.mark_interrupted()
            return rep

        return await run_interruptible(cycle, stop, progress, timeout=30)

    rep = asyncio.run(scenario())
    assert rep.status is RunStatus.INTERRUPTED and rep.exit_code == 1
    assert rep.problems == ["stopped at a checkpoint by a shutdown request"]
    assert capsys.readouterr().err.splitlines() == [STOPPING]


@pytest.mark.parametrize("second", ["ctrl-c", "timeout"])
def test_a_second_ctrl_c_or_the_shutdown_timeout_stops_at_once_and_says_so(capsys, second):
    async def scenario() -> CycleReport:
        stop, progress, rep = asyncio.Event(), CycleProgress(), report()

        async def cycle() -> CycleReport:  # a cycle stuck in one action: it never reaches a checkpoint
            progress.begin(rep)
            os.kill(os.getpid(), signal.SIGINT)
            try:
                await stop.wait()
                if second == "ctrl-c":
                    os.kill(os.getpid(), signal.SIGINT)
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                rep.mark_interrupted(None)  # what Cycle.run does when it is cancelled
                raise
            return rep

        return await run_interruptible(cycle, stop, progress, timeout=0 if second == "timeout" else 30)

    rep = asyncio.run(scenario())
    assert rep.status is RunStatus.INTERRUPTED and rep.exit_code == 1
    why = "a second interrupt" if second == "ctrl-c" else "schedule.shutdown_timeout_seconds (0 s)"
    assert len(rep.problems) == 1 and why in rep.problems[0]
    assert "intent recorded first" in rep.problems[0] and "not sent again" in rep.problems[0]
    err = capsys.readouterr().err.splitlines()
    assert err == ([STOPPING, "stopping at once"] if second == "ctrl-c" else [STOPPING])


def test_a_negative_progress_interval_is_a_configuration_error_naming_the_key_and_its_source(tmp_path):
    result = CliRunner().invoke(app, ["plan"], env={"TEAMSRETENTION_LOGGING__PROGRESS_INTERVAL_SECONDS": "-1",
                                                    "TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path)})
    assert result.exit_code == 2
    assert ("logging.progress_interval_seconds = -1 (from environment variable "
            "TEAMSRETENTION_LOGGING__PROGRESS_INTERVAL_SECONDS): must be at least 0") in result.output
    assert list(tmp_path.iterdir()) == []  # no side effects: no store was created
