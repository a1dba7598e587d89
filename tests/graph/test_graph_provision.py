"""``provision``'s exact requests on a first run, pinned with respx: the site by URL, each list looked up by
title, created as a genericList with its columns, and re-read for its URL and columns."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from graph_fakes import GRAPH

from teamsretention.graph import MsGraphGateway
from teamsretention.lists import ASSIGNMENTS
from teamsretention.workflows import provision as workflow

pytestmark = pytest.mark.anyio

SITE_URL = "https://contoso.sharepoint.com/sites/records"
SITE_ID = "contoso.sharepoint.com,2C712604-1370-44E7-A1F5-426573FDA80A,2D2244C3-251A-49EA-93A8-39E1C3A060FE"
NO_LIST = {"error": {"code": "itemNotFound", "message": "The specified list was not found"}}


async def test_the_exact_requests_of_a_first_run(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    get_site = graph.get(url__eq=f"{GRAPH}/sites/contoso.sharepoint.com:/sites/records?"
                                 "$select=id,webUrl,displayName").respond(
        200, json={"id": SITE_ID, "displayName": "Records", "webUrl": SITE_URL})
    lookups = graph.get(url__regex=rf"{GRAPH}/sites/{SITE_ID}/lists/[^/?]+\?\$expand=columns").mock(side_effect=[
        httpx.Response(404, json=NO_LIST),
        httpx.Response(200, json={"id": "l-1", "displayName": "Assignments", "webUrl": f"{SITE_URL}/Lists/Assignments",
                                  "columns": [{"name": "Title", "text": {}}]}),
        httpx.Response(404, json=NO_LIST),
        httpx.Response(200, json={"id": "l-2", "displayName": "Retention requests",
                                  "webUrl": f"{SITE_URL}/Lists/Retention%20requests",
                                  "columns": [{"name": "Title", "text": {}}]})])
    create = graph.post(url__eq=f"{GRAPH}/sites/{SITE_ID}/lists").mock(side_effect=[
        httpx.Response(201, json={"id": "l-1", "displayName": "Assignments", "list": {"template": "genericList"}}),
        httpx.Response(201, json={"id": "l-2", "displayName": "Retention requests"})])

    report = await workflow.provision(gateway, SITE_URL, workflow.targets("Assignments", "Retention requests"))

    assert get_site.call_count == 1 and create.call_count == 2
    assert [c.request.url.raw_path.decode().split("/lists/")[1].split("?")[0] for c in lookups.calls] == [
        "Assignments", "Assignments", "Retention%20requests", "Retention%20requests"]
    bodies = [json.loads(c.request.content) for c in create.calls]
    assert [b["displayName"] for b in bodies] == ["Assignments", "Retention requests"]
    assert [c["name"] for c in bodies[0]["columns"]] == [c.name for c in ASSIGNMENTS.columns]
    assert all(b["list"] == {"template": "genericList"} for b in bodies)
    assert [o.web_url for o in report.lists] == [f"{SITE_URL}/Lists/Assignments",
                                                f"{SITE_URL}/Lists/Retention%20requests"]
    assert report.changed and report.problems == []
