"""Drive delta as Graph serves it: shapes, paging, token replay, repeats, facets, 410 resync."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from teamsretention.simulator import TenantModel

from ._helpers import BASE, follow_delta, onedrive_of

pytestmark = pytest.mark.anyio
SAMPLES = Path("/work/shared/graph-samples")
ETAG = re.compile(r'^"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\},\d+"$')


def _delta_url(drive_id: str) -> str:
    return f"/v1.0/drives/{drive_id}/root/delta"


async def test_first_page_has_graph_item_shape_and_an_absolute_next_link(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    drive = onedrive_of(model, "anna")
    resp = await client.get(_delta_url(drive))
    page = resp.json()
    assert resp.status_code == 200
    assert page["@odata.nextLink"].startswith(f"{BASE}/v1.0/drives/{drive}/root/delta?")
    assert len(page["value"]) <= model.knobs.page_size == 5
    root = page["value"][0]
    assert root["root"] == {} and "folder" in root
    sample_keys = set(json.loads((SAMPLES / "driveitem-get.json").read_text())["body"])
    for item in page["value"]:
        assert {
            "id",
            "name",
            "eTag",
            "createdDateTime",
            "lastModifiedDateTime",
            "webUrl",
            "size",
            "parentReference",
        } <= set(item)
        assert ETAG.match(item["eTag"]), item["eTag"]
        assert "path" not in item["parentReference"]  # delta never returns the folder path
        # The delta Remarks: OneDrive for Business leaves cTag out on create/modify (knob delta_ctag).
        assert "cTag" not in item
        assert item["parentReference"]["driveId"] == drive
        assert set(item) - {"parentReference", "file"} <= sample_keys  # no media/source by default (v1.0)


async def test_recording_carries_teams_facets_and_plain_video_does_not(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    # The facets are beta-only, so off by default since media_facets replaced delta_media_facets (which
    # defaulted to on): this test asks for them to check that only real recordings carry them.
    await client.post("/_simulator/knobs", json={"media_facets": True})
    items, _, _ = await follow_delta(client, _delta_url(onedrive_of(model, "bob")))
    by_name = {i["name"]: i for i in items}
    holiday = by_name["Holiday clip.mp4"]
    assert holiday["file"]["mimeType"] == "video/mp4"
    assert "source" not in holiday and "media" not in holiday
    recordings = [i for i in items if i.get("source") == {"application": "teams"}]
    assert recordings and all(
        r["media"] == {"mediaSource": {"contentCategory": "meeting"}} for r in recordings
    )
    assert all(r["createdBy"]["user"]["displayName"] == "Bob Smith" for r in recordings)


async def test_media_facets_are_off_by_default_in_delta_and_plain_get_and_one_knob_turns_both_on(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    # Formerly delta_media_facets defaulted to on and a plain GET always had the facets; v1.0 driveItem
    # declares neither media nor source, so both are now off unless asked for (the old name still works).
    drive = onedrive_of(model, "anna")
    rec = model.find_item("anna-weekly")
    items, _, _ = await follow_delta(client, _delta_url(drive))
    assert items and all("media" not in i and "source" not in i for i in items)
    plain = (await client.get(f"/v1.0/drives/{drive}/items/{rec.id}")).json()
    assert "media" not in plain and "source" not in plain

    await client.post("/_simulator/knobs", json={"delta_media_facets": True})
    items, _, _ = await follow_delta(client, _delta_url(drive))
    assert next(i for i in items if i["id"] == rec.id)["source"] == {"application": "teams"}
    got = (await client.get(f"/v1.0/drives/{drive}/items/{rec.id}")).json()
    assert got["source"]["application"] == "teams"
    assert got["media"] == {"mediaSource": {"contentCategory": "meeting"}}


async def test_delta_ctag_knob_puts_ctag_back(client: httpx.AsyncClient, model: TenantModel) -> None:
    await client.post("/_simulator/knobs", json={"delta_ctag": True})
    items, _, _ = await follow_delta(client, _delta_url(onedrive_of(model, "anna")))
    assert all(i["cTag"].startswith('"c:{') for i in items)


async def test_paging_reaches_a_delta_link_with_every_live_item_once(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    drive = onedrive_of(model, "anna")
    items, pages, delta_link = await follow_delta(client, _delta_url(drive))
    assert len(pages) >= 2
    assert all("@odata.nextLink" in p for p in pages[:-1])
    live = [i for i in model.drives[drive].items.values() if not i.deleted]
    assert sorted(i["id"] for i in items) == sorted(i.id for i in live)
    assert delta_link.startswith(BASE + "/v1.0/")


async def test_unchanged_drive_answers_one_empty_page_for_one_resource_unit(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    drive = onedrive_of(model, "anna")
    _, _, delta_link = await follow_delta(client, _delta_url(drive))
    await client.delete("/_simulator/requests")
    resp = await client.get(delta_link)
    page = resp.json()
    assert page["value"] == [] and "@odata.deltaLink" in page and "@odata.nextLink" not in page
    stats = (await client.get("/_simulator/requests")).json()
    assert stats["requests"] == 1 and stats["resourceUnits"] == 1
    assert stats["byKind"]["drive.delta.token"] == {"requests": 1, "resourceUnits": 1}
    assert stats["byDrive"][drive]["requests"] == 1


async def test_token_replay_returns_only_what_changed(client: httpx.AsyncClient, model: TenantModel) -> None:
    drive = onedrive_of(model, "anna")
    _, _, delta_link = await follow_delta(client, _delta_url(drive))
    vendor, weekly = model.find_item("anna-vendor"), model.find_item("anna-weekly")
    old_etag = (await client.get(f"/v1.0/drives/{drive}/items/{vendor.id}")).json()["eTag"]
    await client.post(f"/_simulator/items/{drive}/{vendor.id}/modify")
    assert (await client.delete(f"/v1.0/drives/{drive}/items/{weekly.id}")).status_code == 204
    await client.post("/_simulator/clock", json={"advance": {"days": 13}})  # the late recording arrives

    changes, _, _ = await follow_delta(client, delta_link)
    by_id = {c["id"]: c for c in changes}
    assert by_id[vendor.id]["eTag"] != old_etag
    gone = by_id[weekly.id]
    assert gone["deleted"] == {} and "name" not in gone and gone["parentReference"]["driveId"] == drive
    late = model.find_item("late-upload")
    assert by_id[late.id]["name"].startswith("Board prep-")
    unchanged = model.find_item("anna-contract")
    assert unchanged.id not in by_id


async def test_repeat_items_knob_returns_an_item_twice_in_one_feed(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    await client.post("/_simulator/knobs", json={"repeat_items": True})
    items, pages, _ = await follow_delta(client, _delta_url(onedrive_of(model, "anna")))
    ids = [i["id"] for i in items]
    assert len(ids) > len(set(ids))
    assert all(len(p["value"]) <= model.knobs.page_size for p in pages)


async def test_expired_token_answers_410_with_a_location_that_restarts(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    anna, bob = onedrive_of(model, "anna"), onedrive_of(model, "bob")
    _, _, anna_link = await follow_delta(client, _delta_url(anna))
    _, _, bob_link = await follow_delta(client, _delta_url(bob))
    await client.post("/_simulator/knobs", json={"expire_delta_tokens": True})

    resp = await client.get(anna_link)
    assert resp.status_code == 410
    assert resp.json()["error"]["code"] == "resyncRequired"
    location = resp.headers["Location"]
    assert location.startswith(BASE)
    items, _, _ = await follow_delta(client, location)
    assert len(items) == sum(1 for i in model.drives[anna].items.values() if not i.deleted)
    assert (await client.get(bob_link)).status_code == 410  # every token handed out before expired
    assert (await client.get(_delta_url(bob) + "?token=not-a-token")).status_code == 410


async def test_unknown_drive_is_404_with_graph_error_body(client: httpx.AsyncClient) -> None:
    resp = await client.get(_delta_url("b!nope"), headers={"client-request-id": "abc"})
    err = resp.json()["error"]
    assert resp.status_code == 404 and err["code"] == "itemNotFound"
    assert {"date", "request-id", "client-request-id"} <= set(err["innerError"])
    assert err["innerError"]["client-request-id"] == "abc"


@pytest.mark.parametrize(("honours", "keeps"), [(True, True), (True, False), (False, True)],
                         ids=["honoured-kept", "honoured-first-page-only", "ignored"])
async def test_top_sets_the_page_size_as_the_knobs_say(
    client: httpx.AsyncClient, model: TenantModel, honours: bool, keeps: bool
) -> None:
    """``$top`` as the delta page documents it (``delta_honours_top``), kept in the links or not (the docs do not
    say: ``delta_links_keep_top``); every item is listed once either way, and the deltaLink replays cleanly."""
    model.knobs.update({"delta_honours_top": honours, "delta_links_keep_top": keeps})
    drive = onedrive_of(model, "anna")
    everything, default_pages, _ = await follow_delta(client, _delta_url(drive))
    top = model.knobs.page_size + 2
    items, pages, delta_link = await follow_delta(client, f"{_delta_url(drive)}?$top={top}")

    assert sorted(i["id"] for i in items) == sorted(i["id"] for i in everything)
    sizes = [len(p["value"]) for p in pages]
    first = top if honours else model.knobs.page_size
    later = first if keeps else model.knobs.page_size
    assert sizes[0] == min(first, len(everything)) and all(n <= later for n in sizes[1:])
    assert len(pages) < len(default_pages) if honours else len(pages) == len(default_pages)
    assert ("$top=" in delta_link) == keeps
    again = await client.get(delta_link)
    assert again.status_code == 200 and again.json()["value"] == []


@pytest.mark.parametrize("value", ["0", "-3", "many"])
async def test_a_top_that_is_no_positive_number_is_refused_as_graph_does(
    client: httpx.AsyncClient, model: TenantModel, value: str
) -> None:
    resp = await client.get(f"{_delta_url(onedrive_of(model, 'anna'))}?$top={value}")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "BadRequest"
    assert value in resp.json()["error"]["message"]
