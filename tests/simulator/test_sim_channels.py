"""Channel files folders: the documented shape, failing and migrated channels; the evolvable membershipType."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest

from teamsretention.simulator import TenantModel, load_scenario

from ._helpers import EPOCH, client_for

pytestmark = pytest.mark.anyio
SAMPLES = Path("/work/shared/graph-samples")


def _folder_url(model: TenantModel, key: str) -> str:
    team_key, _ = key.split("/")
    return f"/v1.0/teams/{model.resolve(team_key)}/channels/{model.resolve(key)}/filesFolder"


async def test_files_folder_has_the_documented_shape(client: httpx.AsyncClient, model: TenantModel) -> None:
    sample = json.loads((SAMPLES / "channel-get-filesfolder.json").read_text())["body"]
    body = (await client.get(_folder_url(model, "sales/General"))).json()
    assert body["createdDateTime"] == sample["createdDateTime"] == "0001-01-01T00:00:00Z"
    assert "eTag" not in body and "cTag" not in body and "folder" in body
    assert set(sample["parentReference"]) <= set(body["parentReference"])
    await client.post("/_simulator/knobs", json={"files_folder_created_sentinel": False})
    real = (await client.get(_folder_url(model, "sales/General"))).json()
    assert dt.datetime.fromisoformat(real["createdDateTime"]).year == EPOCH.year - 1


async def test_failing_files_folder_answers_graphs_error_with_documented_defaults(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    await client.post("/_simulator/knobs", json={"failing_files_folders": {"sales/Deals": {}}})
    resp = await client.get(_folder_url(model, "sales/Deals"))
    err = resp.json()["error"]
    assert resp.status_code == 404
    assert (err["code"], err["message"]) == ("itemNotFound", "Sharepoint folder not found.")
    assert (await client.get(_folder_url(model, "sales/General"))).status_code == 200
    knobs = (await client.get("/_simulator/knobs")).json()
    assert knobs["failing_files_folders"] == {
        "sales/Deals": {"status": 404, "code": "itemNotFound", "message": "Sharepoint folder not found."}
    }

    by_id = {model.resolve("sales/General"): {"status": 400, "code": "invalidRequest", "message": "Bad name."}}
    await client.post("/_simulator/knobs", json={"failing_files_folders": by_id})
    resp = await client.get(_folder_url(model, "sales/General"))
    assert resp.status_code == 400 and resp.json()["error"]["message"] == "Bad name."
    assert (await client.get(_folder_url(model, "sales/Deals"))).status_code == 200
    bad = await client.post("/_simulator/knobs", json={"failing_files_folders": {"x": {"colour": 1}}})
    assert bad.status_code == 400


async def test_migrated_channel_answers_its_site_drives_root(client: httpx.AsyncClient, model: TenantModel) -> None:
    deals = model.drive_for_ref("sales/Deals")
    team_drive = model.groups[model.resolve("sales")].drive_id
    assert deals is not None and deals != team_drive
    await client.post("/_simulator/knobs", json={"migrated_channels": {"sales/Deals": {}}})
    root = (await client.get(_folder_url(model, "sales/Deals"))).json()
    assert root["root"] == {} and root["name"] == "root" and root["id"] == model.drives[deals].root_id
    assert "parentReference" not in root  # parent_reference defaults to false

    await client.post("/_simulator/knobs", json={"migrated_channels": {"sales/Deals": {"parent_reference": True}}})
    root = (await client.get(_folder_url(model, "sales/Deals"))).json()
    assert root["parentReference"] == {"driveId": deals, "driveType": "documentLibrary"}
    general = (await client.get(_folder_url(model, "sales/General"))).json()
    assert general["name"] == "General" and general["parentReference"]["driveId"] == team_drive


async def test_shared_channel_is_unknown_future_value_unless_the_client_asks() -> None:
    model = load_scenario(
        '[[users]]\nkey = "a"\n[[teams]]\nkey = "t"\nmembers = ["a"]\n'
        'channels = [{ name = "General" }, { name = "Partners", membership = "shared" }]\n',
        epoch=EPOCH,
    )
    url = f"/v1.0/teams/{model.resolve('t')}/channels?$select=id,displayName,membershipType"
    async with client_for(model) as client:
        plain = {c["displayName"]: c["membershipType"] for c in (await client.get(url)).json()["value"]}
        asked = await client.get(url, headers={"Prefer": "include-unknown-enum-members"})
        wanted = {c["displayName"]: c["membershipType"] for c in asked.json()["value"]}
        assert plain == {"General": "standard", "Partners": "unknownFutureValue"}
        assert wanted == {"General": "standard", "Partners": "shared"}
        folder = await client.get(f"/v1.0/teams/{model.resolve('t')}/channels/{model.resolve('t/Partners')}/filesFolder")
        assert folder.json()["parentReference"]["driveId"] != model.groups[model.resolve("t")].drive_id
