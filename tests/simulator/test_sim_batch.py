"""JSON batching: POST /v1.0/$batch answers each inner request as if it had been sent alone."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from teamsretention.simulator import TenantModel

pytestmark = pytest.mark.anyio
SAMPLES = Path("/work/shared/graph-samples")


def _reread(model: TenantModel, key: str) -> str:
    item = model.find_item(key)
    return f"/drives/{item.drive_id}/items/{item.id}?$expand=retentionLabel"


async def test_batch_answers_in_the_documented_shape_with_each_request_billed_on_its_own(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    sample = json.loads((SAMPLES / "json-batching.json").read_text())
    gone = model.find_item("anna-weekly")
    requests = [
        {"id": "1", "method": "GET", "url": _reread(model, "anna-contract")},
        {"id": "2", "method": "GET", "url": f"/drives/{gone.drive_id}/items/01NOSUCHITEM?$expand=retentionLabel"},
        {"id": "3", "method": "GET", "url": _reread(model, "anna-weekly").lstrip("/")},  # relative without '/' too
    ]
    before = model.requests.total_ru
    resp = await client.post("/v1.0/$batch", json={"requests": requests})

    assert resp.status_code == 200
    responses = {r["id"]: r for r in resp.json()["responses"]}
    shape = set(sample["body"]["responses"][0])  # id, status, headers, body
    assert all(shape <= set(r) for r in responses.values())
    assert responses["1"]["status"] == 200
    assert responses["1"]["body"]["retentionLabel"]["retentionSettings"]["isDeleteAllowed"] is False
    assert responses["1"]["headers"]["Content-Type"].startswith("application/json")
    assert responses["2"]["status"] == 404 and responses["2"]["body"]["error"]["code"] == "itemNotFound"
    assert responses["3"]["status"] == 200 and responses["3"]["body"]["id"] == gone.id
    # The three reads are billed as three single-item GETs; the batch itself costs nothing.
    assert model.requests.total_ru - before == 3
    kinds = [r["kind"] for r in model.requests.to_dict()["recent"][-4:]]
    assert kinds == ["item.get", "item.get", "item.get", "batch"]


async def test_a_throttled_inner_request_answers_429_with_retry_after_inside_a_200(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    item = model.find_item("anna-contract")
    await client.post("/_simulator/knobs", json={"fail_paths": [
        {"pattern": f"/items/{item.id}$", "status": 429, "count": 1, "retry_after": 7}]})
    resp = await client.post("/v1.0/$batch", json={"requests": [
        {"id": "a", "method": "GET", "url": _reread(model, "anna-contract")},
        {"id": "b", "method": "GET", "url": _reread(model, "anna-weekly")}]})

    assert resp.status_code == 200
    responses = {r["id"]: r for r in resp.json()["responses"]}
    assert responses["a"]["status"] == 429 and responses["a"]["headers"]["Retry-After"] == "7"
    assert responses["a"]["body"]["error"]["code"] == "TooManyRequests"
    assert responses["b"]["status"] == 200


@pytest.mark.parametrize("requests, why", [
    ([{"id": str(n), "method": "GET", "url": "/users"} for n in range(21)], "at most 20"),
    ([{"id": "1", "method": "GET", "url": "/users"}, {"id": "1", "method": "GET", "url": "/groups"}], "not unique"),
    ([{"id": "1", "url": "/users"}], "needs an id, a method and a url"),
    ([], "'requests' array"),
])
async def test_a_batch_graph_would_refuse_answers_400_and_serves_nothing(
    client: httpx.AsyncClient, model: TenantModel, requests: list[dict[str, str]], why: str
) -> None:
    before = model.requests.total_requests
    resp = await client.post("/v1.0/$batch", json={"requests": requests})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "BadRequest" and why in resp.json()["error"]["message"]
    assert model.requests.total_requests == before + 1  # only the refused batch itself
