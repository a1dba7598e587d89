"""Users, groups, teams and their drives against pinned Graph requests."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import respx
from graph_fakes import GRAPH, graph_error

from teamsretention.domain import DriveKind, Person
from teamsretention.errors import ForbiddenError, GraphError
from teamsretention.graph import MsGraphGateway
from teamsretention.ports import DriveRef, Team

pytestmark = pytest.mark.anyio

USER_SELECT = "$select=id,displayName,userPrincipalName,mail,accountEnabled,preferredLanguage"
USERS_DELTA = f"{GRAPH}/users/delta?{USER_SELECT}"
GROUPS_DELTA = f"{GRAPH}/groups/delta?$select=id,displayName,resourceProvisioningOptions"
RYAN = "efee1b77-fb3b-4f65-99d6-274c11914d12"
TEAM = "32e3b156-66b2-4135-9aeb-73295a35a55b"
BATCH = f"{GRAPH}/$batch"


def user(user_id: str = RYAN, **fields: Any) -> dict[str, Any]:
    return {"id": user_id, "displayName": "Ryan Gregg", "userPrincipalName": "ryan@contoso.com",
            "mail": "ryan@contoso.com", "accountEnabled": True, "preferredLanguage": "sv-SE", **fields}


async def collect(pages: Any) -> list[Any]:
    return [page async for page in pages]


async def test_users_delta_pages_removed_users_and_delta_link(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    page2 = f"{GRAPH}/users/delta?$skiptoken=pAgE2"
    delta = f"{GRAPH}/users/delta?$deltatoken=dElTa"
    first = graph.get(url__eq=USERS_DELTA).respond(200, json={
        "@odata.context": f"{GRAPH}/$metadata#users(id,displayName)",
        "value": [user(), user("u-2", mail=None, accountEnabled=False, preferredLanguage=None,
                               userPrincipalName="kim@contoso.com", displayName="Kim")],
        "@odata.nextLink": page2})
    graph.get(url__eq=page2).respond(200, json={
        "value": [{"id": "u-3", "@removed": {"reason": "changed"}}], "@odata.deltaLink": delta})

    pages = await collect(gateway.users_delta(None))

    assert first.call_count == 1
    assert [p.reset for p in pages] == [True, False] and pages[-1].delta_link == delta
    ryan, kim = pages[0].users
    assert ryan == Person(id=RYAN, display_name="Ryan Gregg", upn="ryan@contoso.com", mail="ryan@contoso.com",
                          preferred_language="sv-SE", account_enabled=True)
    assert not kim.reachable and kim.mail is None and not kim.account_enabled
    assert pages[1].removed_ids == ["u-3"] and pages[1].users == []


async def test_users_delta_replays_link_and_rereads_a_partial_update(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    delta = f"{GRAPH}/users/delta?$deltatoken=dElTa"
    graph.get(url__eq=delta).respond(200, json={
        "value": [{"id": RYAN, "mail": "ryan.gregg@contoso.com"}],  # only the changed property
        "@odata.deltaLink": f"{GRAPH}/users/delta?$deltatoken=n3xt"})
    reread = graph.get(url__eq=f"{GRAPH}/users/{RYAN}?{USER_SELECT}").respond(
        200, json=user(mail="ryan.gregg@contoso.com"))

    [page] = await collect(gateway.users_delta(delta))

    assert not page.reset and reread.call_count == 1
    assert page.users[0].upn == "ryan@contoso.com" and page.users[0].mail == "ryan.gregg@contoso.com"


async def test_a_renamed_user_without_mail_in_the_delta_entry_keeps_the_mailbox(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    # The entry names the user but leaves `mail` out: read as "no mailbox" it would send the organizer's
    # warnings to the fallback contact. It is re-read instead.
    delta = f"{GRAPH}/users/delta?$deltatoken=dElTa"
    graph.get(url__eq=delta).respond(200, json={
        "value": [{"id": RYAN, "displayName": "Ryan G.", "userPrincipalName": "ryan.g@contoso.com"}],
        "@odata.deltaLink": f"{GRAPH}/users/delta?$deltatoken=n3xt"})
    reread = graph.get(url__eq=f"{GRAPH}/users/{RYAN}?{USER_SELECT}").respond(
        200, json=user(displayName="Ryan G.", userPrincipalName="ryan.g@contoso.com"))

    [page] = await collect(gateway.users_delta(delta))

    assert reread.call_count == 1
    assert page.users[0].mail == "ryan@contoso.com" and page.users[0].preferred_language == "sv-SE"


async def test_get_user_and_unknown_user(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=f"{GRAPH}/users/{RYAN}?{USER_SELECT}").respond(200, json=user())
    graph.get(url__eq=f"{GRAPH}/users/nobody?{USER_SELECT}").respond(404, json=graph_error(
        "Request_ResourceNotFound", "Resource 'nobody' does not exist or one of its queried reference-property "
        "objects are not present."))

    assert (await gateway.get_user(RYAN)) is not None
    assert await gateway.get_user("nobody") is None


async def test_group_members_follow_next_link(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    # The user cast is an advanced query: ConsistencyLevel and $count=true on every page.
    url = f"{GRAPH}/groups/g1/transitiveMembers/microsoft.graph.user?$select=id&$count=true"
    page2 = f"{GRAPH}/groups/g1/transitiveMembers/microsoft.graph.user?$select=id&$count=true&$skiptoken=X"
    first = graph.get(url__eq=url).respond(200, json={
        "value": [{"@odata.type": "#microsoft.graph.user", "id": "u-1"}], "@odata.nextLink": page2})
    second = graph.get(url__eq=page2).respond(200, json={
        "value": [{"@odata.type": "#microsoft.graph.user", "id": "u-2"}]})

    assert await gateway.group_member_ids("g1") == {"u-1", "u-2"}
    assert [r.calls.last.request.headers["ConsistencyLevel"] for r in (first, second)] == ["eventual", "eventual"]


async def test_group_members_without_the_cast_when_graph_refuses_it(gateway: MsGraphGateway,
                                                                    graph: respx.MockRouter) -> None:
    graph.get(url__eq=f"{GRAPH}/groups/g1/transitiveMembers/microsoft.graph.user?$select=id&$count=true").respond(
        400, json={"error": {"code": "Request_UnsupportedQuery", "message": "Unsupported Query."}})
    graph.get(url__eq=f"{GRAPH}/groups/g1/transitiveMembers?$select=id").respond(200, json={"value": [
        {"@odata.type": "#microsoft.graph.user", "id": "u-1"},
        {"@odata.type": "#microsoft.graph.group", "id": "g-nested"},
        {"@odata.type": "#microsoft.graph.device", "id": "d-1"}]})

    assert await gateway.group_member_ids("g1") == {"u-1"}


def batch_answer(*responses: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"responses": list(responses)})


def inner(rid: str, status: int, body: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
    return {"id": rid, "status": status, "headers": {"Content-Type": "application/json", **headers},
            **({"body": body} if body is not None else {})}


def batch_urls(route: respx.Route) -> list[list[str]]:
    return [[r["url"] for r in json.loads(call.request.content)["requests"]] for call in route.calls]


async def test_onedrive_lookups_go_in_one_batch_and_a_never_provisioned_onedrive_is_none(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    route = graph.post(BATCH).mock(return_value=batch_answer(
        inner("2", 404, graph_error("itemNotFound", "The resource could not be found.")),
        inner("1", 200, {
            "id": "b!t18F8ybsHUq1z3LTz8xvZqP8zaSWjkFNhsME", "driveType": "business",
            "owner": {"user": {"id": RYAN, "displayName": "Ryan Gregg"}},
            "webUrl": "https://contoso-my.sharepoint.com/personal/ryan_contoso_com/Documents",
            "quota": {"deleted": 256938, "remaining": 1099447353539, "state": "normal", "total": 1099511627776}}),
        inner("3", 403, graph_error("accessDenied", "Access denied"))))

    found = await gateway.get_user_drives([Person(id=RYAN, upn="ryan@contoso.com"),
                                           Person(id="u-new", upn="new@contoso.com"), Person(id="u-3")])

    assert route.call_count == 1
    assert json.loads(route.calls[0].request.content) == {"requests": [
        {"id": "1", "method": "GET", "url": f"/users/{RYAN}/drive"},
        {"id": "2", "method": "GET", "url": "/users/u-new/drive"},
        {"id": "3", "method": "GET", "url": "/users/u-3/drive"}]}
    drive = found[RYAN]
    assert isinstance(drive, DriveRef) and drive.id == "b!t18F8ybsHUq1z3LTz8xvZqP8zaSWjkFNhsME"
    assert drive.kind is DriveKind.ONEDRIVE and drive.owner_id == RYAN and drive.name == "ryan@contoso.com"
    assert drive.web_url == "https://contoso-my.sharepoint.com/personal/ryan_contoso_com/Documents"
    assert found["u-new"] is None  # 404: Graph never provisions a OneDrive for an app
    # 403 is an error, not a missing drive: the user is left out of this cycle, not counted as without one
    assert isinstance(found["u-3"], ForbiddenError) and found["u-3"].code == "accessDenied"


async def test_a_throttled_onedrive_lookup_is_asked_again_and_forty_five_users_take_three_batches(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    throttled = {"u-07"}

    def answer(request: httpx.Request) -> httpx.Response:
        out = []
        for r in json.loads(request.content)["requests"]:
            uid = r["url"].split("/")[2]
            if uid in throttled:
                throttled.discard(uid)  # answered the second time
                out.append(inner(r["id"], 429, graph_error("TooManyRequests", "Slow down"), **{"Retry-After": "0"}))
            else:
                out.append(inner(r["id"], 200, {"id": f"drive-{uid}"}))
        return batch_answer(*out)

    route = graph.post(BATCH).mock(side_effect=answer)
    users = [Person(id=f"u-{n:02d}") for n in range(45)]

    found = await gateway.get_user_drives(users)

    assert {uid: d.id for uid, d in found.items() if isinstance(d, DriveRef)} == {u.id: f"drive-{u.id}" for u in users}
    assert sorted(len(urls) for urls in batch_urls(route)) == [1, 5, 20, 20]  # the throttled one, alone, again
    assert ["/users/u-07/drive"] in batch_urls(route)



async def test_teams_delta_keeps_teams_and_reports_groups_that_are_not_teams(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=GROUPS_DELTA).respond(200, json={"value": [
        {"id": TEAM, "displayName": "Sales", "resourceProvisioningOptions": ["Team"]},
        {"id": "g-plain", "displayName": "All staff", "resourceProvisioningOptions": []},
        {"id": "g-renamed", "displayName": "Renamed"},  # an update without the property: unknown
        {"id": "g-deleted", "@removed": {"reason": "deleted"}},
    ], "@odata.deltaLink": f"{GRAPH}/groups/delta?$deltatoken=g1"})

    [page] = await collect(gateway.teams_delta(None))

    assert page.reset and page.teams == [Team(id=TEAM, display_name="Sales")]
    assert sorted(page.removed_ids) == ["g-deleted", "g-plain"]


async def test_team_drives_are_the_site_library_plus_private_and_shared_channel_drives(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=f"{GRAPH}/groups/{TEAM}/drive").respond(200, json={
        "id": "b!site", "driveType": "documentLibrary", "webUrl": "https://contoso.sharepoint.com/sites/Sales/Shared%20Documents"})
    graph.get(url__eq=f"{GRAPH}/teams/{TEAM}/channels?$select=id,displayName,membershipType").respond(200, json={
        "value": [
            {"id": "19:general@thread.tacv2", "displayName": "General", "membershipType": "standard"},
            {"id": "19:private@thread.tacv2", "displayName": "Board", "membershipType": "private"},
            {"id": "19:shared@thread.tacv2", "displayName": "Partners", "membershipType": "shared"},
            {"id": "19:again@thread.tacv2", "displayName": "Board too", "membershipType": "private"},
        ]})
    for channel, drive in (("private", "b!board"), ("shared", "b!partners"), ("again", "b!board")):
        graph.get(url__eq=f"{GRAPH}/teams/{TEAM}/channels/19:{channel}@thread.tacv2/filesFolder").respond(200, json={
            "id": f"01{channel.upper()}", "name": channel, "createdDateTime": "0001-01-01T00:00:00Z",
            "webUrl": f"https://contoso.sharepoint.com/sites/Sales-{channel}/Shared%20Documents/{channel}",
            "parentReference": {"driveId": drive, "driveType": "documentLibrary"}, "folder": {"childCount": 7}})

    found = await gateway.get_team_drives(Team(id=TEAM, display_name="Sales"))
    drives = found.drives

    assert [d.id for d in drives] == ["b!site", "b!board", "b!partners"]  # deduplicated, standard skipped
    assert all(d.kind is DriveKind.CHANNEL and d.team_id == TEAM for d in drives)
    assert drives[1].name == "Sales / Board" and found.problems == []


def _team_with(graph: respx.MockRouter, channels: list[tuple[str, str]]) -> None:
    graph.get(url__eq=f"{GRAPH}/groups/{TEAM}/drive").respond(200, json={"id": "b!site", "driveType": "documentLibrary"})
    graph.get(url__eq=f"{GRAPH}/teams/{TEAM}/channels?$select=id,displayName,membershipType").respond(200, json={
        "value": [{"id": f"19:{c}@thread.tacv2", "displayName": name, "membershipType": "private"}
                  for c, name in channels]})


async def test_a_failing_private_channel_is_reported_and_the_teams_other_drives_governed(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    _team_with(graph, [("broken", "Board & Co"), ("fine", "Partners")])
    graph.get(url__eq=f"{GRAPH}/teams/{TEAM}/channels/19:broken@thread.tacv2/filesFolder").respond(
        404, json={"error": {"code": "itemNotFound", "message": "Sharepoint folder not found."}})
    graph.get(url__eq=f"{GRAPH}/teams/{TEAM}/channels/19:fine@thread.tacv2/filesFolder").respond(200, json={
        "id": "01F", "name": "Partners", "parentReference": {"driveId": "b!partners", "driveType": "documentLibrary"}})

    found = await gateway.get_team_drives(Team(id=TEAM, display_name="Sales"))

    assert [d.id for d in found.drives] == ["b!site", "b!partners"]
    assert len(found.problems) == 1 and "'Board & Co'" in found.problems[0]
    assert "Sharepoint folder not found." in found.problems[0] and "404" in found.problems[0]


ROOT_URL = "https://contoso.sharepoint.com/sites/Sales-Board/Shared%20Documents"
SHARE = "u!" + base64.urlsafe_b64encode(ROOT_URL.encode()).decode().rstrip("=")


def _migrated_channel(graph: respx.MockRouter) -> None:
    _team_with(graph, [("board", "Board")])
    graph.get(url__eq=f"{GRAPH}/teams/{TEAM}/channels/19:board@thread.tacv2/filesFolder").respond(200, json={
        "id": "01ROOT", "name": "root", "root": {}, "webUrl": ROOT_URL, "folder": {"childCount": 3}})


async def test_a_migrated_channel_answering_its_root_is_resolved_through_the_shares_api(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    _migrated_channel(graph)
    graph.get(url__eq=f"{GRAPH}/shares/{SHARE}/driveItem?$select=id,webUrl,parentReference").respond(200, json={
        "id": "01ROOT", "webUrl": ROOT_URL, "parentReference": {"driveId": "b!board", "driveType": "documentLibrary"}})

    found = await gateway.get_team_drives(Team(id=TEAM, display_name="Sales"))
    assert [d.id for d in found.drives] == ["b!site", "b!board"] and found.problems == []


async def test_a_migrated_channel_whose_share_has_no_drive_is_resolved_through_its_site(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    _migrated_channel(graph)
    graph.get(url__eq=f"{GRAPH}/shares/{SHARE}/driveItem?$select=id,webUrl,parentReference").respond(
        200, json={"id": "01ROOT", "webUrl": ROOT_URL})  # a drive root: no parentReference documented
    graph.get(url__eq=f"{GRAPH}/shares/{SHARE}/site?$select=id,webUrl").respond(200, json={
        "id": "contoso.sharepoint.com,1,2", "webUrl": "https://contoso.sharepoint.com/sites/Sales-Board"})
    graph.get(url__eq=f"{GRAPH}/sites/contoso.sharepoint.com,1,2/drive?$select=id,webUrl").respond(200, json={
        "id": "b!board", "webUrl": "https://CONTOSO.sharepoint.com/sites/Sales-Board/Shared Documents"})

    found = await gateway.get_team_drives(Team(id=TEAM, display_name="Sales"))
    assert [d.id for d in found.drives] == ["b!site", "b!board"] and found.problems == []


async def test_a_migrated_channel_whose_drive_cannot_be_resolved_is_reported_never_skipped(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    _migrated_channel(graph)
    graph.get(url__eq=f"{GRAPH}/shares/{SHARE}/driveItem?$select=id,webUrl,parentReference").respond(
        200, json={"id": "01ROOT"})
    graph.get(url__eq=f"{GRAPH}/shares/{SHARE}/site?$select=id,webUrl").respond(200, json={"id": "s,1,2"})
    graph.get(url__eq=f"{GRAPH}/sites/s,1,2/drive?$select=id,webUrl").respond(  # another library
        200, json={"id": "b!other", "webUrl": "https://contoso.sharepoint.com/sites/Sales-Board/Other"})

    found = await gateway.get_team_drives(Team(id=TEAM, display_name="Sales"))
    assert [d.id for d in found.drives] == ["b!site"]
    assert len(found.problems) == 1 and "'Board'" in found.problems[0]


async def test_team_owners_and_mailboxes(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__startswith=f"{GRAPH}/groups/{TEAM}/owners").respond(200, json={"value": [
        {"@odata.type": "#microsoft.graph.user", "id": "u-1", "displayName": "Ann", "userPrincipalName": "ann@c.com",
         "mail": "ann@c.com", "accountEnabled": True, "preferredLanguage": "sv-SE"},
        {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp-1"}]})
    mailboxes = graph.post(BATCH).mock(return_value=batch_answer(
        inner("1", 200, {"timeZone": "UTC"}),
        inner("2", 404, {"error": {"code": "MailboxNotEnabledForRESTAPI", "message": "The mailbox is either "
                                   "inactive, soft-deleted, or is hosted on-premise."}}),
        inner("3", 403, {"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}}),
        inner("4", 404, {"error": {"code": "itemNotFound", "message": "Not found."}}),
        inner("5", 500, {"error": {"code": "generalException", "message": "Something went wrong."}})))

    assert [o.mail for o in await gateway.team_owners(TEAM)] == ["ann@c.com"]
    found = await gateway.have_mailboxes(["u-1", "u-2", "u-3", "u-4", "u-5"])
    failed = found.pop("u-5")
    assert found == {"u-1": True, "u-2": False, "u-3": None, "u-4": None}  # 403 and another 404: cannot be told
    assert isinstance(failed, GraphError) and failed.status == 500  # failed this time: asked again next time
    assert batch_urls(mailboxes) == [[f"/users/u-{n}/mailboxSettings?$select=timeZone" for n in (1, 2, 3, 4, 5)]]
