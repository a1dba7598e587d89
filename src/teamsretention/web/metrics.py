"""``/metrics``: Prometheus metrics read from the state store at each scrape (a custom collector; nothing
is kept in a global registry).

Cycle figures come from the run records, whose ``stats`` are each cycle's ``CycleReport.summary()``: so
they are the same numbers the cycle reported, whichever process ran it (the daemon, ``run --once``). The
``*_total`` counters sum every finished cycle the store remembers; the ``last_cycle_*`` gauges are the
latest finished cycle's. Graph traffic (requests by status, throttling waits) is this process's own: only
the daemon's gateway sees it, so it is exposed when the server is handed a source for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from ..domain import RunStatus
from ..ports import GraphTraffic
from ..store import health
from ..store.database import Database

PREFIX = "teamsretention"
def _ts(moment: dt.datetime | None) -> float:
    return moment.timestamp() if moment else 0.0


class StoreCollector(Collector):
    def __init__(self, db: Database, traffic: Callable[[], GraphTraffic] | None = None) -> None:
        self.db = db
        self.traffic = traffic

    def collect(self) -> Iterator[Metric]:
        snap = health.snapshot(self.db)  # a StoreError fails the scrape; the server answers 503 with its line
        cycles = CounterMetricFamily(f"{PREFIX}_cycles", "Finished cycles (not plans) by outcome.",
                                     labels=["outcome"])
        for status in RunStatus:
            if status is not RunStatus.RUNNING:
                cycles.add_metric([status.value], snap.cycles.get(status.value, 0))
        yield cycles
        for key, name, text in (
                ("warned", "warnings", "Recordings warned about in the digests of finished cycles."),
                ("digests_sent", "digests_sent", "Digests sent by finished cycles."),
                ("send_failures", "digest_send_failures", "Digests that could not be sent."),
                ("deleted", "deletions", "Recordings deleted by finished cycles."),
                ("blocked", "deletions_blocked", "Deletions Microsoft 365 refused (locked, on hold).")):
            yield CounterMetricFamily(f"{PREFIX}_{name}", text, value=snap.totals.get(key, 0))
        last = snap.last_finished
        stats = last.stats if last else {}
        for key, name, text in (
                ("warned", "warnings", "Recordings the last finished cycle warned about."),
                ("digests_sent", "digests_sent", "Digests the last finished cycle sent."),
                ("deleted", "deletions", "Recordings the last finished cycle deleted."),
                ("blocked", "deletions_blocked", "Deletions refused in the last finished cycle."),
                ("tracked", "tracked", "Recordings governed by the last finished cycle."),
                ("exit_code", "exit_code", "The last finished cycle's exit code (0 ok, 1 incomplete, 3 safety stop).")):
            value = stats.get(key)
            yield GaugeMetricFamily(f"{PREFIX}_last_cycle_{name}", text, value=value if isinstance(value, int) else 0)
        duration = last.duration_seconds if last else None
        yield GaugeMetricFamily(f"{PREFIX}_last_cycle_duration_seconds", "How long the last finished cycle took.",
                                value=duration or 0.0)
        yield GaugeMetricFamily(f"{PREFIX}_last_success_timestamp_seconds",
                                "When the last cycle that ended ok finished (Unix time; 0: never).",
                                value=_ts(snap.last_ok.finished_at if snap.last_ok else None))
        running = snap.latest is not None and snap.latest.status is RunStatus.RUNNING
        yield GaugeMetricFamily(f"{PREFIX}_cycle_running", "1 while a cycle is running.", value=int(running))
        yield GaugeMetricFamily(f"{PREFIX}_deletions_paused", "1 while deletions are paused (teamsretention pause).",
                                value=int(snap.paused))
        recordings = GaugeMetricFamily(f"{PREFIX}_recordings", "Recordings in the store by state and the rule of "
                                       "their last decision (none: not decided yet).", labels=["state", "rule"])
        for (state, rule), n in sorted(snap.recordings.items()):
            recordings.add_metric([state, rule], n)
        yield recordings
        if self.traffic is not None:
            yield from _traffic_metrics(self.traffic())


def _traffic_metrics(traffic: GraphTraffic) -> Iterator[Metric]:
    requests = CounterMetricFamily(f"{PREFIX}_graph_requests", "Graph requests this process sent, by method and "
                                   "answer status (every attempt, retries included).", labels=["method", "status"])
    for (method, status), n in sorted(traffic.requests.items()):
        requests.add_metric([method, str(status)], n)
    yield requests
    yield CounterMetricFamily(f"{PREFIX}_graph_throttle_waits", "Client-wide pauses after a 429 or 503 answer.",
                              value=traffic.throttle_waits)
    yield CounterMetricFamily(f"{PREFIX}_graph_throttle_wait_seconds", "Seconds the client paused for throttling.",
                              value=traffic.throttle_wait_seconds)
    yield CounterMetricFamily(f"{PREFIX}_graph_resource_units_estimated", "Resource units the requests cost, "
                              "estimated (1 per single read, 2 per delta, list or write; a $batch its requests).",
                              value=traffic.resource_units)
    yield CounterMetricFamily(f"{PREFIX}_graph_pacing_wait_seconds", "Seconds requests waited for the resource-unit "
                              "budget (graph.ru_budget_per_minute), apart from throttling pauses.",
                              value=traffic.pacing_wait_seconds)


def metrics_registry(db: Database, traffic: Callable[[], GraphTraffic] | None = None) -> CollectorRegistry:
    """A registry of its own (never the library's global one) holding the store collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(db, traffic))
    return registry
