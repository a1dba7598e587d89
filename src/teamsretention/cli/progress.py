"""How a running cycle shows its progress, and how ``run --once`` and ``plan`` stop when asked.

On a terminal (stderr is a TTY) ``run --once`` and ``plan`` show a live display: a bar of drives done of
total, and the counters on a second line; it is cleared before the summary prints. ``--quiet`` hides it. Off a
terminal (the daemon, CI, a pipe) a ``cycle.progress`` log line with the same fields comes every
``[logging] progress_interval_seconds`` (0: none).

The first Ctrl-C (SIGINT) or SIGTERM asks the cycle to stop at its next checkpoint (between drives, batches,
digests and deletions); the summary then says "interrupted" and the command exits 1. A second one stops at
once: that is safe because the intent of every action is recorded before the action (a digest is recorded as
intended before it is sent and is never sent twice for a date; a deletion is recorded as attempted before the
request, and the next cycle settles what became of it).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

import structlog
import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from ..bootstrap import App
from ..cycle import CycleReport
from ..cycle.progress import CycleProgress, ProgressSnapshot
from ..errors import TeamsRetentionError
from ..graph import MsGraphGateway

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 0.2  # how often the live display is redrawn
STOPPING = "stopping at the next checkpoint (Ctrl-C again to stop at once)"
STOPPING_NOW = "stopping at once"
AT_ONCE = ("stopped at once ({why}), not at a checkpoint: every action under way had its intent recorded first; "
           "the next cycle settles it (a digest whose sending was cut short is not sent again)")


def new_progress(app: App) -> CycleProgress:
    """A progress for ``app``'s cycles, with its Graph traffic (only the production gateway counts it)."""
    gateway = app.gateway
    return CycleProgress(traffic=gateway.traffic if isinstance(gateway, MsGraphGateway) else None)


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def progress_lines(s: ProgressSnapshot) -> tuple[str, str]:
    """The two lines of the live display (after the bar, on the first): where the cycle is, and its counters."""
    if s.eta_seconds is not None:
        left = f", about {duration(s.eta_seconds)} left"
    else:
        left = ", estimating the time left" if s.estimating else ""
    first = f"drives {s.drives_done}/{s.drives_total} · {s.phase} · {duration(s.elapsed_seconds)} elapsed{left}"
    waits = f", {s.throttle_wait_seconds:.0f} s throttled"
    if s.pacing_wait_seconds:
        waits += f", {s.pacing_wait_seconds:.0f} s paced"
    second = (f"recordings {s.recordings_found} found, {s.recordings_evaluated}/{s.recordings_tracked} evaluated"
              f" · {s.digests_sent} digests sent ({s.recordings_warned} recordings warned) · {s.deletions} deleted"
              f" · Graph {s.graph_requests} requests, ~{s.resource_units:.0f} RU{waits}")
    return first, second


def render(s: ProgressSnapshot) -> RenderableType:
    first, second = progress_lines(s)
    row = Table.grid(padding=(0, 1))
    row.add_row(ProgressBar(total=max(s.drives_total, 1), completed=s.drives_done, width=30), Text(first))
    return Group(row, Text(second))


class ProgressView:
    """Shows ``progress`` while a cycle runs: live on a terminal (``live``), or as a ``cycle.progress`` log line
    every ``interval`` seconds (0: none). An async context manager; :meth:`tick` does one round (tests call it
    with a fake clock)."""

    def __init__(self, progress: CycleProgress, *, live: bool, interval: float,
                 clock: Callable[[], float] = time.monotonic, console: Console | None = None) -> None:
        self.progress, self.interval, self.clock = progress, interval, clock
        self._live = Live(console=console or Console(stderr=True), transient=True, auto_refresh=False,
                          redirect_stdout=False) if live else None
        self._last_log = clock()
        self._seen: CycleReport | None = None  # the cycle the interval is counted for
        self._task: asyncio.Task[None] | None = None

    def tick(self) -> None:
        if not self.progress.active:
            return
        if self.progress.report is not self._seen:  # a cycle began: its first line after one interval
            self._seen, self._last_log = self.progress.report, self.clock()
        if self._live is not None:
            self._live.update(render(self.progress.snapshot()), refresh=True)
        elif self.interval and self.clock() - self._last_log >= self.interval:
            self._last_log = self.clock()
            log.info("cycle.progress", **self.progress.snapshot().fields())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS if self._live is not None else min(self.interval, 1.0))
            self.tick()

    def start(self) -> ProgressView:
        """Begin showing (on the running event loop)."""
        if self._live is not None:
            self._live.start()
        if self._live is not None or self.interval:
            self._task = asyncio.ensure_future(self._loop())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._live is not None:
            self._live.stop()  # transient: the display is cleared before the summary prints

    async def __aenter__(self) -> ProgressView:
        return self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()


def show_progress(progress: CycleProgress, interval: float, *, quiet: bool) -> ProgressView:
    """For ``run --once`` and ``plan``: live on a terminal unless ``--quiet``, log lines otherwise. A terminal
    that cannot move its cursor (``TERM=dumb``) gets the log lines instead: live frames would pile up there."""
    console = Console(stderr=True)
    live = sys.stderr.isatty() and not console.is_dumb_terminal and not quiet
    return ProgressView(progress, live=live, interval=interval, console=console)


async def run_interruptible(cycle: Callable[[], Awaitable[CycleReport]], stop: asyncio.Event,
                            progress: CycleProgress, timeout: float) -> CycleReport:
    """Run the cycle; the first SIGINT or SIGTERM sets ``stop`` (the cycle stops at its next checkpoint), a
    second one, or ``timeout`` seconds without reaching a checkpoint, stops it at once. Returns the report,
    interrupted, in every case the cycle had begun."""
    task = asyncio.ensure_future(cycle())
    why = ""

    def on_signal() -> None:
        nonlocal why
        if not stop.is_set():
            typer.echo(STOPPING, err=True)
            stop.set()
        elif not task.done() and not why:
            typer.echo(STOPPING_NOW, err=True)
            why = "a second interrupt"
            task.cancel()

    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
    try:
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not task.done():
            await asyncio.wait({task}, timeout=timeout)
        if not task.done() and not why:
            why = f"it did not reach a checkpoint within schedule.shutdown_timeout_seconds ({timeout:g} s)"
            task.cancel()
        try:
            return await task
        except asyncio.CancelledError:
            if not task.cancelled() or not why:
                raise
            report = progress.report
            if report is None:
                raise TeamsRetentionError(f"stopped ({why}) before the cycle began: nothing was done") from None
            report.add_problem(AT_ONCE.format(why=why))
            return report
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
