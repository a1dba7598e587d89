"""Sites, lists, list items, versions, shares and group membership against pinned Graph requests. Response
bodies are Microsoft's documented examples (site-get, list-get, list-create, listitem-delta,
listitem-list-versions, shares-get, user-list-transitivememberof), trimmed where marked."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
import respx
from graph_fakes import GRAPH, graph_error

from teamsretention.domain import RecordingRef
from teamsretention.errors import ForbiddenError, GraphError, TransientGraphError
from teamsretention.graph import MsGraphGateway
from teamsretention.lists import ASSIGNMENTS, REQUESTS, ColumnKind
from teamsretention.ports import Identity, ListColumnInfo

pytestmark = pytest.mark.anyio

SITE = "contoso.sharepoint.com,2C712604-1370-44E7-A1F5-426573FDA80A,2D2244C3-251A-49EA-93A8-39E1C3A060FE"
LIST = "22e03ef3-6ef4-424d-a1d3-92a337807c30"
SITE_SELECT = "$select=id,webUrl,displayName"
RYAN = {"id": "CE251278-EF9E-4FE5-833C-1D89EEAE68E0", "displayName": "Ryan Gregg"}

SITE_BODY = {  # site-get
    "id": SITE, "owner": {"user": {"displayName": "Daron Spektor", "id": "5280E7FE-DC7A-4486-9490-E790D81DFEB3"}},
    "displayName": "OneDrive Team Site", "name": "1drvteam", "createdDateTime": "2017-05-09T20:56:00Z",
    "lastModifiedDateTime": "2017-05-09T20:56:01Z", "webUrl": "https://contoso.sharepoint.com/teams/1drvteam"}


async def collect(pages: Any) -> list[Any]:
    return [page async for page in pages]


# --- sites ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("given, path", [
    (SITE, f"/sites/{SITE}"),
    ("https://contoso.sharepoint.com/teams/1drvteam", "/sites/contoso.sharepoint.com:/teams/1drvteam"),
    ("https://contoso.sharepoint.com/sites/Records%20Office/", "/sites/contoso.sharepoint.com:/sites/Records%20Office"),
    ("contoso.sharepoint.com:/sites/records", "/sites/contoso.sharepoint.com:/sites/records"),
])
async def test_a_site_by_id_url_or_host_path(gateway: MsGraphGateway, graph: respx.MockRouter,
                                             given: str, path: str) -> None:
    route = graph.get(url__eq=f"{GRAPH}{path}?{SITE_SELECT}").respond(200, json=SITE_BODY)

    site = await gateway.get_site(given)

    assert route.call_count == 1
    assert site is not None and site.id == SITE and site.web_url == "https://contoso.sharepoint.com/teams/1drvteam"
    assert site.display_name == "OneDrive Team Site"


async def test_an_unknown_site_is_none_and_a_refusal_is_raised(gateway: MsGraphGateway,
                                                               graph: respx.MockRouter) -> None:
    graph.get(url__eq=f"{GRAPH}/sites/contoso.sharepoint.com:/sites/gone?{SITE_SELECT}").respond(
        404, json=graph_error("itemNotFound", "Requested site could not be found"))
    graph.get(url__eq=f"{GRAPH}/sites/contoso.sharepoint.com:/sites/secret?{SITE_SELECT}").respond(
        403, json=graph_error("accessDenied", "Access denied"))

    assert await gateway.get_site("https://contoso.sharepoint.com/sites/gone") is None
    with pytest.raises(ForbiddenError):
        await gateway.get_site("https://contoso.sharepoint.com/sites/secret")


# --- lists and columns -----------------------------------------------------------------------------

LIST_WITH_COLUMNS = {  # list-get with $expand=columns (column bodies from columndefinition's JSON shape)
    "id": LIST, "name": "Assignments", "displayName": "Assignments",
    "webUrl": "https://contoso.sharepoint.com/teams/1drvteam/Lists/Assignments",
    "createdDateTime": "2016-08-30T08:32:00Z", "lastModifiedDateTime": "2016-08-30T08:32:00Z",
    "list": {"hidden": False, "template": "genericList"},
    "columns": [
        {"columnGroup": "Custom Columns", "description": "", "displayName": "Title", "enforceUniqueValues": False,
         "hidden": False, "id": "fa564e0f-0c70-4ab9-b863-0177e6ddd247", "indexed": False, "name": "Title",
         "readOnly": False, "required": True,
         "text": {"allowMultipleLines": False, "appendChangesToExistingText": False, "linesForEditing": 0,
                  "maxLength": 255}},
        {"description": "", "displayName": "Status", "hidden": False, "id": "11a2f5ec-3ef6-4bba-95c8-1a3bb5d1e7b4",
         "name": "AssignmentStatus", "readOnly": False, "required": True,
         "choice": {"allowTextEntry": False, "choices": ["Active", "Closed"], "displayAs": "dropDownMenu"}},
        {"description": "", "displayName": "Opened", "name": "OpenedOn", "readOnly": False, "required": False,
         "dateTime": {"displayAs": "default", "format": "dateOnly"}},
        {"displayName": "Notes", "name": "Notes", "text": {"allowMultipleLines": True, "textType": "plain"}},
        {"displayName": "Modified", "name": "Modified", "readOnly": True, "dateTime": {"format": "dateTime"}},
        {"displayName": "Created By", "name": "Author", "readOnly": True, "personOrGroup": {}},
    ]}


async def test_a_list_by_title_with_its_columns_in_one_request(gateway: MsGraphGateway,
                                                               graph: respx.MockRouter) -> None:
    route = graph.get(url__eq=f"{GRAPH}/sites/{SITE}/lists/Retention%20requests?$expand=columns").respond(
        200, json={**LIST_WITH_COLUMNS, "displayName": "Retention requests"})

    found = await gateway.get_list(SITE, "Retention requests")

    assert route.call_count == 1 and found is not None
    assert found.id == LIST and found.display_name == "Retention requests"
    assert found.web_url.endswith("/Lists/Assignments")
    by_name = {c.name: c for c in found.columns}
    assert by_name["Title"] == ListColumnInfo("Title", "Title", "text", required=True)
    assert by_name["AssignmentStatus"] == ListColumnInfo("AssignmentStatus", "Status", "choice",
                                                         choices=("Active", "Closed"), required=True)
    assert by_name["OpenedOn"].kind == "dateTime"
    assert by_name["Notes"].kind == "text" and by_name["Notes"].multiline
    assert by_name["Modified"].read_only and by_name["Author"].kind == "personOrGroup"


async def test_a_missing_list_is_none(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=f"{GRAPH}/sites/{SITE}/lists/Assignments?$expand=columns").respond(
        404, json=graph_error("itemNotFound", "The specified list was not found"))

    assert await gateway.get_list(SITE, "Assignments") is None


async def test_create_list_sends_a_generic_list_with_every_column(gateway: MsGraphGateway,
                                                                  graph: respx.MockRouter) -> None:
    created = {  # list-create's documented answer (it names no columns), then the list re-read
        "id": LIST, "createdDateTime": "2017-04-30T01:21:00Z",
        "createdBy": {"user": {"displayName": "Ryan Gregg", "id": "8606e4d5-d582-4f5f-aeba-7d7c18b27cfd"}},
        "displayName": "Retention requests", "lastModifiedDateTime": "2016-08-30T08:32:00Z",
        "list": {"hidden": False, "template": "genericList"}}
    post = graph.post(url__eq=f"{GRAPH}/sites/{SITE}/lists").respond(201, json=created)
    reread = graph.get(url__eq=f"{GRAPH}/sites/{SITE}/lists/Retention%20requests?$expand=columns").respond(
        200, json={**LIST_WITH_COLUMNS, "displayName": "Retention requests"})

    info = await gateway.create_list(SITE, "Retention requests", REQUESTS.columns)

    assert post.call_count == 1 and reread.call_count == 1 and info.id == LIST
    body = json.loads(post.calls[0].request.content)
    assert body["displayName"] == "Retention requests" and body["list"] == {"template": "genericList"}
    columns = {c["name"]: c for c in body["columns"]}
    assert list(columns) == [c.name for c in REQUESTS.columns]
    assert columns["RequestKind"] == {
        "name": "RequestKind", "displayName": "Kind", "description": "", "required": True,
        "choice": {"allowTextEntry": False, "choices": ["Tag to assignment", "Exception", "Legal hold"],
                   "displayAs": "dropDownMenu"},
        "defaultValue": {"value": "Tag to assignment"}}
    assert columns["Reason"]["text"] == {"allowMultipleLines": True, "textType": "plain", "linesForEditing": 6}
    assert columns["Reason"]["required"] is True
    assert columns["AssignmentCode"]["text"] == {"allowMultipleLines": False, "maxLength": 255}
    assert columns["EndDate"]["dateTime"] == {"displayAs": "default", "format": "dateOnly"}
    assert columns["EndDate"]["required"] is False


async def test_a_create_answered_503_is_not_sent_again(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    post = graph.post(url__eq=f"{GRAPH}/sites/{SITE}/lists").respond(
        503, json=graph_error("serviceNotAvailable", "try later"))

    with pytest.raises(TransientGraphError):
        await gateway.create_list(SITE, "Assignments", ASSIGNMENTS.columns)
    assert post.call_count == 1


async def test_add_list_column_posts_the_column_definition(gateway: MsGraphGateway,
                                                           graph: respx.MockRouter) -> None:
    post = graph.post(url__eq=f"{GRAPH}/sites/{SITE}/lists/{LIST}/columns").respond(201, json={
        "id": "99ddcf45-e2f7-4f17-82b0-6fba34445103", "name": "ClosedOn", "displayName": "Closed",
        "dateTime": {"displayAs": "default", "format": "dateOnly"}})

    await gateway.add_list_column(SITE, LIST, ASSIGNMENTS.column("ClosedOn"))

    assert json.loads(post.calls[0].request.content) == {
        "name": "ClosedOn", "displayName": "Closed", "description": "Set when Status is Closed", "required": False,
        "dateTime": {"displayAs": "default", "format": "dateOnly"}}
    assert ASSIGNMENTS.column("ClosedOn").kind is ColumnKind.DATE


# --- list items delta ---------------------------------------------------------------------------------

DELTA = f"{GRAPH}/sites/{SITE}/lists/{LIST}/items/delta"


def delta_item(item_id: str, **fields: Any) -> dict[str, Any]:
    """listitem-delta's example 1 item, with the fields $expand=fields adds."""
    return {"createdDateTime": "2020-06-02T22:46:58Z", "eTag": "\"{12AD05BB-59B8-43AA-9456-77C44E9BC066},756\"",
            "id": item_id, "lastModifiedDateTime": "2021-10-14T23:27:27Z",
            "webUrl": f"https://contoso.sharepoint.com/teams/1drvteam/Lists/Assignments/{item_id}_.000",
            "createdBy": {"user": {"displayName": "John doe"}},
            "parentReference": {"id": "1", "siteId": "12AD05BB-59B8-43AA-9456-77C44E9BC066"},
            "contentType": {"id": "0x0100123456789abc", "name": "Item"},
            "fields": {"@odata.etag": "\"12ad05bb-59b8-43aa-9456-77c44e9bc066,756\"", "id": item_id, **fields}}


async def test_list_delta_expands_fields_pages_and_reports_deletions(gateway: MsGraphGateway,
                                                                     graph: respx.MockRouter) -> None:
    page2 = f"{DELTA}?token=1230919asd190410jlka"
    final = f"{DELTA}?token=n3xt"
    first = graph.get(url__eq=f"{DELTA}?$expand=fields").respond(200, json={
        "value": [delta_item("1", Title="ACME-0042", AssignmentStatus="Active", OpenedOn="2026-10-31T23:00:00Z")],
        "@odata.nextLink": page2})
    graph.get(url__eq=page2).respond(200, json={"value": [
        delta_item("1", Title="ACME-0042", AssignmentStatus="Closed"),
        {"id": "3", "parentReference": {"siteId": "12AD05BB-59B8-43AA-9456-77C44E9BC066"},
         "contentType": {"id": "0x00123456789abc", "name": "Document"}, "deleted": {"state": "deleted"}},
    ], "@odata.deltaLink": final})

    pages = await collect(gateway.list_items_delta(SITE, LIST, None))

    assert first.call_count == 1
    assert [p.reset for p in pages] == [True, False] and pages[-1].delta_link == final
    item = pages[0].items[0]
    assert item.fields == {"id": "1", "Title": "ACME-0042", "AssignmentStatus": "Active",
                           "OpenedOn": "2026-10-31T23:00:00Z"}
    assert item.created_by == Identity(None, "John doe")
    assert item.created_at == dt.datetime(2020, 6, 2, 22, 46, 58, tzinfo=dt.UTC)
    assert item.etag == "\"{12AD05BB-59B8-43AA-9456-77C44E9BC066},756\"" and not item.deleted
    assert pages[1].items[0].fields["AssignmentStatus"] == "Closed"
    assert pages[1].items[1].id == "3" and pages[1].items[1].deleted and pages[1].items[1].fields == {}


async def test_an_unchanged_list_costs_one_request(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    stored = f"{DELTA}?token=n3xt"
    route = graph.get(url__eq=stored).respond(200, json={"value": [], "@odata.deltaLink": stored})

    [page] = await collect(gateway.list_items_delta(SITE, LIST, stored))

    assert route.call_count == 1 and page.items == [] and not page.reset and page.delta_link == stored


async def test_an_expired_list_token_restarts_from_the_location(gateway: MsGraphGateway,
                                                                graph: respx.MockRouter) -> None:
    stored, restart = f"{DELTA}?token=old", f"{DELTA}?token=fresh"
    graph.get(url__eq=stored).respond(410, headers={"Location": restart},
                                      json=graph_error("resyncChangesApplyDifferences", "Resync required"))
    graph.get(url__eq=restart).respond(200, json={"value": [delta_item("2", Title="X")],
                                                  "@odata.deltaLink": f"{DELTA}?token=new"})

    [page] = await collect(gateway.list_items_delta(SITE, LIST, stored))

    assert page.reset and [i.id for i in page.items] == ["2"]


# --- versions -------------------------------------------------------------------------------------------

async def test_versions_are_read_with_their_fields_newest_first(gateway: MsGraphGateway,
                                                                graph: respx.MockRouter) -> None:
    url = f"{GRAPH}/sites/{SITE}/lists/{LIST}/items/7/versions?$expand=fields"
    page2 = f"{GRAPH}/sites/{SITE}/lists/{LIST}/items/7/versions?$skiptoken=2"
    graph.get(url__eq=url).respond(200, json={"value": [  # listitem-list-versions, with fields expanded
        {"id": "3.0", "lastModifiedBy": {"user": {**RYAN, "email": "ryan@contoso.com"}},
         "lastModifiedDateTime": "2017-09-14T12:34:53.912Z",
         "fields": {"@odata.etag": "\"x,3\"", "RequestStatus": "Approved"}},
        {"id": "2.0", "lastModifiedBy": {"user": RYAN}, "lastModifiedDateTime": "2017-09-11T10:21:03.000Z",
         "fields": {"RequestStatus": "Requested"}},
    ], "@odata.nextLink": page2})
    graph.get(url__eq=page2).respond(200, json={"value": [
        {"id": "1.0", "lastModifiedBy": {"application": {"id": "app", "displayName": "Flow"}},
         "lastModifiedDateTime": "2017-09-10T15:20:01.125Z"}]})

    versions = await gateway.list_item_versions(SITE, LIST, "7")

    assert [v.id for v in versions] == ["3.0", "2.0", "1.0"]
    assert versions[0].modified_by == Identity(RYAN["id"], "Ryan Gregg", "ryan@contoso.com")
    assert versions[0].fields == {"RequestStatus": "Approved"}
    assert versions[0].modified_at == dt.datetime(2017, 9, 14, 12, 34, 53, 912000, tzinfo=dt.UTC)
    assert versions[1].modified_by == Identity(RYAN["id"], "Ryan Gregg")
    assert versions[2].modified_by is None and versions[2].fields == {}


# --- shares and group membership ------------------------------------------------------------------------

RECORDING_URL = ("https://contoso-my.sharepoint.com/personal/anna_contoso_com/Documents/Recordings/"
                 "Kickoff-20261101_100000-Meeting%20Recording.mp4")


def share(url: str) -> str:
    return "u!" + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


async def test_a_recording_url_resolves_through_the_shares_api(gateway: MsGraphGateway,
                                                               graph: respx.MockRouter) -> None:
    route = graph.get(url__eq=f"{GRAPH}/shares/{share(RECORDING_URL)}/driveItem?"
                              "$select=id,name,webUrl,parentReference").respond(200, json={
        "id": "01BYE5RZ5MYLM2SMX75ZBIPQZIHT6OAYPB", "name": "Kickoff-20261101_100000-Meeting Recording.mp4",
        "webUrl": RECORDING_URL,
        "parentReference": {"driveId": "b!-RIj2DuyvEyV1T4NlOaMHk8XkS_I8MdFlUCq1BlcjgmhRfAj3-Z8RY2VpuvV_tpd",
                            "driveType": "business", "id": "01BYE5RZ56Y2GOVW7725BZO354PWSELRRZ"}})

    found = await gateway.resolve_share(RECORDING_URL + "  ")

    assert route.call_count == 1 and found is not None
    assert found.ref == RecordingRef("b!-RIj2DuyvEyV1T4NlOaMHk8XkS_I8MdFlUCq1BlcjgmhRfAj3-Z8RY2VpuvV_tpd",
                                     "01BYE5RZ5MYLM2SMX75ZBIPQZIHT6OAYPB")
    assert found.name.endswith("Meeting Recording.mp4") and found.web_url == RECORDING_URL


async def test_a_url_that_points_nowhere_is_none(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__startswith=f"{GRAPH}/shares/{share('https://contoso.sharepoint.com/nothing')}/").respond(
        404, json=graph_error("itemNotFound", "The sharing link no longer exists, or you do not have permission"))
    graph.get(url__startswith=f"{GRAPH}/shares/{share('https://elsewhere.example/x')}/").respond(
        400, json=graph_error("invalidRequest", "Invalid shares key"))

    assert await gateway.resolve_share("https://contoso.sharepoint.com/nothing") is None
    assert await gateway.resolve_share("https://elsewhere.example/x") is None


GROUP_A, GROUP_B = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


async def test_transitive_groups_use_the_advanced_query_and_page(gateway: MsGraphGateway,
                                                                 graph: respx.MockRouter) -> None:
    url = f"{GRAPH}/users/u-1/transitiveMemberOf/microsoft.graph.group?$select=id&$count=true"
    page2 = f"{GRAPH}/users/u-1/transitiveMemberOf/microsoft.graph.group?$count=true&$skiptoken=X"
    first = graph.get(url__eq=url).respond(200, json={
        "@odata.context": f"{GRAPH}/$metadata#groups(id)", "@odata.count": 2,
        "value": [{"@odata.type": "#microsoft.graph.group", "id": GROUP_A}], "@odata.nextLink": page2})
    second = graph.get(url__eq=page2).respond(200, json={"value": [{"id": GROUP_B}]})

    assert await gateway.transitive_group_ids("u-1") == {GROUP_A, GROUP_B}
    assert first.calls[0].request.headers["ConsistencyLevel"] == "eventual"
    assert second.calls[0].request.headers["ConsistencyLevel"] == "eventual"


async def test_transitive_groups_without_the_cast_when_graph_refuses_it(gateway: MsGraphGateway,
                                                                        graph: respx.MockRouter) -> None:
    graph.get(url__eq=f"{GRAPH}/users/u-1/transitiveMemberOf/microsoft.graph.group?$select=id&$count=true").respond(
        400, json=graph_error("Request_UnsupportedQuery", "Unsupported query."))
    graph.get(url__eq=f"{GRAPH}/users/u-1/transitiveMemberOf?$select=id").respond(200, json={"value": [
        {"@odata.type": "#microsoft.graph.group", "id": GROUP_A},
        {"@odata.type": "#microsoft.graph.directoryRole", "id": "role-1"},
        {"@odata.type": "#microsoft.graph.administrativeUnit", "id": "au-1"}]})

    assert await gateway.transitive_group_ids("u-1") == {GROUP_A}


async def test_transitive_groups_that_cannot_be_read_raise(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__startswith=f"{GRAPH}/users/u-1/transitiveMemberOf").respond(
        403, json=graph_error("Authorization_RequestDenied", "Insufficient privileges"))

    with pytest.raises(GraphError):
        await gateway.transitive_group_ids("u-1")


async def test_a_delta_item_without_fields_is_reread_with_them(gateway: MsGraphGateway,
                                                                graph: respx.MockRouter) -> None:
    # A resync Location that dropped $expand=fields: an item read as "no fields" would look emptied.
    bare = {k: v for k, v in delta_item("4").items() if k != "fields"}
    graph.get(url__eq=f"{DELTA}?token=resync").respond(200, json={
        "value": [bare, {k: v for k, v in delta_item("5").items() if k != "fields"}],
        "@odata.deltaLink": f"{DELTA}?token=new"})
    reread = graph.get(url__eq=f"{GRAPH}/sites/{SITE}/lists/{LIST}/items/4?$expand=fields").respond(
        200, json=delta_item("4", Title="ACME-0042"))
    graph.get(url__eq=f"{GRAPH}/sites/{SITE}/lists/{LIST}/items/5?$expand=fields").respond(
        404, json=graph_error("itemNotFound", "The specified list item was not found"))

    [page] = await collect(gateway.list_items_delta(SITE, LIST, f"{DELTA}?token=resync"))

    assert reread.call_count == 1
    assert page.items[0].fields["Title"] == "ACME-0042"
    assert page.items[1].id == "5" and page.items[1].deleted
