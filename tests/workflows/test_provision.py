"""``provision`` against the simulator in-process (the production Graph adapter over httpx's ASGI transport):
both lists made, a second run changing nothing, a list a person made by hand checked column by column. The exact
requests are pinned with respx in tests/graph/test_graph_provision.py."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from kiota_http.middleware import RetryHandler

from teamsretention.errors import ConfigError
from teamsretention.graph.credentials import NoCredential
from teamsretention.graph.gateway import build_gateway
from teamsretention.lists import ASSIGNMENTS, REQUESTS
from teamsretention.simulator.app import create_app
from teamsretention.simulator.scenario import load_scenario
from teamsretention.workflows import provision as workflow

SITE_URL = "https://contoso.sharepoint.com/sites/records"
SCENARIO = """
[tenant]
domain = "contoso.example"
seed = 9

[[users]]
key = "owner"
display_name = "Site Owner"

[records_site]
path = "/sites/records"
display_name = "Records"
"""
TARGETS = workflow.targets("Assignments", "Retention requests")


@pytest.fixture(autouse=True)
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RetryHandler, "get_delay_time", lambda self, *a, **k: 0)


@pytest.fixture
def model() -> Any:
    return load_scenario(SCENARIO, epoch=dt.datetime(2026, 11, 2, 6, tzinfo=dt.UTC))


def run(model: Any, site: str | None = SITE_URL, targets: list[workflow.ListTarget] = TARGETS) -> Any:
    async def go() -> Any:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(model)))
        gateway = build_gateway("http://127.0.0.1/v1.0", NoCredential(), user_agent="NONISV|Test|teamsretention/0",
                                max_concurrency=2, http_client=http)
        try:
            return await workflow.provision(gateway, site, targets, site_source="file teamsretention.toml")
        finally:
            await gateway.aclose()

    return asyncio.run(go())


def test_both_lists_are_created_with_every_column_and_their_urls_printed(model: Any) -> None:
    report = run(model)

    assert report.changed and report.problems == []
    made = {lst.display_name: lst for lst in model.lists.values()}
    assert set(made) == {"Assignments", "Retention requests"}
    requests = made["Retention requests"]
    status = requests.column("RequestStatus")
    assert status is not None and status.definition["choice"]["choices"] == list(REQUESTS.column("RequestStatus").choices)
    assert status.definition["defaultValue"] == {"value": "Requested"} and status.definition["required"] is True
    assert requests.column("Reason").definition["text"]["allowMultipleLines"] is True
    assert made["Assignments"].column("OpenedOn").definition["dateTime"]["format"] == "dateOnly"
    lines = workflow.report_lines(report)
    assert lines[0] == f"Site: Records ({SITE_URL})"
    assert f"Created list 'Assignments' with {len(ASSIGNMENTS.columns)} columns: {SITE_URL}/Lists/Assignments" in lines
    assert f"Created list 'Retention requests' with {len(REQUESTS.columns)} columns: " \
           f"{SITE_URL}/Lists/Retention%20requests" in lines


def test_a_second_run_changes_nothing_and_says_so(model: Any) -> None:
    run(model)
    model.requests.reset()

    report = run(model)

    assert not report.changed and report.problems == []
    *_, nothing, versions = workflow.report_lines(report)
    assert nothing == "Nothing changed: both lists already exist with every column."
    assert versions.startswith("Check that both lists keep their version history")  # Graph can neither set nor read it
    assert "list.create" not in model.requests.by_kind and "list.columns.create" not in model.requests.by_kind
    assert model.requests.total_requests == 3  # the site, then each list with its columns


def test_a_missing_column_is_added_and_a_mistyped_one_reported_and_left_alone(model: Any) -> None:
    site = model.records_site_id
    by_hand = model.add_list(site, "Retention requests", [
        {"name": "RequestKind", "displayName": "Kind", "choice": {"choices": ["Tag to assignment", "Exception"]}},
        {"name": "RecordingLink", "displayName": "Recording link", "text": {"allowMultipleLines": False}},
        {"name": "EndDate", "displayName": "Keep until", "text": {}},
    ])
    model.add_list(site, "Assignments")

    report = run(model)

    problems = report.problems
    assert len(problems) == 3
    assert ("list 'Retention requests', column 'RequestKind' ('Kind'): the choice 'Legal hold' is missing; it should "
            "offer Tag to assignment, Exception, Legal hold") in problems
    assert ("list 'Retention requests', column 'RecordingLink' ('Recording link'): it is Single line of text (at "
            "most 255 characters); it should be Multiple lines of text (plain text)") in problems
    assert ("list 'Retention requests', column 'EndDate' ('Keep until'): it is a text column; it should be Date and "
            "time (date only)") in problems
    assert by_hand.column("EndDate").definition["text"] == {}  # left as it was
    assert by_hand.column("Reason") is not None and by_hand.column("DecisionNote") is not None  # added
    outcome = {o.target.display_name: o for o in report.lists}
    assert "Reason" in outcome["Retention requests"].added
    assert outcome["Assignments"].added == [c.name for c in ASSIGNMENTS.columns]
    added = ", ".join(outcome["Retention requests"].added)
    assert (f"List 'Retention requests' existed; added the missing columns {added}; 3 column(s) need fixing "
            f"(below): {SITE_URL}/Lists/Retention%20requests") in workflow.report_lines(report)
    assert workflow.problem_lines(report)[-1].startswith("These columns were left as they are")


def test_no_site_configured_is_a_config_error_naming_the_key(model: Any) -> None:
    with pytest.raises(ConfigError, match=r"lists\.site is not set.*TEAMSRETENTION_LISTS__SITE"):
        run(model, site=None)
    assert model.requests.total_requests == 0


def test_a_site_that_does_not_exist_names_the_key_and_its_source(model: Any) -> None:
    with pytest.raises(ConfigError, match=r"lists\.site = 'https://contoso.sharepoint.com/sites/nope' \(file "
                                          r"teamsretention.toml\): Graph knows no such site"):
        run(model, site="https://contoso.sharepoint.com/sites/nope")
    assert model.lists == {}

