"""How far a running cycle has come, for whoever watches it: the phase, drives done of total, recordings found,
evaluated, warned and deleted, the Graph traffic it caused, and an estimate of the time left.

The cycle moves it on at its existing checkpoints (the phase, the drive total, each drive done); the counts of
recordings, digests and deletions are read from the cycle's report, and the Graph figures from the gateway's
traffic since the cycle began. :meth:`CycleProgress.snapshot` is meant to be called on the event loop (the CLI
renders from a periodic task); its own state is guarded by a lock, so a render thread may read it too.

The estimate of the time left comes from the rate of the phase with a known amount of work: drives in the
inventory (which dominates a first cycle on a large tenant), recordings in the evaluation. Until enough of it is
done the estimate is None: "estimating".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..ports import GraphTraffic

if TYPE_CHECKING:
    from .outcome import CycleReport

PHASES = ("starting", "directory", "inventory", "evaluate", "warn", "digest", "delete", "evidence", "done")
# an estimate needs this much of a phase's work done, and this long spent on it (a few fast drives say little)
ESTIMATE_MIN_SHARE, ESTIMATE_SHARE_CAP = 0.05, 50  # 5% of the work, or 50 units of it when that is less
ESTIMATE_MIN_UNITS = 3
ESTIMATE_MIN_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    """One reading of a cycle's progress; ``fields()`` is what the ``cycle.progress`` log line carries."""

    phase: str
    drives_done: int
    drives_total: int
    recordings_found: int  # new recordings the inventory found this cycle (a first cycle: all of them)
    recordings_evaluated: int
    recordings_tracked: int
    digests_sent: int
    recordings_warned: int
    deletions: int
    graph_requests: int
    resource_units: float
    throttle_wait_seconds: float
    elapsed_seconds: float
    eta_seconds: float | None  # None: not enough done yet to estimate (or no phase with a known amount of work)
    pacing_wait_seconds: float = 0.0  # waiting for the resource-unit budget (graph.ru_budget_per_minute)

    @property
    def estimating(self) -> bool:
        return self.eta_seconds is None and self.phase in ("directory", "inventory", "evaluate")

    def fields(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("resource_units", "throttle_wait_seconds", "elapsed_seconds", "eta_seconds",
                    "pacing_wait_seconds"):
            if data[key] is not None:
                data[key] = round(data[key], 1)
        return data


class CycleProgress:
    """The progress of one cycle at a time (a daemon's next cycle calls :meth:`begin` again)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 traffic: Callable[[], GraphTraffic] | None = None) -> None:
        self.clock, self.traffic = clock, traffic
        self._lock = threading.Lock()
        self._report: CycleReport | None = None
        self._phase = "starting"
        self._started = self._phase_started = clock()
        self._drives_done = self._drives_total = 0
        self._baseline = GraphTraffic()

    # --- what the cycle calls ------------------------------------------------------------------------
    def begin(self, report: CycleReport) -> None:
        with self._lock:
            self._report, self._phase = report, "starting"
            self._started = self._phase_started = self.clock()
            self._drives_done = self._drives_total = 0
            self._baseline = self._read_traffic()

    def enter(self, phase: str) -> None:
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        with self._lock:
            if phase != self._phase:
                self._phase, self._phase_started = phase, self.clock()

    def add_drives(self, count: int) -> None:
        """``count`` more drives to read (the directory's, then any replacements for lost OneDrives)."""
        with self._lock:
            self._drives_total += count

    def drive_done(self) -> None:
        with self._lock:
            self._drives_done += 1

    # --- what a watcher reads ------------------------------------------------------------------------
    @property
    def report(self) -> CycleReport | None:
        """The report of the cycle under way (or of the last one)."""
        return self._report

    @property
    def active(self) -> bool:
        return self._report is not None and self._phase != "done"

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            now, phase, report = self.clock(), self._phase, self._report
            done, total, since = self._drives_done, self._drives_total, self._phase_started
            started, baseline = self._started, self._baseline
        traffic = self._read_traffic()
        evaluated = sum(report.actions.values()) if report else 0
        tracked = report.tracked if report else 0
        if phase == "inventory":
            eta = estimate(done, total, now - since)
        elif phase == "evaluate":
            eta = estimate(evaluated, tracked, now - since)
        else:
            eta = None
        return ProgressSnapshot(
            phase=phase, drives_done=done, drives_total=total,
            recordings_found=report.inventory.recordings_new if report else 0,
            recordings_evaluated=evaluated, recordings_tracked=tracked,
            digests_sent=report.digests_sent if report else 0, recordings_warned=report.warned if report else 0,
            deletions=report.deleted if report else 0,
            graph_requests=sum(traffic.requests.values()) - sum(baseline.requests.values()),
            resource_units=traffic.resource_units - baseline.resource_units,
            throttle_wait_seconds=traffic.throttle_wait_seconds - baseline.throttle_wait_seconds,
            elapsed_seconds=now - started, eta_seconds=eta,
            pacing_wait_seconds=traffic.pacing_wait_seconds - baseline.pacing_wait_seconds)

    def _read_traffic(self) -> GraphTraffic:
        return self.traffic() if self.traffic is not None else GraphTraffic()


def estimate(done: int, total: int, seconds: float) -> float | None:
    """Seconds left for ``total - done`` units at the rate ``done`` took ``seconds``; None until enough is done
    to say (a share of the work, a few units, a few seconds)."""
    if total <= 0 or done >= total:
        return 0.0 if total > 0 else None
    enough = max(ESTIMATE_MIN_UNITS, min(ESTIMATE_MIN_SHARE * total, ESTIMATE_SHARE_CAP))
    if done < enough or seconds < ESTIMATE_MIN_SECONDS:
        return None
    return seconds / done * (total - done)
