"""The daemon logs the same ``cycle.progress`` lines as ``run --once`` off a terminal, and a SIGTERM in the
middle of its cycle stops it at a checkpoint: exit 0, the run recorded as interrupted. In process, against a
simulated tenant with latency on loopback; the schedule fires at once (a date trigger in place of the cron)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal

from apscheduler.triggers.date import DateTrigger
from structlog.testing import capture_logs

from teamsretention.cli import daemon
from teamsretention.domain import RunStatus
from teamsretention.settings import load_settings
from teamsretention.store import Database, runs

from .live_tenant import cli_env, slow_tenant

USERS = 30
LATENCY = {r"/drives/[^/]+/root/delta": 1.0, r"^/v1\.0/": 0.03}  # an inventory of 4 s or more
DEADLINE = 120


def test_the_daemon_logs_progress_lines_and_stops_its_cycle_at_a_checkpoint_on_sigterm(tmp_path, monkeypatch):
    monkeypatch.setattr(daemon, "build_trigger", lambda cron, tz: DateTrigger(run_date=dt.datetime.now(dt.UTC)))
    with slow_tenant(USERS, LATENCY) as sim:
        for key, value in cli_env(sim, tmp_path, TEAMSRETENTION_LOGGING__PROGRESS_INTERVAL_SECONDS="1").items():
            if key.startswith("TEAMSRETENTION_"):
                monkeypatch.setenv(key, value)
        settings = load_settings(None)

        async def main(logs: list[dict[str, object]]) -> int:
            async def sigterm_after_the_first_progress_line() -> None:
                while not any(e["event"] == "cycle.progress" for e in logs):
                    await asyncio.sleep(0.05)  # polling a real event: the daemon's own log line
                os.kill(os.getpid(), signal.SIGTERM)

            watcher = asyncio.ensure_future(sigterm_after_the_first_progress_line())
            try:
                return await asyncio.wait_for(daemon.run_daemon(settings), DEADLINE)
            finally:
                watcher.cancel()

        with capture_logs() as logs:
            code = asyncio.run(main(logs))
    assert code == 0
    progress = [e for e in logs if e["event"] == "cycle.progress"]
    assert progress and progress[0]["log_level"] == "info"
    assert all(e["drives_total"] == USERS for e in progress if e["phase"] != "directory")
    assert 0 <= progress[-1]["drives_done"] <= USERS
    db = Database(f"sqlite:///{tmp_path}/teamsretention.db")
    try:
        [run] = runs.list_all(db)
    finally:
        db.dispose()
    assert run.status is RunStatus.INTERRUPTED  # the SIGTERM came mid-cycle: stopped at the next checkpoint
    assert [e["event"] for e in logs].count("daemon.stopping") == 1

