"""Users, groups, teams, channels, transitive members and drives as Graph answers them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from teamsretention.simulator import TenantModel

from ._helpers import BASE, follow_delta

pytestmark = pytest.mark.anyio
SAMPLES = Path("/work/shared/graph-samples")
USER_SELECT = "id,displayName,userPrincipalName,mail,accountEnabled,preferredLanguage"


async def test_users_delta_pages_then_replays_only_changed_and_removed(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    await client.post("/_simulator/knobs", json={"directory_page_size": 2})
    users, pages, link = await follow_delta(client, f"/v1.0/users/delta?$select={USER_SELECT}")
    assert len(pages) >= 3 and pages[0]["@odata.nextLink"].startswith(BASE + "/v1.0/users/delta?")
    assert {u["userPrincipalName"] for u in users} == {u.upn for u in model.users.values()}
    assert all(set(u) == set(USER_SELECT.split(",")) for u in users)
    dan = next(u for u in users if u["displayName"] == "Dan Consultant")
    assert dan["mail"] is None

    quiet = (await client.get(link)).json()
    assert quiet["value"] == [] and "@odata.deltaLink" in quiet

    await client.post("/_simulator/clock", json={"advance": {"days": 10}})  # bob disabled, erik added
    changed, _, link = await follow_delta(client, quiet["@odata.deltaLink"])
    assert sorted(u["displayName"] for u in changed) == ["Bob Smith", "Erik Lind"]
    assert next(u for u in changed if u["displayName"] == "Bob Smith")["accountEnabled"] is False

    model.users[model.resolve("dan")].removed = True
    model.touch_user(model.users[model.resolve("dan")])
    removed, _, _ = await follow_delta(client, link)
    assert removed == [{"id": model.resolve("dan"), "@removed": {"reason": "changed"}}]


async def test_get_user_selects_fields_and_404s_like_graph(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    anna = (await client.get(f"/v1.0/users/{model.resolve('anna')}?$select={USER_SELECT}")).json()
    sample = json.loads((SAMPLES / "user-get.json").read_text())[0]["body"]
    assert {"id", "displayName", "mail", "preferredLanguage", "userPrincipalName"} <= set(sample)
    assert anna["preferredLanguage"] == "sv-SE" and anna["accountEnabled"] is True
    assert anna["userPrincipalName"] == "anna@contoso.example"
    missing = await client.get("/v1.0/users/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"


async def test_user_drive_or_404_when_onedrive_was_never_provisioned(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    drive = (await client.get(f"/v1.0/users/{model.resolve('anna')}/drive")).json()
    assert drive["driveType"] == "business" and drive["owner"]["user"]["id"] == model.resolve("anna")
    assert drive["id"] == model.users[model.resolve("anna")].drive_id and drive["webUrl"].startswith(
        "https://"
    )
    none = await client.get(f"/v1.0/users/{model.resolve('cecilia')}/drive")
    assert none.status_code == 404
    assert none.json()["error"]["code"] == "itemNotFound"
    assert none.json()["error"]["message"] == "The resource could not be found."


async def test_teams_channels_and_channel_folders(client: httpx.AsyncClient, model: TenantModel) -> None:
    groups, _, _ = await follow_delta(
        client, "/v1.0/groups/delta?$select=id,displayName,resourceProvisioningOptions"
    )
    teams = [g for g in groups if "Team" in g["resourceProvisioningOptions"]]
    assert [t["displayName"] for t in teams] == ["Sales"]
    assert any(g["resourceProvisioningOptions"] == [] for g in groups)
    team_id = teams[0]["id"]
    site = (await client.get(f"/v1.0/groups/{team_id}/drive")).json()
    assert site["driveType"] == "documentLibrary"

    channels = (
        await client.get(f"/v1.0/teams/{team_id}/channels?$select=id,displayName,membershipType")
    ).json()
    kinds = {c["displayName"]: c["membershipType"] for c in channels["value"]}
    assert kinds == {"General": "standard", "Deals": "private"}
    folders = {}
    for ch in channels["value"]:
        resp = await client.get(f"/v1.0/teams/{team_id}/channels/{ch['id']}/filesFolder")
        folders[ch["displayName"]] = resp.json()
    assert folders["General"]["parentReference"]["driveId"] == site["id"]
    assert folders["Deals"]["parentReference"]["driveId"] != site["id"]  # private channel: own drive
    assert folders["General"]["name"] == "General" and "folder" in folders["General"]


async def test_transitive_members_resolve_nested_groups_and_page(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    await client.post("/_simulator/knobs", json={"directory_page_size": 2})
    # The OData cast is documented as an advanced query: header and $count=true on every page (the nextLink
    # keeps $count=true; see test_sim_members.py for the 400 without them).
    url = f"/v1.0/groups/{model.resolve('staff')}/transitiveMembers/microsoft.graph.user?$select=id&$count=true"
    members: list[dict[str, str]] = []
    while url:
        page = (await client.get(url, headers={"ConsistencyLevel": "eventual"})).json()
        members += page["value"]
        assert page["@odata.count"] == 3
        url = page.get("@odata.nextLink", "")
    assert all(m["@odata.type"] == "#microsoft.graph.user" for m in members)
    assert {m["id"] for m in members} == {model.resolve(k) for k in ("anna", "bob", "dan")}
    missing = await client.get(
        "/v1.0/groups/nope/transitiveMembers/microsoft.graph.user?$count=true",
        headers={"ConsistencyLevel": "eventual"},
    )
    assert missing.status_code == 404
