"""Reading items and labels, deleting with If-Match, refusals, recycle bin and restore."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from teamsretention.simulator import TenantModel

from ._helpers import follow_delta, onedrive_of

pytestmark = pytest.mark.anyio
SAMPLES = Path("/work/shared/graph-samples")


def _item_url(model: TenantModel, key: str) -> str:
    item = model.find_item(key)
    return f"/v1.0/drives/{item.drive_id}/items/{item.id}"


async def test_expand_retention_label_matches_the_documented_shape(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    body = (await client.get(_item_url(model, "anna-contract") + "?$expand=retentionLabel")).json()
    sample = json.loads((SAMPLES / "driveitem-getretentionlabel.json").read_text())["body"]
    label = body["retentionLabel"]
    assert set(sample) <= set(label)
    assert set(sample["retentionSettings"]) <= set(label["retentionSettings"])
    assert label["retentionSettings"]["isDeleteAllowed"] is False
    assert label["retentionSettings"]["behaviorDuringRetentionPeriod"] == "retain"
    assert body["parentReference"]["path"].endswith("/root:/Recordings")  # a plain GET has the path


async def test_unlabelled_item_answers_empty_label_or_none_per_knob(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    url = _item_url(model, "anna-weekly")
    empty = (await client.get(url + "?$expand=retentionLabel")).json()
    assert empty["retentionLabel"]["name"] is None
    direct = await client.get(url + "/retentionLabel")
    assert direct.status_code == 200 and direct.json()["name"] is None

    await client.post("/_simulator/knobs", json={"unlabelled_label": "absent"})
    absent = (await client.get(url + "?$expand=retentionLabel")).json()
    assert "retentionLabel" not in absent
    missing = await client.get(url + "/retentionLabel")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "itemNotFound"


async def test_delete_needs_the_current_etag_and_sends_the_item_to_the_recycle_bin(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    url = _item_url(model, "anna-weekly")
    etag = (await client.get(url)).json()["eTag"]
    await client.post("/_simulator/clock", json={"advance": {"days": 5}})  # day 4: the item was modified

    stale = await client.delete(url, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "resourceModified"
    assert (await client.get(url)).status_code == 200  # still there

    fresh = (await client.get(url)).json()["eTag"]
    assert fresh != etag
    done = await client.delete(url, headers={"If-Match": fresh})
    assert done.status_code == 204 and done.content == b""
    gone = await client.get(url)
    assert gone.status_code == 404
    assert gone.json()["error"] == {
        **gone.json()["error"],
        "code": "itemNotFound",
        "message": "The resource could not be found.",
    }
    assert (await client.delete(url)).status_code == 404
    bin_ = (await client.get("/_simulator/recyclebin")).json()["value"]
    assert [e["itemId"] for e in bin_ if e["deletedBy"] == "app"] == [model.find_item("anna-weekly").id]


async def test_label_that_blocks_deletion_answers_403_naming_the_label(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    resp = await client.delete(_item_url(model, "anna-contract"))
    err = resp.json()["error"]
    assert resp.status_code == 403 and err["code"] == "accessDenied" and "retention label" in err["message"]
    assert (await client.get(_item_url(model, "anna-contract"))).status_code == 200


async def test_label_set_through_controls_blocks_and_changes_the_etag(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    item = model.find_item("anna-weekly")
    before = (await client.get(_item_url(model, "anna-weekly"))).json()["eTag"]
    await client.post(
        f"/_simulator/items/{item.drive_id}/{item.id}/label", json={"name": "Hold", "isDeleteAllowed": False}
    )
    after = (await client.get(_item_url(model, "anna-weekly") + "?$expand=retentionLabel")).json()
    assert after["retentionLabel"]["name"] == "Hold" and after["eTag"] != before
    assert (await client.delete(_item_url(model, "anna-weekly"))).status_code == 403
    await client.post(f"/_simulator/items/{item.drive_id}/{item.id}/label", json={"name": None})
    assert (await client.delete(_item_url(model, "anna-weekly"))).status_code == 204


async def test_locked_item_answers_423_until_its_day_then_deletes(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    url = _item_url(model, "anna-vendor")
    locked = await client.delete(url)
    assert locked.status_code == 423 and locked.json()["error"]["code"] == "resourceLocked"
    await client.post("/_simulator/clock", json={"advance": {"days": 3}})
    assert (await client.delete(url)).status_code == 204


async def test_forbidden_for_n_attempts_and_deny_all_deletes(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    item = model.find_item("bob-holiday")
    await client.post("/_simulator/knobs", json={"forbidden_items": {item.id: 2}})
    url = _item_url(model, "bob-holiday")
    assert [(await client.delete(url)).status_code for _ in range(2)] == [403, 403]
    await client.post("/_simulator/knobs", json={"deny_all_deletes": True})
    other = _item_url(model, "sales-deals")
    assert (await client.delete(other)).status_code == 403
    assert (await client.post(other + "/permanentDelete")).status_code == 403
    await client.post("/_simulator/knobs", json={"deny_all_deletes": False})
    assert (await client.delete(url)).status_code == 204


async def test_permanent_delete_skips_the_recycle_bin(client: httpx.AsyncClient, model: TenantModel) -> None:
    url = _item_url(model, "sales-deals")
    resp = await client.post(url + "/permanentDelete", headers={"If-Match": '"{stale},1"'})
    assert resp.status_code == 204  # permanentDelete takes no If-Match: a stale one is ignored
    assert (await client.get(url)).status_code == 404
    assert (await client.get("/_simulator/recyclebin")).json()["value"] == []


async def test_restore_from_recycle_bin_shows_up_in_delta_with_the_same_id(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    drive = onedrive_of(model, "anna")
    item = model.find_item("anna-weekly")
    _, _, link = await follow_delta(client, f"/v1.0/drives/{drive}/root/delta")
    assert (await client.delete(_item_url(model, "anna-weekly"))).status_code == 204
    deleted, _, link = await follow_delta(client, link)
    assert next(c for c in deleted if c["id"] == item.id)["deleted"] == {}

    resp = await client.post(f"/_simulator/recyclebin/{drive}/{item.id}/restore")
    assert resp.status_code == 200
    restored, _, _ = await follow_delta(client, link)
    again = [c for c in restored if c["id"] == item.id]
    assert again and "deleted" not in again[0] and again[0]["name"] == item.name
    assert (await client.get("/_simulator/recyclebin")).json()["value"] == []
    assert (await client.post(f"/_simulator/recyclebin/{drive}/{item.id}/restore")).status_code == 404
