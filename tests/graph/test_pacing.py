"""Resource-unit pacing against the simulator's throttling model, on one fake clock for both: concurrent
requests stay inside the budget in every 60-second window, Retry-After and RateLimit-* slow the client, a 429
inside a $batch pauses it and the read is sent again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from graph_fakes import USER_AGENT, FakeClock

from teamsretention.domain import RecordingRef
from teamsretention.errors import GraphError
from teamsretention.graph import MsGraphGateway, ThrottleGate, build_gateway
from teamsretention.graph.credentials import NoCredential
from teamsretention.ports import ItemState
from teamsretention.simulator import TenantModel, create_app, example_path, load_scenario

pytestmark = pytest.mark.anyio


class Sim:
    """The simulated tenant behind a gateway; ``arrivals`` holds (fake time, path) of every HTTP request."""

    def __init__(self, clock: FakeClock, *, sim_budget: int, client_budget: int, concurrency: int = 8) -> None:
        import datetime as dt

        self.model: TenantModel = load_scenario(example_path(), epoch=dt.datetime(2025, 3, 3, 5, tzinfo=dt.UTC))
        self.model.knobs.update({"ru_per_minute": sim_budget})
        app = create_app(self.model, ru_clock=clock)
        self.arrivals: list[tuple[float, str]] = []

        async def recording(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
            if scope["type"] == "http" and scope["path"].startswith("/v1.0"):
                self.arrivals.append((clock.now, scope["path"]))
            await app(scope, receive, send)

        self.gate = ThrottleGate(concurrency, ru_budget_per_minute=client_budget, clock=clock, sleep=clock.sleep)
        self.gateway: MsGraphGateway = build_gateway(
            "http://127.0.0.1/v1.0", NoCredential(), user_agent=USER_AGENT, max_concurrency=concurrency,
            http_client=httpx.AsyncClient(transport=httpx.ASGITransport(app=recording)), gate=self.gate)

    def ref(self, key: str) -> RecordingRef:
        item = self.model.find_item(key)
        return RecordingRef(item.drive_id, item.id)

    def statuses(self) -> dict[int, int]:
        return dict(self.model.requests.by_status)


def most_in_any_window(times: list[float], seconds: float = 60.0) -> int:
    """The largest number of 1-RU requests that arrived within any ``seconds``-long window."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + seconds) for i, start in enumerate(times))


async def reread_many(sim: Sim, n: int) -> list[object]:
    ref = sim.ref("anna-contract")
    return await asyncio.gather(*(sim.gateway.reread_item(ref.drive_id, ref.item_id) for _ in range(n)),
                                return_exceptions=True)


async def test_concurrent_reads_never_exceed_the_budget_in_any_minute_and_none_is_throttled(clock: FakeClock) -> None:
    sim = Sim(clock, sim_budget=40, client_budget=40)
    start = clock.now
    results = await reread_many(sim, 150)
    traffic = sim.gateway.traffic()
    await sim.gateway.aclose()

    assert all(isinstance(r, ItemState) for r in results)
    assert sim.statuses() == {200: 150}  # Graph throttled nothing
    assert most_in_any_window([t for t, _ in sim.arrivals]) <= 40
    # ... and the budget is used: 150 RU at 40 RU/min is a little over 3 minutes, the first 40 at once
    assert 165 <= clock.now - start <= 200
    assert traffic.throttle_waits == 0
    assert traffic.pacing_wait_seconds == pytest.approx(clock.now - start, abs=1)
    assert traffic.resource_units == 150


async def test_without_pacing_the_same_reads_trip_the_budget_and_wait_on_retry_after(clock: FakeClock) -> None:
    sim = Sim(clock, sim_budget=40, client_budget=0)
    await reread_many(sim, 150)
    traffic = sim.gateway.traffic()
    await sim.gateway.aclose()

    assert sim.statuses().get(429, 0) > 0
    assert traffic.throttle_waits > 0 and traffic.pacing_wait_seconds == 0
    # every pause closed the gate for every request until the minute ended: none was sent meanwhile
    assert all(0 < p <= 60 for p in sim.gate.pauses)


async def test_the_estimate_matches_what_graph_bills_for_a_first_cycles_requests(clock: FakeClock) -> None:
    sim = Sim(clock, sim_budget=10_000, client_budget=10_000)
    async for _ in sim.gateway.users_delta(None):  # full enumeration: 2 RU a page
        pass
    anna = sim.ref("anna-contract")
    async for _ in sim.gateway.drive_delta(anna.drive_id, None):
        pass
    await sim.gateway.reread_item(anna.drive_id, anna.item_id)  # 1 RU
    keys = ["anna-weekly", "anna-vendor", "anna-contract", "bob-demo"]
    await sim.gateway.get_items_with_labels([sim.ref(k) for k in keys])  # a $batch: 1 RU per request in it
    bob = sim.model.find_item("bob-demo")
    await sim.gateway.delete_item(bob.drive_id, bob.id, None, True)  # 2 RU
    traffic = sim.gateway.traffic()
    await sim.gateway.aclose()

    assert traffic.resource_units == sim.model.requests.total_ru > 0


async def test_rate_limit_limit_below_the_configured_budget_becomes_the_budget(clock: FakeClock) -> None:
    """The simulator allows 10 RU a minute, the client was configured with 100: the RateLimit-Limit Graph sends
    once 80% is used brings the pacer down to Graph's figure before any request is refused."""
    sim = Sim(clock, sim_budget=10, client_budget=100, concurrency=4)
    results = await reread_many(sim, 40)
    await sim.gateway.aclose()

    assert all(isinstance(r, ItemState) for r in results)
    assert sim.gate.pacer is not None and sim.gate.pacer.budget == 10
    assert sim.statuses() == {200: 40}
    assert most_in_any_window([t for t, _ in sim.arrivals]) <= 10


async def test_a_429_closes_the_gate_for_every_request_while_pacing(clock: FakeClock) -> None:
    """Task A is throttled with Retry-After 7 s; task B, queued meanwhile with budget to spare, waits for the
    same gate; the pause counts as throttling, not as pacing."""
    sent: list[tuple[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        who = request.url.path.rsplit("/", 1)[-1]
        sent.append((who, clock.now))
        if who == "a" and len([s for s in sent if s[0] == "a"]) == 1:
            return httpx.Response(429, headers={"Retry-After": "7"},
                                  json={"error": {"code": "TooManyRequests", "message": "Please retry again later."}})
        return httpx.Response(200, json={"id": who, "userPrincipalName": f"{who}@contoso.com"})

    gate = ThrottleGate(4, ru_budget_per_minute=1200, clock=clock, sleep=clock.sleep)
    gateway = build_gateway("http://127.0.0.1/v1.0", NoCredential(), user_agent=USER_AGENT, max_concurrency=4,
                            http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer)), gate=gate)

    async def b_after_a() -> object:
        while not sent:
            await asyncio.sleep(0)
        return await gateway.get_user("b")

    await asyncio.gather(gateway.get_user("a"), b_after_a())
    traffic = gateway.traffic()
    await gateway.aclose()

    assert sent == [("a", 1000.0), ("a", 1007.0), ("b", 1007.0)] or sent == [("a", 1000.0), ("b", 1007.0),
                                                                            ("a", 1007.0)]
    assert traffic.throttle_waits == 1 and traffic.throttle_wait_seconds == 7
    assert traffic.pacing_wait_seconds == 0


async def test_rate_limit_remaining_below_the_pacers_reckoning_holds_requests_until_the_reset(
        clock: FakeClock) -> None:
    """Another process of the same app spends from the same budget: Graph says 0 left for 20 s, this client
    thinks it has nearly all of it. The next request waits for Graph's reset, counted as pacing, not throttling."""
    sent: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)
        headers = {"RateLimit-Limit": "1200", "RateLimit-Remaining": "0", "RateLimit-Reset": "20"} if len(sent) == 1 \
            else {}
        return httpx.Response(200, headers=headers, json={"id": "u", "userPrincipalName": "u@contoso.com"})

    gate = ThrottleGate(4, ru_budget_per_minute=1200, clock=clock, sleep=clock.sleep)
    gateway = build_gateway("http://127.0.0.1/v1.0", NoCredential(), user_agent=USER_AGENT, max_concurrency=4,
                            http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer)), gate=gate)
    await gateway.get_user("a")
    await gateway.get_user("b")
    traffic = gateway.traffic()
    await gateway.aclose()

    assert sent[1] - sent[0] == pytest.approx(20)
    assert traffic.pacing_wait_seconds == pytest.approx(20) and traffic.throttle_waits == 0


@pytest.mark.parametrize("client_budget", [0, 15])
async def test_reads_throttled_inside_a_batch_pause_the_client_and_are_sent_again(
        clock: FakeClock, client_budget: int) -> None:
    """20 label reads in one $batch against a 15 RU/min budget: Graph serves 15 and answers the other 5 with
    429 inside the batch. Every read still ends with the item's state, after one client-wide pause."""
    sim = Sim(clock, sim_budget=15, client_budget=client_budget)
    keys = ["anna-weekly", "anna-vendor", "anna-contract", "bob-demo"]
    refs = [sim.ref(keys[n % 4]) for n in range(4)]
    # 20 distinct reads: the same items asked for by several refs would be deduplicated
    wanted = [RecordingRef(r.drive_id, r.item_id) for r in refs]
    extra = [RecordingRef(refs[0].drive_id, f"01NOSUCH{n:02d}") for n in range(16)]
    start = clock.now
    read = await sim.gateway.get_items_with_labels(wanted + extra)
    await sim.gateway.aclose()

    assert all(isinstance(read[r], ItemState) for r in wanted)
    assert all(read[r] is None for r in extra)  # gone (404), not an error: nothing failed for the throttling
    assert not any(isinstance(v, GraphError) for v in read.values())
    assert sim.statuses()[429] == 5
    assert clock.now - start >= 59  # the 5 went out again in the next minute


async def test_metrics_show_pacing_waits_apart_from_throttling_waits(clock: FakeClock, tmp_path: Any) -> None:
    from prometheus_client.exposition import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from teamsretention.store import Database
    from teamsretention.web.metrics import metrics_registry

    sim = Sim(clock, sim_budget=40, client_budget=40)
    await reread_many(sim, 60)
    traffic = sim.gateway.traffic()
    await sim.gateway.aclose()
    db = Database(f"sqlite:///{tmp_path}/state.db")
    try:
        text = generate_latest(metrics_registry(db, lambda: traffic)).decode()
    finally:
        db.dispose()
    samples = {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}

    assert samples["teamsretention_graph_pacing_wait_seconds_total"] == pytest.approx(traffic.pacing_wait_seconds)
    assert samples["teamsretention_graph_pacing_wait_seconds_total"] >= 59  # 60 RU at 40 RU/min
    assert samples["teamsretention_graph_throttle_wait_seconds_total"] == 0
    assert samples["teamsretention_graph_resource_units_estimated_total"] == 60


@pytest.mark.parametrize("where", ["inner", "outer", "none"])
async def test_rate_limit_headers_of_a_batch_slow_the_client_wherever_graph_puts_them(
        clock: FakeClock, where: str) -> None:
    """Graph documents RateLimit-* on answers, not whether the answers inside a $batch carry them: on the outer
    answer or on an inner one (the one with the least left), Graph's "0 left for 20 s" holds the next request
    until the reset; without them, nothing waits."""
    sent: list[tuple[float, str]] = []
    low = {"RateLimit-Limit": "1200", "RateLimit-Remaining": "0", "RateLimit-Reset": "20"}

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((clock.now, request.url.path))
        if request.url.path.endswith("$batch"):
            inner = [{"id": r["id"], "status": 404, "headers": {}, "body": {"error": {"code": "itemNotFound"}}}
                     for r in json.loads(request.content)["requests"]]
            if where == "inner":
                inner[0]["headers"] = {"ratelimit-limit": "1200", "ratelimit-remaining": "300",
                                       "ratelimit-reset": "50"}
                inner[-1]["headers"] = {k.lower(): v for k, v in low.items()}
            return httpx.Response(200, headers=low if where == "outer" else {}, json={"responses": inner})
        return httpx.Response(200, json={"id": "u", "userPrincipalName": "u@contoso.com"})

    gate = ThrottleGate(4, ru_budget_per_minute=1200, clock=clock, sleep=clock.sleep)
    gateway = build_gateway("http://127.0.0.1/v1.0", NoCredential(), user_agent=USER_AGENT, max_concurrency=4,
                            http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer)), gate=gate)
    gone = await gateway.get_items_with_labels([RecordingRef("d", f"i{n}") for n in range(3)])
    await gateway.get_user("a")
    traffic = gateway.traffic()
    await gateway.aclose()

    assert all(v is None for v in gone.values())
    assert [path.rsplit("/", 1)[-1] for _, path in sent] == ["$batch", "a"]
    waited = 0 if where == "none" else 20
    assert sent[1][0] - sent[0][0] == pytest.approx(waited)
    assert traffic.pacing_wait_seconds == pytest.approx(waited) and traffic.throttle_waits == 0
