"""The world helpers for list tests, read back through the production Graph adapter: what an organizer and the
DPO do in the lists arrives as Graph would hand it to the cycle (fields, who changed what, deletions), an
unchanged list costs one request, a recording's link resolves, and approver groups resolve transitively."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from teamsretention.domain import RecordingRef
from teamsretention.lists import field_date

from .simworld import SimWorld

SCENARIO = """
[[users]]
key = "dpo"
display_name = "Dana Privacy"
has_onedrive = false

[[groups]]
key = "dpo-office"
display_name = "DPO office"
members = ["dpo"]

[[groups]]
key = "approvers"
display_name = "Retention approvers"
members = ["dpo-office"]

[[recordings]]
key = "kickoff"
organizer = "anna"
subject = "[ACME-0042] Kickoff"
age_days = 20
"""


@pytest.fixture
def world(tmp_path: Any) -> Any:
    w = SimWorld(tmp_path, SCENARIO)
    yield w
    w.db.dispose()


def graph(world: SimWorld, call: Any) -> Any:
    async def go() -> Any:
        gateway = world.gateway()
        try:
            return await call(gateway)
        finally:
            await gateway.aclose()

    return asyncio.run(go())


async def _pages(pages: Any) -> list[Any]:
    return [p async for p in pages]


def test_list_edits_as_people_reach_the_adapter_as_graph_gives_them(world: SimWorld) -> None:
    w = world
    report = w.provision_lists()
    assert [o.created for o in report.lists] == [True, True]
    site = graph(w, lambda g: g.get_site(w.site_url))
    requests = graph(w, lambda g: g.get_list(site.id, "Retention requests"))

    item = w.add_list_item("Retention requests", "anna", Title="Keep the kickoff", RequestKind="Exception",
                           RecordingLink=w.recording_url("kickoff"), Reason="Client asked", LegalBasis="Contract",
                           EndDate="2026-12-31")
    w.model.advance(hours=3)
    w.edit_list_item("Retention requests", item, "dpo", RequestStatus="Approved")

    [page] = graph(w, lambda g: _pages(g.list_items_delta(site.id, requests.id, None)))
    change = next(c for c in page.items if c.id == item)
    assert change.fields["RequestStatus"] == "Approved" and change.fields["RequestKind"] == "Exception"
    assert field_date(change.fields, "EndDate", "Europe/Stockholm") == dt.date(2026, 12, 31)
    assert change.last_modified_by is None  # delta does not say who: the versions do
    versions = graph(w, lambda g: g.list_item_versions(site.id, requests.id, item))
    assert [(v.id, v.modified_by.id, v.fields["RequestStatus"]) for v in versions] == [
        ("2.0", w.key("dpo"), "Approved"), ("1.0", w.key("anna"), "Requested")]

    w.model.requests.reset()
    [quiet] = graph(w, lambda g: _pages(g.list_items_delta(site.id, requests.id, page.delta_link)))
    assert quiet.items == [] and w.model.requests.count("list.") == 1

    w.delete_list_item("Retention requests", item)
    [gone] = graph(w, lambda g: _pages(g.list_items_delta(site.id, requests.id, quiet.delta_link)))
    assert [(c.id, c.deleted) for c in gone.items] == [(item, True)]


def test_a_recording_link_and_approver_groups_resolve(world: SimWorld) -> None:
    w = world
    shared = graph(w, lambda g: g.resolve_share(w.recording_url("kickoff")))
    kickoff = w.model.find_item("kickoff")
    assert shared.ref == RecordingRef(kickoff.drive_id, kickoff.id) and shared.name.startswith("[ACME-0042]")
    assert graph(w, lambda g: g.resolve_share(w.recording_url("kickoff") + "-gone")) is None
    groups = graph(w, lambda g: g.transitive_group_ids(w.key("dpo")))
    assert groups == {w.key("dpo-office"), w.key("approvers")}
    assert graph(w, lambda g: g.transitive_group_ids(w.key("anna"))) == frozenset()
