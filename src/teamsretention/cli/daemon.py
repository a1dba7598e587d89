"""``teamsretention run``: one cycle per scheduled time (APScheduler 3, standard cron, configured zone).

Two APScheduler traits shape this (graph-notes.md): ``shutdown()`` cancels a running coroutine job even
with ``wait=True``, so we track the cycle task ourselves and let it reach a checkpoint before shutting the
scheduler down; and a job can fire twice around a DST change, so the daemon never runs two cycles for the
same cycle date. SIGTERM: stop at the next checkpoint within the configured timeout, then exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ..bootstrap import build_app, utc_now
from ..domain import RunMode, local_date
from ..errors import LockBusy, LockLost, TeamsRetentionError
from ..settings import Settings
from ..settings.schedule import build_trigger

log = structlog.get_logger(__name__)

# A cycle that missed its time by less than this (the host slept, the daemon restarted) still runs.
MISFIRE_GRACE_SECONDS = 3600


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


@dataclass
class _DaemonState:
    last_date: dt.date | None = None  # the cycle date of the last cycle started
    task: asyncio.Task[None] | None = None  # the cycle running now


async def run_daemon(settings: Settings) -> int:
    app = build_app(settings)
    tz = settings.schedule.timezone
    mode = RunMode.ENFORCE if settings.policy.enforce else RunMode.DRY_RUN
    stop = asyncio.Event()
    state = _DaemonState()

    async def cycle_job() -> None:
        now = utc_now()
        day = local_date(now, tz)
        if state.last_date == day:  # DST: the same wall-clock time can come twice
            log.info("daemon.skip_same_date", cycle_date=day.isoformat())
            return
        state.last_date = day
        task = asyncio.current_task()
        state.task = task
        try:
            report = await app.cycle(stop=stop).run(mode=mode, at=now)
            log.info("daemon.cycle_done", exit_code=report.exit_code, status=report.status.value)
        except LockLost as exc:
            log.error("daemon.cycle_failed", error=str(exc))
        except LockBusy as exc:
            log.warning("daemon.cycle_skipped", reason=str(exc))
            state.last_date = None  # another process holds this date's cycle; a later fire may try again
        except TeamsRetentionError as exc:
            log.error("daemon.cycle_failed", error=str(exc))
        finally:
            state.task = None

    scheduler = AsyncIOScheduler(timezone=ZoneInfo(tz), job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS})
    scheduler.add_job(cycle_job, build_trigger(settings.schedule.cron, tz), id="cycle")
    with stop_on_signals(stop):
        scheduler.start()
        job = scheduler.get_job("cycle")
        log.info("daemon.started", cron=settings.schedule.cron, timezone=tz, mode=mode.value,
                 next_run=str(job.next_run_time) if job else None)
        await stop.wait()
        log.info("daemon.stopping")
        task = state.task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), settings.schedule.shutdown_timeout_seconds)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        scheduler.shutdown(wait=False)
    await app.aclose()
    return 0
