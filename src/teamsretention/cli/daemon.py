"""``teamsretention run``: one cycle per scheduled time (APScheduler 3, standard cron, configured zone).

Two APScheduler traits shape this (graph-notes.md): ``shutdown()`` cancels a running coroutine job even
with ``wait=True``, so we track the cycle task ourselves and let it reach a checkpoint before shutting the
scheduler down; and a job can fire twice around a DST change, so the daemon never runs two cycles for the
same cycle date. SIGTERM: stop at the next checkpoint within the configured timeout, then exit 0.

When the cycle lock is held elsewhere (a ``plan``, a ``run --once``, another daemon sharing the store) the
daemon waits as a standby and tries again rather than skip the day: with a daily cron the next fire is
tomorrow. Once it has the lock it runs the date's cycle unless another process completed it already; a
leader that died or hangs loses its lease and a standby takes the date over ([ha], store.control).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ..bootstrap import App, build_app, utc_now
from ..cycle import Cycle
from ..cycle.run import LOCK_TTL, AlreadyRan
from ..domain import RunMode, local_date
from ..errors import LockBusy, LockLost, StoreError, TeamsRetentionError
from ..graph import MsGraphGateway
from ..settings import Settings
from ..settings.schedule import build_trigger
from ..web import HealthServer
from .progress import ProgressView, new_progress

log = structlog.get_logger(__name__)

# A cycle that missed its time by less than this (the host slept, the daemon restarted) still runs.
MISFIRE_GRACE_SECONDS = 3600
# While another process holds the cycle lock, or the store does not answer: try again this often ([ha]
# standby_retry_seconds), for at most LOCK_TTL (a holder that died loses its lease long before; one that still
# holds it then runs a long cycle, and a later fire tries again).
LOCK_RETRY_SECONDS = 60
LOCK_RETRIES = int(LOCK_TTL.total_seconds() // LOCK_RETRY_SECONDS)

Wait = Callable[[asyncio.Event, float], Awaitable[None]]


async def wait_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less: a SIGTERM (``stop``) ends the wait at once."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


@dataclass
class Role:
    """Leader (running the cycle) or standby (another process holds the cycle lock): each change is logged once,
    so an operator following several daemons' logs sees which one runs the cycle and which ones wait."""

    now: str = "starting"

    def become(self, role: str, **detail: object) -> None:
        if role != self.now:
            self.now = role
            log.info(f"daemon.{role}", **detail)


def _leading(role: Role, at: dt.datetime, holder: str) -> None:
    role.become("leader", holder=holder, scheduled_at=at.isoformat())


async def run_day_cycle(make_cycle: Callable[[], Cycle], *, mode: RunMode, at: dt.datetime, stop: asyncio.Event,
                        wait: Wait = wait_unless_stopped, retry_seconds: float = LOCK_RETRY_SECONDS,
                        role: Role | None = None) -> bool:
    """The cycle for ``at``'s date, waiting its turn while another process holds the cycle lock. Every
    attempt stands for the scheduled moment ``at``, so a cycle that had to wait is still that day's cycle. A
    cycle of that date completed by another process sharing the store (a daemon on another host) is not
    run again. A store that does not answer (a database restart) is tried again the same way.

    False when no cycle ran because the lock stayed busy (or SIGTERM came while waiting): a later fire
    may try this date again. True otherwise, also when the cycle failed (logged here, never raised).
    ``wait`` is the pause between attempts (tests pass one that does not sleep)."""
    role = role or Role()
    waits, max_waits = 0, max(1, int(LOCK_TTL.total_seconds() // retry_seconds))
    while True:
        try:
            report = await make_cycle().run(mode=mode, at=at, once_per_date=True, on_lease=functools.partial(
                _leading, role, at))
            log.info("daemon.cycle_done", exit_code=report.exit_code, status=report.status.value)
            role.become("idle", reason="cycle finished, lock released")
            return True
        except AlreadyRan as exc:
            done = exc.run
            log.info("daemon.cycle_already_ran", cycle_date=done.cycle_date.isoformat(), run_id=done.id,
                     status=done.status.value, ran_by=done.holder or "unknown",
                     reason=f"{exc}: this date's cycle already ran on this store (ran_by names the process); not "
                            "running it again. To run it once more on purpose: `teamsretention run --once`")
            role.become("idle", reason="this date's cycle ran elsewhere")
            return True
        except LockLost as exc:  # this cycle was running and another took over: retrying cannot help
            log.error("daemon.cycle_failed", error=str(exc))
            role.become("standby", reason="lost the cycle lock to another process")
            return True
        except (LockBusy, StoreError) as exc:
            busy = isinstance(exc, LockBusy)
            if busy:
                role.become("standby", reason=str(exc))
            else:
                log.error("daemon.cycle_failed", error=str(exc), retry_in_seconds=retry_seconds)
            if waits == max_waits:
                log.warning("daemon.cycle_skipped", reason=str(exc), waited_seconds=waits * retry_seconds)
                return False
            waits += 1
            log.info("daemon.cycle_waiting", reason=str(exc) if busy else "the state store did not answer",
                     retry_in_seconds=retry_seconds, wait=waits, max_waits=max_waits, scheduled_at=at.isoformat())
            await wait(stop, retry_seconds)
            if stop.is_set():
                log.info("daemon.cycle_not_started", reason="stopping while waiting for the cycle lock")
                return False
        except TeamsRetentionError as exc:
            log.error("daemon.cycle_failed", error=str(exc))
            return True


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


def start_web(settings: Settings, app: App) -> HealthServer | None:
    """The health and metrics endpoint when ``[web] enabled``; a port that cannot be had is a ConfigError."""
    web = settings.web
    if not web.enabled:
        return None
    sources = {key: settings.source_of(f"web.{key}") or "default" for key in ("host", "port")}
    origin = f"web.host from {sources['host']}, web.port from {sources['port']}"
    # Graph traffic is this process's own: only the production gateway counts it
    traffic = app.gateway.traffic if isinstance(app.gateway, MsGraphGateway) else None
    return HealthServer(app.db, host=web.host, port=web.port, clock=utc_now, traffic=traffic, origin=origin).start()


async def run_daemon(settings: Settings, *, now: bool = False) -> int:
    """``now``: the first cycle at start (``run --now``), then on the schedule."""
    app = build_app(settings)
    try:
        server = start_web(settings, app)
    except BaseException:
        await app.aclose()
        raise
    try:
        return await _run_scheduled(settings, app, now=now)
    finally:
        if server is not None:
            server.stop()
        await app.aclose()


async def _run_scheduled(settings: Settings, app: App, *, now: bool) -> int:
    tz = settings.schedule.timezone
    mode = RunMode.ENFORCE if settings.policy.enforce else RunMode.DRY_RUN
    stop = asyncio.Event()
    state, role = _DaemonState(), Role()
    progress = new_progress(app)  # a `cycle.progress` line every [logging] progress_interval_seconds

    async def cycle_job() -> None:
        moment = utc_now()
        day = local_date(moment, tz)
        if state.last_date == day:  # DST: the same wall-clock time can come twice
            log.info("daemon.skip_same_date", cycle_date=day.isoformat())
            return
        state.last_date = day
        state.task = asyncio.current_task()  # shutdown lets it reach a checkpoint (or end its wait)
        try:
            if not await run_day_cycle(lambda: app.cycle(stop=stop, progress=progress), mode=mode, at=moment,
                                       stop=stop, retry_seconds=settings.ha.standby_retry_seconds, role=role):
                state.last_date = None  # the lock stayed busy: a later fire may try this date again
        finally:
            state.task = None

    scheduler = AsyncIOScheduler(timezone=ZoneInfo(tz), job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS})
    # --now: the cron job's first fire is at start; the next ones follow the schedule
    first = {"next_run_time": dt.datetime.now(ZoneInfo(tz))} if now else {}
    scheduler.add_job(cycle_job, build_trigger(settings.schedule.cron, tz), id="cycle", **first)
    with stop_on_signals(stop):
        view = ProgressView(progress, live=False, interval=settings.logging.progress_interval_seconds).start()
        scheduler.start()
        job = scheduler.get_job("cycle")
        log.info("daemon.started", store=app.db.location, cron=settings.schedule.cron, timezone=tz, mode=mode.value,
                 next_run=str(job.next_run_time) if job else None, lease_seconds=settings.ha.lease_seconds,
                 standby_retry_seconds=settings.ha.standby_retry_seconds)
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
        await view.stop()
    return 0
