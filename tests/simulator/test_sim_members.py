"""Group members with and without the user cast (the advanced-query rule), and group owners."""

from __future__ import annotations

import httpx
import pytest

from teamsretention.simulator import TenantModel, load_scenario

from ._helpers import EPOCH, client_for

pytestmark = pytest.mark.anyio
EVENTUAL = {"ConsistencyLevel": "eventual"}


def _cast(model: TenantModel, group: str, spelling: str = "transitiveMembers") -> str:
    return f"/v1.0/groups/{model.resolve(group)}/{spelling}/microsoft.graph.user"


async def test_user_cast_without_both_advanced_query_parameters_is_400(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    for query, headers in [("", None), ("?$count=true", None), ("", EVENTUAL), ("?$count=false", EVENTUAL)]:
        resp = await client.get(_cast(model, "staff") + query, headers=headers)
        err = resp.json()["error"]
        assert resp.status_code == 400 and err["code"] == "Request_UnsupportedQuery", (query, headers)
        assert "ConsistencyLevel:eventual" in err["message"] and "$count=true" in err["message"]
    ok = await client.get(_cast(model, "staff", "transitivemembers") + "?$count=true", headers=EVENTUAL)
    assert ok.status_code == 200 and ok.json()["@odata.count"] == 3


async def test_knob_off_serves_the_cast_without_advanced_query_and_without_a_count(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    await client.post("/_simulator/knobs", json={"cast_requires_advanced_query": False})
    plain = (await client.get(_cast(model, "staff"))).json()
    assert len(plain["value"]) == 3 and "@odata.count" not in plain
    # Without the header Graph silently ignores $count=true (the advanced-query doc's error handling).
    assert "@odata.count" not in (await client.get(_cast(model, "staff") + "?$count=true")).json()


async def test_uncast_transitive_members_are_directory_objects_including_nested_groups(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    await client.post("/_simulator/knobs", json={"directory_page_size": 2})
    for spelling in ("transitiveMembers", "transitivemembers"):
        url = f"/v1.0/groups/{model.resolve('staff')}/{spelling}"
        members: list[dict[str, str]] = []
        pages = 0
        while url:
            page = (await client.get(url)).json()  # no advanced query parameters needed
            members += page["value"]
            pages += 1
            url = page.get("@odata.nextLink", "")
        assert pages == 2
        types = {m["id"]: m["@odata.type"] for m in members}
        assert types == {
            model.resolve("sales"): "#microsoft.graph.group",
            model.resolve("anna"): "#microsoft.graph.user",
            model.resolve("bob"): "#microsoft.graph.user",
            model.resolve("dan"): "#microsoft.graph.user",
        }
        sales = next(m for m in members if m["id"] == model.resolve("sales"))
        assert sales["displayName"] == "Sales" and "userPrincipalName" not in sales


async def test_owners_are_the_scenarios_users_as_directory_objects(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    owners = (await client.get(f"/v1.0/groups/{model.resolve('sales')}/owners")).json()
    assert owners["value"] == [
        {
            "@odata.type": "#microsoft.graph.user",
            "id": model.resolve("anna"),
            "displayName": "Anna Berg",
            "userPrincipalName": "anna@contoso.example",
            "mail": "anna@contoso.example",
        }
    ]
    none = (await client.get(f"/v1.0/groups/{model.resolve('staff')}/owners")).json()
    assert none["value"] == [] and "@odata.nextLink" not in none  # no owners unless the scenario names some
    assert (await client.get("/v1.0/groups/nope/owners")).status_code == 404


async def test_owners_page_and_keep_select() -> None:
    users = "".join(f'[[users]]\nkey = "u{i}"\n' for i in range(5))
    owners = ", ".join(f'"u{i}"' for i in range(5))
    model = load_scenario(users + f'[[teams]]\nkey = "t"\nmembers = ["u0"]\nowners = [{owners}]\n', epoch=EPOCH)
    model.knobs.directory_page_size = 2
    async with client_for(model) as client:
        url = f"/v1.0/groups/{model.resolve('t')}/owners?$select=id"
        seen: list[dict[str, str]] = []
        while url:
            page = (await client.get(url)).json()
            seen += page["value"]
            url = page.get("@odata.nextLink", "")
        assert [o["id"] for o in seen] == [model.resolve(f"u{i}") for i in range(5)]
        assert all(set(o) == {"@odata.type", "id"} for o in seen)
