"""Running one cycle from the command line: `run --once`, `plan`, `pause`/`resume`.

SIGTERM (and SIGINT) set the cycle's stop event: it stops at the next checkpoint (between drives, between
actions). If it has not reached one within ``schedule.shutdown_timeout_seconds`` the task is cancelled;
every record is written in its own transaction, so nothing is half-recorded either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from collections.abc import Callable, Iterator

from .bootstrap import App, build_app, rehearsal_clock, utc_now
from .errors import ConfigError
from .schedule import cycle_date, parse_at
from .service import CycleReport, Mode, last_run_at
from .settings import Settings
from .store import Database


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


async def run_with_deadline(cycle_coro: Callable[[], asyncio.Future[CycleReport] | object], stop: asyncio.Event,
                            timeout: float) -> CycleReport:
    """Run the cycle; after a stop request give it ``timeout`` seconds to reach a checkpoint, then cancel."""
    task = asyncio.ensure_future(cycle_coro())  # type: ignore[arg-type]
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if task not in done:
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise
    stopper.cancel()
    return task.result()


def rehearsal_moment(settings: Settings, at: str, db: Database) -> dt.datetime:
    if not settings.is_loopback_endpoint:
        raise ConfigError("--at: `run --at` is for rehearsals against a loopback graph.graph_endpoint (the "
                          "simulator) only; use `plan --at` to look ahead on a real tenant")
    moment = parse_at(at, settings.schedule.cron, settings.schedule.timezone)
    last = last_run_at(db)
    if last is not None and moment < last:
        raise ConfigError(f"--at {at}: earlier than the last recorded run ({last.isoformat()}); time in the "
                          "store only moves forward")
    return moment


async def run_once(settings: Settings, *, at: str | None, allow_deletions: int | None,
                   app: App | None = None) -> CycleReport:
    mode = Mode.ENFORCE if settings.policy.enforce else Mode.DRY_RUN
    if allow_deletions is not None and mode is not Mode.ENFORCE:
        raise ConfigError("--allow-deletions: deletions happen only with policy.enforce = true")
    if at is not None:
        parse_at(at, settings.schedule.cron, settings.schedule.timezone)  # bad --at: exit 2 before any call
    app = app or build_app(settings)
    try:
        moment = rehearsal_moment(settings, at, app.db) if at else utc_now()
        clock = rehearsal_clock(moment) if at else utc_now
        stop = asyncio.Event()
        cycle = app.cycle(clock=clock, stop=stop)
        with stop_on_signals(stop):
            return await run_with_deadline(
                lambda: cycle.run(mode=mode, at=moment, allow_deletions=allow_deletions), stop,
                settings.schedule.shutdown_timeout_seconds)
    finally:
        await app.aclose()


async def run_plan(settings: Settings, *, at: str | None, keep_all: bool, app: App | None = None) -> CycleReport:
    now = utc_now()
    until = None
    if at is not None:
        moment = parse_at(at, settings.schedule.cron, settings.schedule.timezone)
        until = cycle_date(moment, settings.schedule.timezone)
        if until < cycle_date(now, settings.schedule.timezone):
            raise ConfigError(f"--at {at}: plan looks ahead; that date is in the past")
    app = app or build_app(settings)
    try:
        cycle = app.cycle(clock=utc_now)
        return await cycle.run(mode=Mode.PLAN, at=now, keep_all=keep_all, project_until=until)
    finally:
        await app.aclose()


def set_pause(settings: Settings, paused: bool, *, reason: str | None, by: str) -> bool:
    if paused and not (reason or "").strip():
        raise ConfigError("pause --reason: a reason is required (it goes into the audit trail)")
    import getpass

    db = Database(settings.database_url_value())
    try:
        return db.set_paused(paused, reason=reason, by=by or getpass.getuser(), now=utc_now())
    finally:
        db.dispose()
