"""graph.ru_budget_per_minute: the documented default, its check, and that it reaches the client's gate; the
cost estimate per request kind (what /metrics and the progress report call estimated resource units)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from teamsretention.errors import ConfigError
from teamsretention.graph import connect
from teamsretention.graph.throttle import request_units
from teamsretention.settings import load_settings

LOOPBACK = {"TEAMSRETENTION_GRAPH__AUTH": "none", "TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT": "http://127.0.0.1:8765"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home"), **LOOPBACK}


@pytest.mark.anyio
@pytest.mark.parametrize(("value", "paced_at"), [(None, 1200.0), ("4800", 4800.0), ("0", None)])
async def test_the_budget_reaches_the_gate_and_defaults_to_the_smallest_band(
        env: dict[str, str], value: str | None, paced_at: float | None) -> None:
    if value is not None:
        env["TEAMSRETENTION_GRAPH__RU_BUDGET_PER_MINUTE"] = value
    settings = load_settings(environ=env)
    gateway = connect(settings.graph_connection("1.0"))
    gate = gateway._gate  # noqa: SLF001 - what the daemon's requests go through
    await gateway.aclose()

    assert gate is not None
    assert (gate.pacer.budget if gate.pacer is not None else None) == paced_at


@pytest.mark.parametrize("value", ["-1", "30", "100000"])
def test_a_budget_outside_the_bands_is_refused_naming_the_key_and_the_bands(env: dict[str, str], value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={**env, "TEAMSRETENTION_GRAPH__RU_BUDGET_PER_MINUTE": value})
    message = str(info.value)
    assert message.startswith(f"graph.ru_budget_per_minute = {value} (from environment variable "
                              "TEAMSRETENTION_GRAPH__RU_BUDGET_PER_MINUTE")
    assert "0 (pacing off)" in message and "1200, 2400, 3600, 4800 and 6000" in message


def test_the_example_configuration_documents_the_budget_and_the_bands() -> None:
    example = (Path(__file__).parents[2] / "config" / "teamsretention.example.toml").read_text()
    assert "ru_budget_per_minute = 1200" in example
    assert all(band in example for band in ("1200", "2400", "3600", "4800", "6000"))


G = "https://graph.microsoft.com/v1.0"


@pytest.mark.parametrize(("method", "url", "units"), [
    ("GET", f"{G}/users/u1?$select=id,mail", 1),
    ("GET", f"{G}/users/u1/drive", 1),
    ("GET", f"{G}/drives/d/items/i?$expand=retentionLabel", 1),
    ("GET", f"{G}/drives/d/root/delta", 2),
    ("GET", f"{G}/drives/d/root/delta?token=abc", 2),  # a token may start a full enumeration: counted high
    ("GET", f"{G}/drives/d/root/delta(token='abc')", 2),
    ("GET", f"{G}/users/delta?$select=id", 2),
    ("GET", f"{G}/groups/g/transitiveMembers/microsoft.graph.user?$count=true", 2),
    ("GET", f"{G}/teams/t/channels?$select=id", 2),
    ("GET", f"{G}/sites/s/lists/l/items/7/versions", 2),
    ("GET", f"{G}/drives/d/items/i/permissions", 5),
    ("DELETE", f"{G}/drives/d/items/i", 2),
    ("POST", f"{G}/drives/d/items/i/permanentDelete", 2),
    ("POST", f"{G}/users/sender/sendMail", 2),
])
def test_each_request_kind_is_estimated_at_sharepoints_documented_cost(method: str, url: str, units: int) -> None:
    assert request_units(httpx.Request(method, url)) == units


def test_a_batch_costs_its_inner_requests_and_nothing_for_the_envelope() -> None:
    inner = [{"id": str(n), "method": "GET", "url": f"/drives/d/items/{n}?$expand=retentionLabel"} for n in range(20)]
    inner.append({"id": "21", "method": "DELETE", "url": "/drives/d/items/x"})
    batch = httpx.Request("POST", f"{G}/$batch", content=json.dumps({"requests": inner}).encode())
    assert request_units(batch) == 22
    unreadable = httpx.Request("POST", f"{G}/$batch", content=b"not json")
    assert request_units(unreadable) == 40  # as if it held 20 multi-item reads: never underestimated


@pytest.mark.anyio
async def test_unreadable_or_absurd_rate_limit_headers_never_stall_the_client() -> None:
    from graph_fakes import FakeClock

    from teamsretention.graph.pacing import RuPacer

    clock = FakeClock()
    pacer = RuPacer(100, clock=clock, sleep=clock.sleep)
    pacer.observe({"RateLimit-Remaining": "soon", "RateLimit-Reset": "5"})  # unreadable: ignored
    pacer.observe({"RateLimit-Limit": "0", "RateLimit-Remaining": "0", "RateLimit-Reset": "86400"})  # capped at 60 s
    assert pacer.budget == 100
    start = clock.now
    pacer.release(await pacer.acquire(1))
    assert clock.now - start == pytest.approx(60)  # Graph's 0 left, believed for at most one minute
    big = await pacer.acquire(250)  # more than the whole budget: sent alone, never refused for good
    assert clock.now - start == pytest.approx(120)
    pacer.release(big)
