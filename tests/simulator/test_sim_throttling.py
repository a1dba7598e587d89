"""The throttling model (knob ru_per_minute): a per-minute resource-unit bucket answering 429 with Retry-After,
RateLimit-* headers from 80% of the budget, and each request inside a $batch charged and throttled on its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from teamsretention.simulator import TenantModel, create_app

from ._helpers import BASE

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def throttled(model: TenantModel, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    model.knobs.update({"ru_per_minute": 10})
    app = create_app(model, ru_clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


def _reread(model: TenantModel, key: str = "anna-contract") -> str:
    item = model.find_item(key)
    return f"/drives/{item.drive_id}/items/{item.id}?$expand=retentionLabel"


async def test_a_request_over_the_minutes_budget_gets_429_with_retry_after_until_the_next_minute(
        throttled: httpx.AsyncClient, model: TenantModel, clock: Clock) -> None:
    url = "/v1.0" + _reread(model)
    statuses = []
    for _ in range(10):  # 10 single reads of 1 RU: exactly the budget
        statuses.append((await throttled.get(url)).status_code)
        clock.now += 1
    assert statuses == [200] * 10

    refused = await throttled.get(url)  # 10 s into the minute
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "50"
    error = refused.json()["error"]
    assert error["code"] == "TooManyRequests"
    assert error["innerError"]["status"] == "429"
    assert refused.headers["RateLimit-Remaining"] == "0"

    clock.now += 50  # the next minute: a full bucket again
    assert (await throttled.get(url)).status_code == 200
    stats = (await throttled.get("/_simulator/throttle")).json()
    assert stats["ruPerMinute"] == 10
    assert stats["minutes"][0] == {"minute": 0, "acceptedRu": 10, "throttledRu": 1, "accepted": 10, "throttled": 1}
    assert stats["minutes"][1]["acceptedRu"] == 1


async def test_a_list_costs_two_and_does_not_fit_one_unit_left(
        throttled: httpx.AsyncClient, model: TenantModel) -> None:
    url = "/v1.0" + _reread(model)
    for _ in range(9):
        assert (await throttled.get(url)).status_code == 200
    assert (await throttled.get("/v1.0/users/delta")).status_code == 429  # 2 RU, 1 left
    assert (await throttled.get(url)).status_code == 429  # the refused request was charged too, as documented


async def test_rate_limit_headers_appear_once_80_percent_is_used(
        throttled: httpx.AsyncClient, model: TenantModel, clock: Clock) -> None:
    url = "/v1.0" + _reread(model)
    seen = []
    for _ in range(9):
        seen.append((await throttled.get(url)).headers.get("RateLimit-Remaining"))
    assert seen == [None] * 7 + ["2", "1"]  # from the 8th unit of 10 on
    clock.now += 15
    answer = await throttled.get(url)
    assert answer.headers["RateLimit-Limit"] == "10"
    assert answer.headers["RateLimit-Reset"] == "45"


async def test_requests_in_a_batch_are_charged_and_throttled_one_by_one(
        throttled: httpx.AsyncClient, model: TenantModel) -> None:
    requests = [{"id": str(n), "method": "GET", "url": _reread(model)} for n in range(1, 13)]
    answer = await throttled.post("/v1.0/$batch", json={"requests": requests})

    assert answer.status_code == 200  # the envelope costs nothing and is never throttled itself
    statuses = {r["id"]: r["status"] for r in answer.json()["responses"]}
    assert [statuses[str(n)] for n in range(1, 13)] == [200] * 10 + [429, 429]
    inner = {r["id"]: r for r in answer.json()["responses"]}["11"]
    assert inner["headers"]["Retry-After"] == "60"
    assert inner["body"]["error"]["code"] == "TooManyRequests"
    assert answer.headers["RateLimit-Remaining"] == "0"


async def test_a_delta_with_a_token_is_charged_one_unit(throttled: httpx.AsyncClient, model: TenantModel) -> None:
    first = await throttled.get("/v1.0/users/delta")
    while "@odata.nextLink" in first.json():
        first = await throttled.get(first.json()["@odata.nextLink"])
    used = (await throttled.get("/_simulator/throttle")).json()["minutes"][0]["acceptedRu"]
    await throttled.get(first.json()["@odata.deltaLink"])
    after = (await throttled.get("/_simulator/throttle")).json()["minutes"][0]["acceptedRu"]
    assert after - used == 1


async def test_off_by_default_and_switched_on_through_the_knobs(client: httpx.AsyncClient, model: TenantModel) -> None:
    url = "/v1.0" + _reread(model)
    for _ in range(30):
        answer = await client.get(url)
        assert answer.status_code == 200 and "RateLimit-Remaining" not in answer.headers
    assert (await client.get("/_simulator/knobs")).json()["ru_per_minute"] == 0
    assert (await client.post("/_simulator/knobs", json={"ru_per_minute": -1})).status_code == 400
    assert (await client.post("/_simulator/knobs", json={"ru_per_minute": 3})).status_code == 200
    assert [(await client.get(url)).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert (await client.delete("/_simulator/throttle")).status_code == 204
    assert (await client.get(url)).status_code == 200
