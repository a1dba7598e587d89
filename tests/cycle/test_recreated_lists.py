"""A governance list deleted and created again (or ``lists.*`` pointed at another list): SharePoint numbers the
new list's items from 1 again, so an item id means something only together with its list. Nothing the new list
says may land on what an item of the earlier list asked for or decided."""

from __future__ import annotations

import asyncio

import pytest

from teamsretention.domain import AssignmentStatus, ExemptionStatus
from teamsretention.lists import ASSIGNMENTS, REQUESTS
from teamsretention.store import assignments, exemptions

from .test_cycle import DAY0, created
from .test_request_list import LIST, before, decide, iso, make, person, request


@pytest.fixture
def w(tmp_path):
    world = make(tmp_path)
    yield world
    world.db.dispose()


def recreate(w, name: str, columns) -> None:
    w.gw.remove_list(name)
    asyncio.run(w.gw.create_list("site-1", name, columns))


def by_target(w) -> dict[str, exemptions.StoredExemption]:
    return {e.target_id: e for e in exemptions.list_all(w.db)}


def alices_approved_exception(w) -> str:
    """Day 0: Alice asks to keep r1 (due on day 10 without a cover) in the list's item 1; day 1: the DPO approves."""
    w.gw.add_recording("alice", "r1", created(-20))
    first = request(w, "alice", 0, item="r1")
    w.cycle(0)
    decide(w, first, "dpo", 1)
    w.cycle(1)
    return first


def test_an_approval_in_a_recreated_requests_list_keeps_its_own_recording_and_touches_no_earlier_exemption(w):
    w.gw.add_recording("bob", "r2", created(-20))  # due on day 10 without a cover, as Alice's r1
    first = alices_approved_exception(w)
    assert by_target(w)["drive-alice/r1"].status is ExemptionStatus.APPROVED
    recreate(w, LIST, REQUESTS.columns)
    report = w.cycle(2)  # the earlier list is gone: what the store holds stands
    assert any("could not be read" in p for p in report.governance.problems)
    # Bob's request is the new list's item 1, as Alice's was the old list's
    again = request(w, "bob", 3, item="r2")
    assert again == first == "1"
    report = w.cycle(3)
    assert any("is another list" in p and "1 item of other lists" in p for p in report.governance.problems)
    found = by_target(w)
    assert found["drive-bob/r2"].status is ExemptionStatus.PENDING and found["drive-bob/r2"].requested_by == "Bob bob"
    decide(w, again, "dpo", 4)
    w.days(4, 12)
    found = by_target(w)
    assert found["drive-bob/r2"].status is ExemptionStatus.APPROVED
    assert found["drive-alice/r1"].status is ExemptionStatus.APPROVED
    assert w.deleted_ids() == []  # day 10 passed: each is kept by its own exemption
    # the DPO revokes Bob's exception in the new list: Alice's, from the earlier list's item 1, stands
    decide(w, again, "dpo", 13, "Revoked")
    w.cycle(13)
    found = by_target(w)
    assert found["drive-bob/r2"].status is ExemptionStatus.REVOKED
    assert found["drive-alice/r1"].status is ExemptionStatus.APPROVED
    [revoked] = w.audit("exemption_revoked")
    assert revoked.detail["exemption"] == found["drive-bob/r2"].id
    [alice_request, bob_request] = w.audit("exemption_requested")
    assert alice_request.detail["list"] != bob_request.detail["list"]  # the evidence names each item's list
    assert not any("is another list" in p for p in w.reports[4].governance.problems)  # said once


def test_a_deleted_item_of_a_recreated_requests_list_reports_no_exemption_of_the_earlier_list(w):
    alices_approved_exception(w)
    recreate(w, LIST, REQUESTS.columns)
    w.cycle(2)
    item = w.gw.add_list_item(LIST, person("bob"), before(3), RequestKind="Exception", Scope="Recording",
                              Reason="typo", LegalBasis="-", EndDate=iso(60), RequestStatus="Requested")
    w.cycle(3)  # invalid (no link): reported, not applied
    w.gw.delete_list_item(LIST, item)
    report = w.cycle(4)
    assert not any("was deleted" in p for p in report.governance.problems)
    assert w.audit("list_item_deleted") == []


def assignment_item(w, code: str, status: str = "Active", **fields: object) -> str:
    return w.gw.add_list_item("Assignments", person("carol"), before(0), Title=code, AssignmentTitle=code,
                              OpenedOn=iso(-30), AssignmentStatus=status, **fields)


def test_a_recreated_assignments_list_owns_its_items_by_their_own_ids(w):
    assignment_item(w, "ACME-1")
    w.cycle(0)
    [acme] = assignments.list_all(w.db)
    assert (acme.code, acme.list_item_id, acme.status) == ("ACME-1", "1", AssignmentStatus.ACTIVE)
    recreate(w, "Assignments", ASSIGNMENTS.columns)
    w.cycle(1)
    # the new list: item 1 is a new assignment, item 2 carries ACME-1 on, closed
    assignment_item(w, "BETA-2")
    assignment_item(w, "ACME-1", "Closed", ClosedOn=iso(1))
    report = w.cycle(2)
    found = {a.code: a for a in assignments.list_all(w.db)}
    assert found["BETA-2"].status is AssignmentStatus.ACTIVE and found["BETA-2"].list_item_id == "1"
    assert found["ACME-1"].status is AssignmentStatus.CLOSED and found["ACME-1"].list_item_id == "2"
    assert found["ACME-1"].closed_on == DAY0.replace(day=DAY0.day + 1)
    assert not any("Assignments" in p and "not applied" in p for p in report.governance.problems)
    # deleting the new list's item 1 is about BETA-2, not about what the earlier list's item 1 owned
    w.gw.delete_list_item("Assignments", "1")
    report = w.cycle(3)
    assert any("item 1 (assignment BETA-2) was deleted" in p for p in report.governance.problems)
    assert not any("ACME-1) was deleted" in p for p in report.governance.problems)


def test_the_same_list_unreadable_for_a_cycle_is_not_reported_as_a_new_one(w):
    w.gw.add_recording("alice", "r1", created(-20))
    request(w, "alice", 0, item="r1")
    w.cycle(0)
    recreate(w, LIST, REQUESTS.columns)
    w.cycle(1)
    assert any("is another list" in p for p in w.cycle(2).governance.problems)
    same = w.gw.lists.pop(LIST)  # the new list is unreadable for a cycle (404), then back as it was
    assert any("could not be read" in p for p in w.cycle(3).governance.problems)
    w.gw.lists[LIST] = same
    report = w.cycle(4)
    assert not any("is another list" in p or "could not be read" in p for p in report.governance.problems)
    assert len(exemptions.list_all(w.db)) == 1


def as_upgraded_without_a_list_id(w) -> None:
    """The store as migration 0008 leaves one whose list could not be found last time (the old release cleared
    the list's id on a 404): its items and exemptions belong to no known list."""
    from sqlalchemy import text
    with w.db.engine.begin() as conn:
        conn.execute(text("UPDATE request_items SET list_id = ''"))
        conn.execute(text("UPDATE exemptions SET list_id = '' WHERE list_item_id IS NOT NULL"))
        conn.execute(text("DELETE FROM sync_state WHERE key IN ('requests_list', 'requests_list_delta')"))


def test_after_an_upgrade_that_knew_no_list_id_a_new_lists_item_1_is_not_the_earlier_one(w):
    w.gw.add_recording("bob", "r2", created(-20))
    first = alices_approved_exception(w)
    recreate(w, LIST, REQUESTS.columns)
    as_upgraded_without_a_list_id(w)
    again = request(w, "bob", 2, item="r2")
    assert again == first
    w.cycle(2)
    found = by_target(w)
    assert found["drive-bob/r2"].status is ExemptionStatus.PENDING  # a new request, not Alice's EX-1
    decide(w, again, "dpo", 3, "Approved")
    w.cycle(3)
    decide(w, again, "dpo", 4, "Revoked")
    w.cycle(4)
    found = by_target(w)
    assert found["drive-bob/r2"].status is ExemptionStatus.REVOKED
    assert found["drive-alice/r1"].status is ExemptionStatus.APPROVED  # untouched by the new list's item 1


def test_after_an_upgrade_that_knew_no_list_id_the_same_lists_items_are_still_theirs(w):
    first = alices_approved_exception(w)
    as_upgraded_without_a_list_id(w)
    w.cycle(2)  # the list is looked up and read from the start: item 1 is Alice's request, as before
    assert len(exemptions.list_all(w.db)) == 1
    decide(w, first, "dpo", 3, "Revoked")
    w.cycle(3)
    [e] = exemptions.list_all(w.db)
    assert e.status is ExemptionStatus.REVOKED and e.list_id == "list-1"


def test_a_new_assignments_list_whose_first_read_fails_is_announced_once(w, monkeypatch):
    from teamsretention.errors import TransientGraphError

    assignment_item(w, "ACME-1")
    w.cycle(0)
    recreate(w, "Assignments", ASSIGNMENTS.columns)
    w.cycle(1)  # the earlier list is gone (404): looked up afresh next cycle
    real, failing = w.gw.list_items_delta, [True]

    async def once(site_id, list_id, link):
        if failing and list_id == w.gw.lists["Assignments"].info.id:
            failing.clear()
            raise TransientGraphError(503, "serviceNotAvailable", "try later")
        async for page in real(site_id, list_id, link):
            yield page

    monkeypatch.setattr(w.gw, "list_items_delta", once)
    said = [sum("is another list" in p for p in w.cycle(d).governance.problems) for d in (2, 3, 4)]
    assert said == [1, 0, 0]
