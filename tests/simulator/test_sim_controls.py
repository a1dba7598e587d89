"""The /_simulator control API: request log and resource units, knobs, state, unknown Graph paths."""

from __future__ import annotations

import httpx
import pytest

from teamsretention.simulator import TenantModel
from teamsretention.simulator.reqlog import KEEP_LAST

pytestmark = pytest.mark.anyio


async def test_request_log_charges_resource_units_per_kind_and_resets(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    item = model.find_item("bob-holiday")
    mail = {
        "message": {"subject": "s", "toRecipients": [{"emailAddress": {"address": "bob@contoso.example"}}]}
    }
    await client.get(f"/v1.0/drives/{item.drive_id}/root/delta")  # list: 2
    await client.get(f"/v1.0/drives/{item.drive_id}/items/{item.id}")  # single: 1
    await client.delete(f"/v1.0/drives/{item.drive_id}/items/{item.id}")  # delete: 2
    await client.post("/v1.0/users/governance@contoso.example/sendMail", json=mail)  # create: 2
    await client.get("/_simulator/clock")  # controls are not Graph traffic
    stats = (await client.get("/_simulator/requests")).json()
    assert stats["requests"] == 4 and stats["resourceUnits"] == 7
    assert stats["byKind"]["item.delete"] == {"requests": 1, "resourceUnits": 2}
    assert stats["byDrive"][item.drive_id] == {"requests": 3, "resourceUnits": 5}
    assert [(r["method"], r["status"]) for r in stats["recent"]] == [
        ("GET", 200),
        ("GET", 200),
        ("DELETE", 204),
        ("POST", 202),
    ]
    assert (await client.delete("/_simulator/requests")).status_code == 204
    assert (await client.get("/_simulator/requests")).json()["requests"] == 0


def test_request_log_keeps_only_the_last_entries(model: TenantModel) -> None:
    for _ in range(KEEP_LAST + 50):
        model.requests.record(
            method="GET", path="/v1.0/x", status=200, kind="k", ru=1, drive_id="d", at=model.now
        )
    assert len(model.requests.recent) == KEEP_LAST and model.requests.total_requests == KEEP_LAST + 50


async def test_knobs_round_trip_and_reject_unknown_names(client: httpx.AsyncClient) -> None:
    knobs = (await client.get("/_simulator/knobs")).json()
    assert knobs["delta_media_facets"] is True and knobs["unlabelled_label"] == "empty"
    changed = (await client.post("/_simulator/knobs", json={"page_size": 7, "locked_items": ["x"]})).json()
    assert changed["page_size"] == 7 and changed["locked_items"] == {"x": {"attempts": None, "until": None}}
    assert (await client.post("/_simulator/knobs", json={"page_sise": 7})).status_code == 400
    assert (await client.post("/_simulator/knobs", json={"unlabelled_label": "maybe"})).status_code == 400


async def test_state_summarises_the_tenant(client: httpx.AsyncClient) -> None:
    state = (await client.get("/_simulator/state")).json()
    assert state["users"] == 5 and state["recordings"] == 6 and state["recycleBin"] == 0


async def test_unknown_graph_path_answers_a_graph_error(client: httpx.AsyncClient) -> None:
    resp = await client.get("/v1.0/me/drive")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "BadRequest"
