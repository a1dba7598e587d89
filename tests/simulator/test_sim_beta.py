"""The beta item read: the Teams facets only beta documents, its knob, and 400 for any other beta path."""

from __future__ import annotations

import httpx
import pytest

from teamsretention.simulator import TenantModel, load_scenario

from ._helpers import EPOCH, client_for

pytestmark = pytest.mark.anyio


def _url(model: TenantModel, key: str, version: str) -> str:
    item = model.find_item(key)
    return f"/{version}/drives/{item.drive_id}/items/{item.id}"


async def test_beta_item_carries_the_facets_v1_does_not(client: httpx.AsyncClient, model: TenantModel) -> None:
    beta = (await client.get(_url(model, "anna-weekly", "beta"))).json()
    v1 = (await client.get(_url(model, "anna-weekly", "v1.0"))).json()
    assert beta["source"] == {"application": "teams"}
    assert beta["media"] == {"mediaSource": {"contentCategory": "meeting"}}
    assert "source" not in v1 and "media" not in v1
    assert {k: v for k, v in beta.items() if k not in ("source", "media", "@odata.context")} == {
        k: v for k, v in v1.items() if k != "@odata.context"
    }
    assert beta["@odata.context"].endswith("/beta/$metadata#driveItem/$entity")
    holiday = (await client.get(_url(model, "bob-holiday", "beta"))).json()
    assert "source" not in holiday and "media" not in holiday  # a video, not a Teams recording
    log = (await client.get("/_simulator/requests")).json()
    assert log["byKind"]["beta.item.get"]["requests"] == 2


async def test_beta_media_facets_knob_off_and_media_facets_on_are_independent(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    await client.post("/_simulator/knobs", json={"beta_media_facets": False, "media_facets": True})
    beta = (await client.get(_url(model, "anna-weekly", "beta"))).json()
    v1 = (await client.get(_url(model, "anna-weekly", "v1.0"))).json()
    assert "source" not in beta and "media" not in beta
    assert v1["source"] == {"application": "teams"}


async def test_other_beta_paths_answer_graphs_400(client: httpx.AsyncClient, model: TenantModel) -> None:
    for method, path in [
        ("GET", f"/beta/users/{model.resolve('anna')}"),
        ("GET", "/beta/drives/x/root/delta"),
        ("DELETE", _url(model, "anna-weekly", "beta")),
    ]:
        resp = await client.request(method, path)
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "BadRequest", (method, path)
    assert (await client.get("/beta/drives/b!nope/items/x")).status_code == 404


async def test_beta_item_on_a_replaced_onedrive_is_404() -> None:
    model = load_scenario(
        '[[users]]\nkey = "a"\n[[recordings]]\nkey = "r"\norganizer = "a"\n'
        '[[events]]\nday = 1\nkind = "replace_onedrive"\nuser = "a"\n',
        epoch=EPOCH,
    )
    url = _url(model, "r", "beta")
    async with client_for(model) as client:
        assert (await client.get(url)).status_code == 200
        model.advance(days=1)
        resp = await client.get(url)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "itemNotFound"
