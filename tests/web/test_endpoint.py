"""The health and metrics endpoint as a monitoring system sees it: served on a real socket (port 0), next to
cycles run by the production code against the simulated tenant. /metrics must parse with prometheus-client's
own parser and carry the numbers the cycles reported; /readyz must say why it is not ready."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from teamsretention.cycle import Cycle
from teamsretention.cycle.run import LOCK_TTL
from teamsretention.domain import RunMode, RunStatus
from teamsretention.errors import SignInError
from teamsretention.notify.render import render_digest
from teamsretention.store import Database, control, recordings, runs
from teamsretention.store.audit import AuditEvent, AuditKind
from teamsretention.web import HealthServer

from ..cycle.simworld import SimWorld, no_retry_delay
from ..cycle.test_cycle import at

SCENARIO = """
[[recordings]]
key = "fresh"
organizer = "anna"
subject = "Weekly sync"
age_days = 5

[[recordings]]
key = "soon"
organizer = "bob"
subject = "Planning"
age_days = 23

[[recordings]]
key = "old"
organizer = "anna"
subject = "Retro"
age_days = 26
"""


class Clock:
    def __init__(self, moment: dt.datetime) -> None:
        self.now = moment

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def world(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimWorld]:
    no_retry_delay(monkeypatch)
    w = SimWorld(tmp_path, SCENARIO)
    yield w
    w.db.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(at(0))


@pytest.fixture
def endpoint(world: SimWorld, clock: Clock) -> Iterator[HealthServer]:
    with HealthServer(world.db, host="127.0.0.1", port=0, clock=clock) as server:
        yield server


def scrape(server: HealthServer) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of /metrics: name -> labels -> value, as prometheus-client's parser reads them."""
    response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict[str, Any], name: str, **labels: str) -> float:
    return float(samples[name][tuple(sorted(labels.items()))])


def by_state_and_rule(samples: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(dict(k)["state"], dict(k)["rule"]): int(v) for k, v in samples["teamsretention_recordings"].items()}


def per_rule(samples: dict[str, Any]) -> Counter[str]:
    rules: Counter[str] = Counter()
    for (_state, rule), n in by_state_and_rule(samples).items():
        rules[rule] += n
    return rules


def store_counts(world: SimWorld) -> Counter[tuple[str, str]]:
    return Counter((r.state.value, r.rule or "none") for r in recordings.list_all(world.db))


def test_metrics_carry_the_numbers_of_the_cycles_that_produced_them(world: SimWorld, endpoint: HealthServer,
                                                                   clock: Clock) -> None:
    before = scrape(endpoint)
    assert value(before, "teamsretention_cycles_total", outcome="ok") == 0
    assert value(before, "teamsretention_last_success_timestamp_seconds") == 0
    assert before.get("teamsretention_recordings", {}) == {}  # an empty store: no recordings yet

    warned = world.cycle(0)
    after_warning = scrape(endpoint)
    assert warned.warned == 2 and warned.digests_sent == 2
    assert value(after_warning, "teamsretention_warnings_total") == warned.warned
    assert value(after_warning, "teamsretention_digests_sent_total") == warned.digests_sent
    assert value(after_warning, "teamsretention_last_cycle_warnings") == warned.warned
    assert value(after_warning, "teamsretention_deletions_total") == 0
    assert by_state_and_rule(after_warning) == store_counts(world) == {
        ("tracked", "base_due"): 1, ("tracked", "notice_floor"): 1, ("tracked", "young"): 1}
    assert per_rule(after_warning) == warned.rules

    clock.now = at(8)
    reminded = world.cycle(7)  # the last warning, the day before they are due
    deleted = world.cycle(8)
    samples = scrape(endpoint)
    assert deleted.deleted == 2 and deleted.warned == 0
    assert value(samples, "teamsretention_cycles_total", outcome="ok") == 3
    assert value(samples, "teamsretention_cycles_total", outcome="failed") == 0
    assert value(samples, "teamsretention_deletions_total") == deleted.deleted
    assert value(samples, "teamsretention_last_cycle_deletions") == deleted.deleted
    assert value(samples, "teamsretention_deletions_blocked_total") == deleted.blocked == 0
    assert value(samples, "teamsretention_warnings_total") == warned.warned + reminded.warned + deleted.warned
    assert value(samples, "teamsretention_last_cycle_warnings") == deleted.warned
    assert value(samples, "teamsretention_last_cycle_tracked") == deleted.tracked
    assert value(samples, "teamsretention_last_cycle_exit_code") == deleted.exit_code == 0
    # the two deleted recordings under the rule that deleted them, the young one still kept
    assert by_state_and_rule(samples) == store_counts(world) == {("deleted", "promised"): 2, ("tracked", "young"): 1}
    assert per_rule(samples) == deleted.rules
    [*_, last] = runs.list_all(world.db)
    assert value(samples, "teamsretention_last_success_timestamp_seconds") > at(8).timestamp() - 60
    assert last.status.value == "ok"
    assert value(samples, "teamsretention_deletions_paused") == 0
    assert value(samples, "teamsretention_cycle_running") == 0


def test_the_pause_switch_shows_at_the_next_scrape(world: SimWorld, endpoint: HealthServer) -> None:
    control.set_paused(world.db, True, reason="DPO review", by="dpo@contoso.example", now=at(0))
    assert value(scrape(endpoint), "teamsretention_deletions_paused") == 1
    control.set_paused(world.db, False, reason=None, by="dpo@contoso.example", now=at(0))
    assert value(scrape(endpoint), "teamsretention_deletions_paused") == 0


class SignInFails:
    """A gateway whose sign-in fails at the first Graph call, as with a revoked client secret."""

    def __getattr__(self, name: str) -> Any:
        def fail(*_a: Any, **_k: Any) -> Any:
            raise SignInError("sign-in to login.microsoftonline.com failed for tenant contoso: the client secret "
                              "has expired; create a new one")
        return fail

    async def aclose(self) -> None:
        pass


def failed_cycle(world: SimWorld, day: int) -> None:
    cycle = Cycle(world.db, SignInFails(), world.config, render_digest, clock=lambda: at(day))  # type: ignore[arg-type]
    with pytest.raises(SignInError):
        asyncio.run(cycle.run(mode=RunMode.ENFORCE, at=at(day)))


def test_ready_after_a_good_cycle_and_not_after_a_failed_one(world: SimWorld, endpoint: HealthServer,
                                                             clock: Clock) -> None:
    health = httpx.get(f"{endpoint.url}/healthz")
    assert health.status_code == 200 and "running" in health.text
    ready = httpx.get(f"{endpoint.url}/readyz")
    assert ready.status_code == 200 and "no cycle has finished yet" in ready.text

    world.cycle(0)
    ready = httpx.get(f"{endpoint.url}/readyz")
    assert ready.status_code == 200 and "ended ok" in ready.text

    clock.now = at(1)
    failed_cycle(world, 1)
    ready = httpx.get(f"{endpoint.url}/readyz")
    assert ready.status_code == 503
    [line] = ready.text.splitlines()
    assert "failed" in line and "client secret has expired" in line and str(world.db.location) in line
    assert "Traceback" not in ready.text
    samples = scrape(endpoint)
    assert value(samples, "teamsretention_cycles_total", outcome="failed") == 1
    assert value(samples, "teamsretention_cycles_total", outcome="ok") == 1

    clock.now = at(2)
    world.cycle(2)  # the next good cycle makes it ready again
    assert httpx.get(f"{endpoint.url}/readyz").status_code == 200


def test_a_cycle_whose_lock_is_gone_is_stuck(world: SimWorld, endpoint: HealthServer, clock: Clock) -> None:
    runs.start(world.db, mode=RunMode.ENFORCE, at=at(0), cycle_date=at(0).date(), started_at=at(0), config={})
    assert control.acquire_lock(world.db, "daemon pid 1", at(0), LOCK_TTL)
    clock.now = at(0) + dt.timedelta(minutes=30)
    running = httpx.get(f"{endpoint.url}/readyz")
    assert running.status_code == 200  # running, lock held and refreshed: not stuck
    assert value(scrape(endpoint), "teamsretention_cycle_running") == 1

    clock.now = at(0) + LOCK_TTL + dt.timedelta(minutes=1)  # never refreshed: the process died or hangs
    stuck = httpx.get(f"{endpoint.url}/readyz")
    assert stuck.status_code == 503 and "is stuck" in stuck.text and "cycle lock is no longer held" in stuck.text


def test_an_unreachable_store_is_not_ready_and_metrics_say_why(world: SimWorld, endpoint: HealthServer,
                                                               tmp_path: Any) -> None:
    world.db.dispose()
    (tmp_path / "state.db").unlink()
    for extra in ("state.db-wal", "state.db-shm"):
        (tmp_path / extra).unlink(missing_ok=True)
    (tmp_path / "state.db").mkdir()  # what was the database file cannot be opened as one
    ready = httpx.get(f"{endpoint.url}/readyz")
    assert ready.status_code == 503
    [line] = ready.text.splitlines()
    assert "state.db" in line and "state store answers" in line
    metrics = httpx.get(f"{endpoint.url}/metrics")
    assert metrics.status_code == 503 and metrics.text.startswith("metrics unavailable:")
    assert "Traceback" not in metrics.text
    (tmp_path / "state.db").rmdir()


def test_only_the_three_paths_are_served(endpoint: HealthServer) -> None:
    response = httpx.get(f"{endpoint.url}/admin")
    assert response.status_code == 404 and "/healthz, /readyz and /metrics" in response.text


def test_graph_traffic_is_what_the_tenant_answered_throttling_included(world: SimWorld, clock: Clock) -> None:
    world.model.knobs.throttle_share = 0.2  # one answer in five is a 429 ...
    world.model.knobs.throttle_retry_after = 0  # ... whose Retry-After the fake clock need not wait for
    world.model.requests.reset()

    async def one_cycle() -> Any:
        gateway = world.gateway()
        try:
            await Cycle(world.db, gateway, world.config, render_digest, clock=clock).run(mode=RunMode.ENFORCE,
                                                                                          at=at(0))
            return gateway.traffic
        finally:
            await gateway.aclose()

    traffic = asyncio.run(one_cycle())
    with HealthServer(world.db, host="127.0.0.1", port=0, clock=clock, traffic=traffic) as server:
        samples = scrape(server)
    seen = world.model.requests
    by_status: Counter[int] = Counter()
    for labels, n in samples["teamsretention_graph_requests_total"].items():
        by_status[int(dict(labels)["status"])] += int(n)
    assert by_status == seen.by_status and seen.by_status[429] > 0
    assert value(samples, "teamsretention_graph_throttle_waits_total") == seen.by_status[429]
    assert value(samples, "teamsretention_graph_resource_units_estimated_total") >= seen.total_requests


@pytest.mark.postgres
def test_metrics_and_readiness_read_a_postgresql_store_the_same_way(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        for day, status, stats in ((0, RunStatus.OK, {"warned": 2, "deleted": 0, "digests_sent": 2}),
                                   (1, RunStatus.FAILED, {"warned": 0, "deleted": 3, "blocked": 1})):
            run_id = runs.start(db, mode=RunMode.ENFORCE, at=at(day), cycle_date=at(day).date(), started_at=at(day),
                                config={})
            runs.finish(db, run_id, finished_at=at(day) + dt.timedelta(minutes=5), status=status, exit_code=1,
                        stats=stats, message="cycle failed: SignInError: the client secret has expired",
                        event=AuditEvent(AuditKind.RUN_FINISHED, at=at(day)))
        with HealthServer(db, host="127.0.0.1", port=0, clock=lambda: at(2)) as server:
            samples = scrape(server)
            ready = httpx.get(f"{server.url}/readyz")
        assert value(samples, "teamsretention_warnings_total") == 2
        assert value(samples, "teamsretention_deletions_total") == 3
        assert value(samples, "teamsretention_deletions_blocked_total") == 1
        assert value(samples, "teamsretention_cycles_total", outcome="failed") == 1
        assert value(samples, "teamsretention_last_cycle_duration_seconds") == 300
        assert ready.status_code == 503 and "client secret has expired" in ready.text
    finally:
        db.dispose()
