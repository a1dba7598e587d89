"""Conformance with Graph's v1.0 CSDL: every simulated /v1.0 route exists in v1.0, and every JSON object it
answers fits the type the route's path resolves to (tests/csdl.py reads the published metadata).

A rich scenario is driven through every route in-process; each 2xx body is checked against
``resolve_path(path)``: a collection's ``value`` items against its element type (a directoryObject's own
``@odata.type`` picks the derived type), a single entity or complex value against its type, an action with no
return type must answer no body. Error bodies are not entities and are not checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from teamsretention.simulator import TenantModel, load_scenario
from teamsretention.simulator.app import GRAPH_ROUTES
from teamsretention.simulator.sites import encode_share_id

from .. import csdl
from ._helpers import EPOCH, client_for, onedrive_of

pytestmark = pytest.mark.anyio

# Undeclared properties accepted on open types, each with the reason. Keep it short: the v1.0 defaults need
# nothing else (the beta media/source facets must NOT appear unless asked for).
ALLOWLIST = {
    "identitySet.group": "drive.owner of a team or channel library: SharePoint answers {group: {id, "
    "displayName}}, the `group` of the derived sharePointIdentitySet, without an @odata.type; identitySet "
    "is open",
    "fieldValueSet.*": "a list item's (or version's) fields are the list's columns by internal name: fieldValueSet "
    "is open and declares none",
    "identity.email": "a list item's or version's createdBy / lastModifiedBy user: SharePoint adds the account's "
    "mail address (sharePointIdentity-like); identity is open",
}

SCENARIO = """
[tenant]
domain = "contoso.example"
seed = 11

[[users]]
key = "anna"
display_name = "Anna Berg"
preferred_language = "sv-SE"
time_zone = "W. Europe Standard Time"

[[users]]
key = "bob"
display_name = "Bob Smith"

[[users]]
key = "cecilia"
has_onedrive = false

[[users]]
key = "dan"
mail = ""

[[users]]
key = "governance"
has_onedrive = false

[[teams]]
key = "sales"
display_name = "Sales"
members = ["anna", "bob"]
owners = ["anna", "bob"]
channels = [{ name = "General" }, { name = "Deals", membership = "private" }, { name = "Partners", membership = "shared" }]

[[groups]]
key = "staff"
display_name = "All staff"
members = ["sales", "dan"]
owners = ["governance"]

[[folders]]
key = "anna-recordings"
owner = "anna"
path = ["Recordings"]

[[recordings]]
key = "weekly"
organizer = "anna"
subject = "Weekly sync"
age_days = 31

[[recordings]]
key = "contract"
organizer = "anna"
subject = "Contract"
age_days = 45
label = { name = "Legal 10y", behavior = "retainAsRecord", is_delete_allowed = false, is_record_locked = true }

[[recordings]]
key = "channel-app"
channel = "sales/General"
subject = "Pipeline review"
created_by_app = "Skype Teams Services"
age_days = 12

[[recordings]]
key = "deals"
organizer = "bob"
channel = "sales/Deals"
subject = "Deal desk"
age_days = 50

[[files]]
key = "holiday"
owner = "bob"
folder = "Recordings"
name = "Holiday clip.mp4"
mime_type = "video/mp4"
age_days = 60

[records_site]
path = "/sites/records"
display_name = "Records"

[[events]]
day = 1
kind = "modify_item"
item = "anna-recordings"
name = "Old recordings"

[[events]]
day = 1
kind = "move_item"
item = "weekly"
to = ["Archive"]

[[events]]
day = 1
kind = "delete_item"
item = "holiday"

[[events]]
day = 1
kind = "disable_user"
user = "bob"

[[events]]
day = 1
kind = "remove_user"
user = "dan"

[[events]]
day = 1
kind = "replace_onedrive"
user = "bob"
"""


@dataclass
class Call:
    method: str
    path: str
    status: int
    body: Any
    prefer_unknown_enums: bool


class Recorder:
    """Makes requests and keeps what came back, for the checks after the drive."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.calls: list[Call] = []

    async def __call__(self, method: str, url: str, **kwargs: Any) -> Any:
        resp = await self.client.request(method, url, **kwargs)
        body = resp.json() if resp.content else None
        prefer = "include-unknown-enum-members" in str((kwargs.get("headers") or {}).get("Prefer", ""))
        self.calls.append(Call(method, resp.request.url.path, resp.status_code, body, prefer))
        return body

    async def follow(self, url: str, **kwargs: Any) -> str:
        """Follow nextLinks to the end; the deltaLink, if the feed has one."""
        while True:
            page = await self("GET", url, **kwargs)
            if "@odata.nextLink" not in page:
                return str(page.get("@odata.deltaLink", ""))
            url = page["@odata.nextLink"]


def _problems(call: Call, **check: Any) -> list[str]:
    type_name = csdl.resolve_path(call.path)
    where = f"{call.method} {call.path}"
    if type_name is None:
        return [f"{where}: the path does not resolve in the v1.0 CSDL"]
    if type_name == csdl.VOID or call.method == "DELETE":
        return [] if call.body is None else [f"{where}: answered a body where Graph answers none"]
    element = type_name[len("Collection(") : -1] if type_name.startswith("Collection(") else None
    allow = check.pop("allow", ALLOWLIST)
    if element is not None and call.method == "POST":  # a create answers the entity it made
        return [f"{where}: {p}" for p in csdl.check_object(element, call.body, allow=allow, **check)]
    if element is None:
        return [f"{where}: {p}" for p in csdl.check_object(type_name, call.body, allow=allow, **check)]
    out = [f"{where}: top-level {k!r} in a collection" for k in call.body if k != "value" and not k.startswith("@")]
    for item in call.body["value"]:
        out += [f"{where}: {p}" for p in csdl.check_object(element, item, allow=allow, **check)]
    return out


async def _drive_every_route(rec: Recorder, model: TenantModel) -> None:
    """Call every simulated /v1.0 route at least once with a 2xx answer, before and after the day-1 events."""
    sales, staff = model.resolve("sales"), model.resolve("staff")
    old_bob_drive = onedrive_of(model, "bob")
    links = {d: await rec.follow(f"/v1.0/drives/{d}/root/delta") for d in list(model.drives)}
    users_link = await rec.follow("/v1.0/users/delta")
    await rec.follow("/v1.0/users/delta?$select=id,displayName,userPrincipalName,mail,accountEnabled,preferredLanguage")
    groups_link = await rec.follow("/v1.0/groups/delta")

    model.advance(days=1)  # rename, move, delete, disable, remove, a re-provisioned OneDrive
    for drive_id in [d for d in links if d != old_bob_drive]:
        links[drive_id] = await rec.follow(links[drive_id])
    await rec.follow(users_link)  # bob changed, dan @removed
    await rec.follow(groups_link)
    for user in model.users.values():
        if not user.removed:
            await rec("GET", f"/v1.0/users/{user.id}")
            await rec("GET", f"/v1.0/users/{user.id}?$select=id,accountEnabled,mail")
            if user.drive_id:
                await rec("GET", f"/v1.0/users/{user.id}/drive")
            if user.has_mailbox:
                await rec("GET", f"/v1.0/users/{user.id}/mailboxSettings")
    await rec("GET", f"/v1.0/groups/{sales}/drive")
    for group in (sales, staff):
        await rec.follow(f"/v1.0/groups/{group}/owners")
        for spelling in ("transitiveMembers", "transitivemembers"):
            await rec.follow(f"/v1.0/groups/{group}/{spelling}")
            await rec.follow(
                f"/v1.0/groups/{group}/{spelling}/microsoft.graph.user?$count=true",
                headers={"ConsistencyLevel": "eventual"},
            )
    await rec("GET", f"/v1.0/teams/{sales}/channels")
    await rec("GET", f"/v1.0/teams/{sales}/channels", headers={"Prefer": "include-unknown-enum-members"})
    for channel in model.groups[sales].channels:
        await rec("GET", f"/v1.0/teams/{sales}/channels/{channel.id}/filesFolder")
    model.knobs.update({"migrated_channels": {"sales/Deals": {"parent_reference": True}}})
    await rec("GET", f"/v1.0/teams/{sales}/channels/{model.resolve('sales/Deals')}/filesFolder")
    for drive in model.drives.values():
        if drive.removed:
            continue
        await rec("GET", f"/v1.0/drives/{drive.id}")
        site = await rec("GET", f"/v1.0/shares/{encode_share_id(drive.web_url)}/site")
        await rec("GET", f"/v1.0/sites/{site['id']}")
        await rec("GET", f"/v1.0/sites/{site['id']}/drive")
        for item in [i for i in drive.items.values() if not i.deleted]:
            got = await rec("GET", f"/v1.0/drives/{drive.id}/items/{item.id}?$expand=retentionLabel")
            await rec("GET", f"/v1.0/drives/{drive.id}/items/{item.id}/retentionLabel")
            await rec("GET", f"/v1.0/shares/{encode_share_id(got['webUrl'])}/driveItem")
    await rec("POST", f"/v1.0/users/{model.resolve('governance')}/sendMail", json=_mail("anna@contoso.example"))
    weekly, deals = model.find_item("weekly"), model.find_item("deals")
    await rec("DELETE", f"/v1.0/drives/{weekly.drive_id}/items/{weekly.id}")
    await rec("POST", f"/v1.0/drives/{deals.drive_id}/items/{deals.id}/permanentDelete")
    await rec.follow(links[weekly.drive_id])  # the deleted item, as delta reports deletes
    await rec.follow(f"/v1.0/drives/{onedrive_of(model, 'bob')}/root/delta")  # the re-provisioned OneDrive
    await _drive_list_routes(rec, model)


REQUEST_COLUMNS = [
    {"name": "RecordingLink", "displayName": "Recording link", "description": "",
     "text": {"allowMultipleLines": True, "textType": "plain", "linesForEditing": 6}},
    {"name": "AssignmentCode", "displayName": "Assignment code", "text": {"allowMultipleLines": False, "maxLength": 255}},
    {"name": "RequestStatus", "displayName": "Status", "required": True, "defaultValue": {"value": "Requested"},
     "choice": {"allowTextEntry": False, "choices": ["Requested", "Approved"], "displayAs": "dropDownMenu"}},
    {"name": "EndDate", "displayName": "Keep until", "dateTime": {"displayAs": "default", "format": "dateOnly"}},
]


async def _drive_list_routes(rec: Recorder, model: TenantModel) -> None:
    """The records site, a list with columns, items edited by people and by the app, delta, versions, groups."""
    site = await rec("GET", "/v1.0/sites/contoso.sharepoint.com:/sites/records")
    lists = f"/v1.0/sites/{site['id']}/lists"
    created = await rec("POST", lists, json={"displayName": "Retention requests", "columns": REQUEST_COLUMNS,
                                             "list": {"template": "genericList"}})
    items = f"{lists}/{created['id']}/items"
    await rec("POST", f"{lists}/{created['id']}/columns", json={
        "name": "DecisionNote", "displayName": "Decision note", "text": {"allowMultipleLines": True}})
    await rec("GET", lists)
    await rec("GET", f"{lists}/{created['id']}/columns")
    await rec("GET", f"{lists}/Retention%20requests?$expand=columns")
    link = await rec.follow(f"{items}/delta?$expand=fields")
    anna = {"X-Simulator-User": "anna"}
    for n in range(4):
        await rec("POST", items, json={"fields": {"Title": f"r{n}", "EndDate": "2026-12-01"}}, headers=anna)
    await rec("POST", items, json={"fields": {"Title": "by the app"}})
    await rec("PATCH", f"{items}/1/fields", json={"RequestStatus": "Approved"}, headers={"X-Simulator-User": "bob"})
    await rec.follow(f"{items}?$expand=fields")
    await rec("GET", f"{items}/1?$expand=fields")
    await rec("GET", f"{items}/1/versions?$expand=fields")
    await rec("GET", f"{items}/1/versions")
    await rec("DELETE", f"{items}/2")
    await rec.follow(link)  # changes since the empty list: new items and the deleted one
    await rec.follow(f"{items}/delta")  # a full enumeration without fields
    anna_id = model.resolve("anna")
    await rec.follow(f"/v1.0/users/{anna_id}/transitiveMemberOf")
    await rec.follow(f"/v1.0/users/{anna_id}/transitiveMemberOf/microsoft.graph.group?$count=true",
                     headers={"ConsistencyLevel": "eventual"})


def _mail(to: str) -> dict[str, Any]:
    return {"message": {"subject": "s", "toRecipients": [{"emailAddress": {"address": to}}]}}


def _model() -> TenantModel:
    model = load_scenario(SCENARIO, epoch=EPOCH)
    model.knobs.update({"page_size": 3, "directory_page_size": 2})
    return model


async def test_every_v1_route_answers_objects_that_fit_their_csdl_type() -> None:
    model = _model()
    async with client_for(model) as client:
        rec = Recorder(client)
        await _drive_every_route(rec, model)
    ok = [c for c in rec.calls if 200 <= c.status < 300]
    assert len(ok) == len(rec.calls), [(c.method, c.path, c.status) for c in rec.calls if c.status >= 300]
    problems = [p for c in ok for p in _problems(c, include_unknown_enum_members=c.prefer_unknown_enums)]
    assert problems == []
    for route in GRAPH_ROUTES:  # and every route was exercised
        methods = route.methods or set()
        assert any(route.path_regex.match(c.path) and c.method in methods for c in ok), route.path
    kinds = {c.path.split("/")[2] for c in ok}
    assert kinds == {"users", "groups", "teams", "drives", "shares", "sites"}


async def test_every_simulated_route_template_resolves_in_the_v1_csdl() -> None:
    assert GRAPH_ROUTES
    for route in GRAPH_ROUTES:
        assert route.path.startswith("/v1.0/")
        assert csdl.resolve_path(route.path) is not None, route.path


async def test_the_check_fails_on_beta_facets_and_wrong_primitive_types(client: httpx.AsyncClient, model: TenantModel) -> None:
    item = model.find_item("anna-weekly")
    url = f"/v1.0/drives/{item.drive_id}/items/{item.id}"
    plain = (await client.get(url)).json()
    assert csdl.check_object("driveItem", plain, allow=ALLOWLIST) == []

    await client.post("/_simulator/knobs", json={"media_facets": True})
    with_facets = (await client.get(url)).json()
    problems = csdl.check_object("driveItem", with_facets, allow=ALLOWLIST)
    assert len(problems) == 2
    assert all("not declared on open type microsoft.graph.driveItem" in p for p in problems)
    assert any(".media:" in p for p in problems) and any(".source:" in p for p in problems)

    wrong = {**plain, "size": str(plain["size"]), "parentReference": {**plain["parentReference"], "driveId": 7}}
    problems = csdl.check_object("driveItem", wrong, allow=ALLOWLIST)
    assert any("driveItem.size: expected an integer (Edm.Int64)" in p for p in problems)
    assert any("parentReference.driveId: expected a string" in p for p in problems)
    late = {**plain, "lastModifiedDateTime": "yesterday", "folder": {"childCount": True}}
    problems = csdl.check_object("driveItem", late, allow=ALLOWLIST)
    assert any("lastModifiedDateTime" in p and "Edm.DateTimeOffset" in p for p in problems)
    assert any("childCount: expected an integer" in p for p in problems)


async def test_a_group_owner_needs_its_allowlist_entry(client: httpx.AsyncClient, model: TenantModel) -> None:
    drive = (await client.get(f"/v1.0/groups/{model.resolve('sales')}/drive")).json()
    assert csdl.check_object("drive", drive, allow=ALLOWLIST) == []
    assert csdl.check_object("drive", drive) == [
        "drive.owner.group: not declared on open type microsoft.graph.identitySet and not on the allowlist"
    ]
