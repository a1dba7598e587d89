"""The simulated records site and its lists: what people do in SharePoint (controls, as a given user), and what
Graph then answers (items with fields, versions with lastModifiedBy, listItem delta, transitiveMemberOf)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from teamsretention.simulator import TenantModel, load_scenario

from ._helpers import EPOCH, client_for, follow_delta

pytestmark = pytest.mark.anyio

SCENARIO = """
[tenant]
domain = "contoso.example"
seed = 4

[[users]]
key = "anna"
display_name = "Anna Berg"

[[users]]
key = "dpo"
display_name = "Dana Privacy"

[[users]]
key = "nomail"
display_name = "No Mail"
mail = ""

[[groups]]
key = "dpo-office"
display_name = "DPO office"
members = ["dpo"]

[[groups]]
key = "compliance"
display_name = "Compliance"
members = ["dpo-office"]

[records_site]
path = "/sites/records"
display_name = "Records"
time_zone = "Europe/Stockholm"
"""

COLUMNS = [
    {"name": "RequestStatus", "displayName": "Status", "required": True, "defaultValue": {"value": "Requested"},
     "choice": {"allowTextEntry": False, "choices": ["Requested", "Approved", "Rejected"]}},
    {"name": "EndDate", "displayName": "Keep until", "dateTime": {"format": "dateOnly"}},
    {"name": "Reason", "displayName": "Reason", "text": {"allowMultipleLines": True, "textType": "plain"}},
]


@pytest.fixture
def model() -> TenantModel:
    return load_scenario(SCENARIO, epoch=EPOCH)


@pytest.fixture
async def client(model: TenantModel) -> Any:
    async with client_for(model) as c:
        yield c


async def _site(client: httpx.AsyncClient) -> str:
    resp = await client.get("/v1.0/sites/contoso.sharepoint.com:/sites/records")
    assert resp.status_code == 200
    return str(resp.json()["id"])


async def _requests_list(client: httpx.AsyncClient) -> str:
    site = await _site(client)
    resp = await client.post(f"/v1.0/sites/{site}/lists", json={
        "displayName": "Retention requests", "columns": COLUMNS, "list": {"template": "genericList"}})
    assert resp.status_code == 201, resp.text
    return f"/v1.0/sites/{site}/lists/{resp.json()['id']}"


async def test_the_records_site_answers_by_path_and_an_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    found = (await client.get("/v1.0/sites/CONTOSO.sharepoint.com:/sites/Records")).json()
    assert found["webUrl"] == "https://contoso.sharepoint.com/sites/records" and found["displayName"] == "Records"
    assert (await client.get(f"/v1.0/sites/{found['id']}")).json()["id"] == found["id"]
    missing = await client.get("/v1.0/sites/contoso.sharepoint.com:/sites/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "itemNotFound"


async def test_a_list_is_created_once_and_found_by_title_with_its_columns(client: httpx.AsyncClient) -> None:
    url = await _requests_list(client)
    site_lists = url.rsplit("/", 1)[0]
    again = await client.post(site_lists, json={"displayName": "Retention requests", "columns": [],
                                                "list": {"template": "genericList"}})
    assert again.status_code == 409 and again.json()["error"]["code"] == "nameAlreadyExists"

    by_title = (await client.get(f"{site_lists}/Retention%20requests?$expand=columns")).json()
    names = [c["name"] for c in by_title["columns"]]
    assert names[:5] == ["Title", "Created", "Modified", "Author", "Editor"]
    assert names[5:] == ["RequestStatus", "EndDate", "Reason"]
    assert by_title["webUrl"] == "https://contoso.sharepoint.com/sites/records/Lists/Retention%20requests"
    assert "columns" not in (await client.get(f"{site_lists}/Retention%20requests")).json()

    added = await client.post(f"{url}/columns", json={"name": "DecisionNote", "text": {"allowMultipleLines": True}})
    assert added.status_code == 201
    dup = await client.post(f"{url}/columns", json={"name": "DecisionNote", "text": {}})
    assert dup.status_code == 409
    untyped = await client.post(f"{url}/columns", json={"name": "Odd"})
    assert untyped.status_code == 400


async def test_people_edit_items_and_every_change_is_a_version_by_that_person(
        client: httpx.AsyncClient, model: TenantModel) -> None:
    url = await _requests_list(client)
    made = await client.post("/_simulator/lists/Retention requests/items",
                             json={"as": "anna", "fields": {"Title": "Keep the kickoff", "EndDate": "2026-11-02"}})
    assert made.status_code == 201
    item_id = made.json()["id"]
    assert made.json()["fields"]["RequestStatus"] == "Requested"  # the column's default
    # A date-only value is midnight in the site's zone (Stockholm, UTC+1 in November), in UTC.
    assert made.json()["fields"]["EndDate"] == "2026-11-01T23:00:00Z"
    model.advance(hours=2)
    edit = await client.patch(f"/_simulator/lists/Retention requests/items/{item_id}",
                              json={"as": "dpo", "fields": {"RequestStatus": "Approved"}})
    assert edit.status_code == 200

    versions = (await client.get(f"{url}/items/{item_id}/versions?$expand=fields")).json()["value"]
    assert [v["id"] for v in versions] == ["2.0", "1.0"]
    assert versions[0]["lastModifiedBy"]["user"] == {"id": model.resolve("dpo"), "displayName": "Dana Privacy",
                                                     "email": "dpo@contoso.example"}
    assert versions[1]["lastModifiedBy"]["user"]["id"] == model.resolve("anna")
    assert versions[0]["fields"]["RequestStatus"] == "Approved"
    assert versions[1]["fields"]["RequestStatus"] == "Requested"
    assert versions[0]["lastModifiedDateTime"] > versions[1]["lastModifiedDateTime"]
    assert "fields" not in (await client.get(f"{url}/items/{item_id}/versions")).json()["value"][0]

    item = (await client.get(f"{url}/items/{item_id}?$expand=fields")).json()
    assert item["createdBy"]["user"]["id"] == model.resolve("anna")
    assert item["lastModifiedBy"]["user"]["id"] == model.resolve("dpo")
    assert item["fields"]["_UIVersionString"] == "2.0"
    unknown = await client.patch(f"/_simulator/lists/Retention requests/items/{item_id}",
                                 json={"as": "dpo", "fields": {"Nope": 1}})
    assert unknown.status_code == 400


async def test_graph_writes_are_the_apps_unless_a_user_is_named(client: httpx.AsyncClient, model: TenantModel) -> None:
    url = await _requests_list(client)
    by_app = (await client.post(f"{url}/items", json={"fields": {"Title": "from a script"}})).json()
    assert by_app["createdBy"] == {"application": {"id": "7a3b2f4e-0c1d-4e5f-9a8b-6c7d8e9f0a1b",
                                                   "displayName": "teamsretention"},
                                   "user": {"displayName": "SharePoint App"}}
    patched = await client.patch(f"{url}/items/{by_app['id']}/fields", json={"RequestStatus": "Rejected"},
                                 headers={"X-Simulator-User": "nomail@contoso.example"})
    assert patched.status_code == 200 and patched.json()["RequestStatus"] == "Rejected"
    versions = (await client.get(f"{url}/items/{by_app['id']}/versions")).json()["value"]
    assert versions[0]["lastModifiedBy"] == {"user": {"id": model.resolve("nomail"), "displayName": "No Mail"}}
    assert "id" not in versions[1]["lastModifiedBy"]["user"]


async def test_list_delta_full_then_changes_then_deletions_and_an_unchanged_list_is_one_request(
        client: httpx.AsyncClient, model: TenantModel) -> None:
    url = await _requests_list(client)
    model.knobs.page_size = 2
    for n in range(3):
        await client.post("/_simulator/lists/Retention requests/items", json={"as": "anna", "fields": {"Title": f"r{n}"}})
    items, pages, link = await follow_delta(client, f"{url}/items/delta?$expand=fields")
    assert [i["id"] for i in items] == ["1", "2", "3"] and len(pages) == 2
    assert all("fields" in i and "lastModifiedBy" not in i for i in items)  # fields kept on the nextLink
    assert items[0]["createdBy"] == {"user": {"displayName": "Anna Berg"}}  # delta: the name only

    model.requests.reset()
    unchanged = (await client.get(link)).json()
    assert unchanged["value"] == [] and "@odata.deltaLink" in unchanged
    assert model.requests.count("list.") == 1

    await client.patch("/_simulator/lists/Retention requests/items/2", json={"as": "dpo", "fields": {"Title": "x"}})
    assert (await client.delete("/_simulator/lists/Retention requests/items/3")).status_code == 204
    changes, _, _ = await follow_delta(client, unchanged["@odata.deltaLink"])
    assert changes[0]["id"] == "2" and changes[0]["fields"]["Title"] == "x"
    assert changes[1] == {"id": "3", "parentReference": {"siteId": model.records_site_id},
                          "deleted": {"state": "deleted"}}
    assert (await client.get(f"{url}/items/3")).status_code == 404


async def test_an_expired_list_token_answers_410_with_a_fresh_start(client: httpx.AsyncClient,
                                                                    model: TenantModel) -> None:
    url = await _requests_list(client)
    _, _, link = await follow_delta(client, f"{url}/items/delta?$expand=fields")
    model.knobs.expire_delta_tokens = True
    gone = await client.get(link)
    assert gone.status_code == 410 and gone.headers["Location"].endswith("/items/delta?$expand=fields")


async def test_transitive_member_of_lists_nested_groups(client: httpx.AsyncClient, model: TenantModel) -> None:
    dpo = model.resolve("dpo")
    cast = await client.get(f"/v1.0/users/{dpo}/transitiveMemberOf/microsoft.graph.group?$count=true",
                            headers={"ConsistencyLevel": "eventual"})
    assert {g["id"] for g in cast.json()["value"]} == {model.resolve("dpo-office"), model.resolve("compliance")}
    assert cast.json()["@odata.count"] == 2
    refused = await client.get(f"/v1.0/users/{dpo}/transitiveMemberOf/microsoft.graph.group")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "Request_UnsupportedQuery"
    plain = (await client.get(f"/v1.0/users/{dpo}/transitiveMemberOf")).json()["value"]
    assert {g["@odata.type"] for g in plain} == {"#microsoft.graph.group"}
    assert (await client.get(f"/v1.0/users/{model.resolve('anna')}/transitiveMemberOf")).json()["value"] == []
    assert (await client.get("/v1.0/users/nobody/transitiveMemberOf")).status_code == 404


async def test_the_controls_list_the_lists_and_show_an_items_history(client: httpx.AsyncClient) -> None:
    await _requests_list(client)
    await client.post("/_simulator/lists/Retention requests/items", json={"as": "anna", "fields": {"Title": "a"}})
    await client.patch("/_simulator/lists/Retention requests/items/1", json={"as": "dpo", "fields": {"Title": "b"}})
    listed = (await client.get("/_simulator/lists")).json()["value"]
    assert [(x["displayName"], x["items"]) for x in listed] == [("Retention requests", 1)]
    history = (await client.get("/_simulator/lists/Retention requests/items/1")).json()
    assert [(v["id"], v["by"]) for v in history["versions"]] == [("2.0", "dpo@contoso.example"),
                                                                 ("1.0", "anna@contoso.example")]
    assert (await client.post("/_simulator/lists/Nope/items", json={"fields": {}})).status_code == 404
    bad_user = await client.post("/_simulator/lists/Retention requests/items", json={"as": "ghost", "fields": {}})
    assert bad_user.status_code == 404


async def test_a_teams_own_site_can_hold_the_lists() -> None:
    model = load_scenario("""
[[users]]
key = "anna"
[[teams]]
key = "sales"
display_name = "Sales"
members = ["anna"]
[records_site]
team = "sales"
""", epoch=EPOCH)
    async with client_for(model) as client:
        site = (await client.get("/v1.0/sites/contoso.sharepoint.com:/sites/Sales")).json()
        assert site["id"] == model.records_site_id
        made = await client.post(f"/v1.0/sites/{site['id']}/lists", json={"displayName": "Assignments", "columns": []})
        assert made.status_code == 201
        assert made.json()["webUrl"] == "https://contoso.sharepoint.com/sites/Sales/Lists/Assignments"
