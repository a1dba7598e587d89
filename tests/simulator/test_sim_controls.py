"""The /_simulator control API: request log and resource units, knobs, state, unknown Graph paths."""

from __future__ import annotations

from dataclasses import fields

import httpx
import pytest

from teamsretention.simulator import Knobs, TenantModel
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
    # media_facets (formerly delta_media_facets, True) is off by default: v1.0 driveItem has no media/source.
    assert knobs["media_facets"] is False and knobs["unlabelled_label"] == "empty"
    assert "delta_media_facets" not in knobs
    renamed = (await client.post("/_simulator/knobs", json={"delta_media_facets": True})).json()
    assert renamed["media_facets"] is True  # the old name is still accepted, as an alias
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


async def test_every_knob_is_shown_and_settable_through_the_control_api(client: httpx.AsyncClient) -> None:
    shown = (await client.get("/_simulator/knobs")).json()
    assert set(shown) == {f.name for f in fields(Knobs)}
    patch = {
        "media_facets": True,
        "beta_media_facets": False,
        "delta_ctag": True,
        "files_folder_created_sentinel": False,
        "failing_files_folders": ["sales/Deals"],
        "migrated_channels": {"sales/General": True},
        "shares_root_parent_reference": True,
        "cast_requires_advanced_query": False,
        "next_link_loops": "users",
        "send_mail_status": 200,
    }
    changed = (await client.post("/_simulator/knobs", json=patch)).json()
    assert {k: changed[k] for k in ("media_facets", "beta_media_facets", "delta_ctag", "send_mail_status")} == {
        "media_facets": True,
        "beta_media_facets": False,
        "delta_ctag": True,
        "send_mail_status": 200,
    }
    assert changed["failing_files_folders"]["sales/Deals"]["code"] == "itemNotFound"
    assert changed["migrated_channels"] == {"sales/General": {"parent_reference": True}}
    assert changed["next_link_loops"] == ["users"] and changed["cast_requires_advanced_query"] is False
    assert changed["shares_root_parent_reference"] is True and changed["files_folder_created_sentinel"] is False
    assert Knobs.from_dict(changed).to_dict() == changed  # what GET shows can be POSTed back
    assert (await client.post("/_simulator/knobs", json={"delta_ctag": "yes"})).status_code == 400
