"""Shares and sites: a webUrl to its item and site, a site to its drive; a re-provisioned OneDrive."""

from __future__ import annotations

import base64
import re

import httpx
import pytest

from teamsretention.simulator import TenantModel, load_scenario
from teamsretention.simulator.sites import encode_share_id

from ._helpers import EPOCH, client_for, follow_delta, onedrive_of

pytestmark = pytest.mark.anyio
SITE_ID = re.compile(r"^[a-z0-9.-]+\.sharepoint\.com,[0-9a-f-]{36},[0-9a-f-]{36}$")


def _share(url: str) -> str:
    # Exactly the recipe of learn.microsoft.com/graph/api/shares-get, "Encoding sharing URLs".
    encoded = base64.b64encode(url.encode()).decode().rstrip("=").replace("/", "_").replace("+", "-")
    return "u!" + encoded


async def _web_url(client: httpx.AsyncClient, model: TenantModel, key: str) -> str:
    item = model.find_item(key)
    return str((await client.get(f"/v1.0/drives/{item.drive_id}/items/{item.id}")).json()["webUrl"])


async def test_share_of_an_item_weburl_answers_the_item_its_site_and_the_sites_drive(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    item = model.find_item("anna-weekly")
    url = await _web_url(client, model, "anna-weekly")
    assert _share(url) == encode_share_id(url)
    got = (await client.get(f"/v1.0/shares/{_share(url)}/driveItem")).json()
    assert got["id"] == item.id and got["webUrl"] == url
    assert got["parentReference"]["driveId"] == item.drive_id and got["parentReference"]["path"].endswith("/Recordings")
    assert "media" not in got  # the plain v1.0 shape

    site = (await client.get(f"/v1.0/shares/{_share(url)}/site")).json()
    assert SITE_ID.match(site["id"]) and url.startswith(site["webUrl"] + "/")
    assert site["displayName"] == "Anna Berg" and "-my.sharepoint.com/personal/" in site["webUrl"]
    assert set(site) >= {"id", "name", "displayName", "webUrl", "createdDateTime"}
    drive = (await client.get(f"/v1.0/sites/{site['id']}/drive")).json()
    assert drive["id"] == item.drive_id == onedrive_of(model, "anna")
    assert (await client.get(f"/v1.0/sites/{site['id']}")).json() == {
        **site,
        "@odata.context": "http://graph.test/v1.0/$metadata#sites/$entity",
    }


async def test_team_and_private_channel_items_live_in_different_sites(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    sites = {}
    for key in ("sales-general", "sales-deals"):
        url = await _web_url(client, model, key)
        sites[key] = (await client.get(f"/v1.0/shares/{_share(url)}/site")).json()
    assert sites["sales-general"]["displayName"] == "Sales"
    assert sites["sales-deals"]["id"] != sites["sales-general"]["id"]
    assert sites["sales-deals"]["displayName"] == "Sales-Deals"
    for drive in model.drives.values():  # every drive has a site, whose default drive it is
        assert model.sites[drive.site_id].drive_id == drive.id


async def test_other_encodings_and_host_case_name_the_same_item(client: httpx.AsyncClient, model: TenantModel) -> None:
    item = model.find_item("sales-general")
    url = await _web_url(client, model, "sales-general")
    assert "%20" in url
    variants = [
        url.replace("%20", " "),
        url.replace("https://contoso.sharepoint.com", "https://CONTOSO.SharePoint.com"),
        url.replace("-", "%2D"),
    ]
    for variant in variants:
        got = await client.get(f"/v1.0/shares/{_share(variant)}/driveItem")
        assert got.status_code == 200 and got.json()["id"] == item.id, variant
    padded = "u!" + base64.urlsafe_b64encode(url.encode()).decode()
    assert (await client.get(f"/v1.0/shares/{padded}/driveItem")).json()["id"] == item.id


async def test_drive_root_through_shares_has_no_parent_reference_unless_the_knob_asks(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    drive = model.drives[onedrive_of(model, "anna")]
    root = (await client.get(f"/v1.0/shares/{_share(drive.web_url)}/driveItem")).json()
    assert root["root"] == {} and root["id"] == drive.root_id and "parentReference" not in root
    await client.post("/_simulator/knobs", json={"shares_root_parent_reference": True})
    root = (await client.get(f"/v1.0/shares/{_share(drive.web_url)}/driveItem")).json()
    assert root["parentReference"] == {"driveId": drive.id, "driveType": "business"}


async def test_unknown_shares_sites_and_deleted_items_are_404(client: httpx.AsyncClient, model: TenantModel) -> None:
    url = await _web_url(client, model, "anna-weekly")
    for share in [_share(url + "x"), _share("https://elsewhere.example/x"), "u!!!", "s!sharingtoken", "abc"]:
        resp = await client.get(f"/v1.0/shares/{share}/driveItem")
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "itemNotFound", share
    assert (await client.get("/v1.0/sites/contoso.sharepoint.com,nope,nope/drive")).status_code == 404
    item = model.find_item("anna-weekly")
    await client.delete(f"/v1.0/drives/{item.drive_id}/items/{item.id}")
    assert (await client.get(f"/v1.0/shares/{_share(url)}/driveItem")).status_code == 404


async def test_replaced_onedrive_gets_a_new_drive_and_the_old_id_answers_404() -> None:
    model = load_scenario(
        '[[users]]\nkey = "anna"\n[[recordings]]\nkey = "r"\norganizer = "anna"\nage_days = 3\n'
        '[[events]]\nday = 2\nkind = "replace_onedrive"\nuser = "anna"\n',
        epoch=EPOCH,
    )
    old = onedrive_of(model, "anna")
    rec = model.find_item("r")
    async with client_for(model) as client:
        _, _, link = await follow_delta(client, f"/v1.0/drives/{old}/root/delta")
        old_url = await _web_url(client, model, "r")
        old_site_json = (await client.get(f"/v1.0/shares/{_share(old_url)}/site")).json()
        old_site = old_site_json["id"]
        fired = (await client.post("/_simulator/clock", json={"advance": {"days": 2}})).json()["fired"]
        assert fired[0]["kind"] == "replace_onedrive" and fired[0]["oldDriveId"] == old

        new = (await client.get(f"/v1.0/users/{model.resolve('anna')}/drive")).json()
        assert new["id"] != old and new["id"] == fired[0]["driveId"]
        for method, path in [
            ("GET", f"/v1.0/drives/{old}"),
            ("GET", f"/v1.0/drives/{old}/root/delta"),
            ("GET", link),
            ("GET", f"/v1.0/drives/{old}/items/{rec.id}"),
            ("GET", f"/v1.0/drives/{old}/items/{rec.id}/retentionLabel"),
            ("DELETE", f"/v1.0/drives/{old}/items/{rec.id}"),
            ("POST", f"/v1.0/drives/{old}/items/{rec.id}/permanentDelete"),
            ("GET", f"/v1.0/shares/{_share(old_url)}/driveItem"),
            ("GET", f"/v1.0/sites/{old_site}/drive"),
        ]:
            resp = await client.request(method, path)
            assert resp.status_code == 404 and resp.json()["error"]["code"] == "itemNotFound", (method, path)

        items, _, _ = await follow_delta(client, f"/v1.0/drives/{new['id']}/root/delta")
        assert sorted(i["name"] for i in items) == ["Recordings", "root"]
        recordings = next(i for i in items if i["name"] == "Recordings")
        assert recordings["folder"]["childCount"] == 0
        site = (await client.get(f"/v1.0/shares/{_share(new['webUrl'])}/site")).json()
        assert site["id"] != old_site and site["webUrl"] != old_site_json["webUrl"]
        assert (await client.get(f"/v1.0/sites/{site['id']}/drive")).json()["id"] == new["id"]
        assert (await client.get("/_simulator/state")).json()["recordings"] == 0
