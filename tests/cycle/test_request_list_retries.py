"""What the Retention requests list says is not lost to what teamsretention could not know yet. A decision
whose decider's roles Graph could not give (a 503 on the UPN or the group memberships) is not taken for a
refusal; a row that links a recording the inventory has not read yet, or names an assignment the Assignments
list has not delivered yet, is not taken for an invalid one. Nothing is marked, the list is read from the same
point the next cycle, and the row or the decision counts then (a row waits so until it is as old as the longest
a drive goes unread, plus a day). A refusal on roles Graph did give is final, as before."""

from __future__ import annotations

import pytest

from teamsretention.domain import ExemptionStatus
from teamsretention.errors import NotFoundError, TransientGraphError
from teamsretention.store import assignments, exemptions

from .test_cycle import DAY0, at, created
from .test_request_list import before, decide, iso, make, person, request


@pytest.mark.parametrize("lookup", ["groups", "upn"])
def test_an_approval_whose_roles_could_not_be_read_counts_the_next_cycle(tmp_path, monkeypatch, lookup):
    w = make(tmp_path, dpo=("dpo@contoso.example",)) if lookup == "upn" else make(tmp_path)
    w.gw.add_recording("alice", "r1", created(-20))  # due on day 10 without the hold
    item = request(w, "alice", 0, kind="Legal hold", item="r1")
    w.cycle(0)
    failing = {"on": True}
    if lookup == "groups":
        w.gw.fail_groups.add("erin")  # an IT admin through a group; Graph answers 503 for a cycle
    else:
        real = w.gw.get_user

        async def get_user(upn):  # type: ignore[no-untyped-def]
            if failing["on"] and upn == "dpo@contoso.example":
                raise TransientGraphError(503, "serviceUnavailable", "try later")
            return await real(upn)

        monkeypatch.setattr(w.gw, "get_user", get_user)
    decide(w, item, "erin" if lookup == "groups" else "dpo", 1)

    report = w.cycle(1)

    assert exemptions.get(w.db, "EX-1").status is ExemptionStatus.PENDING
    assert not w.audit("decision_ignored")
    assert any("roles could not be read" in p and "looked at again each cycle until" in p
               for p in report.governance.problems)
    w.gw.fail_groups.clear()
    failing["on"] = False
    w.days(2, 30)
    assert exemptions.get(w.db, "EX-1").status is ExemptionStatus.APPROVED
    assert w.deleted_ids() == []


def test_an_approval_by_someone_graph_says_holds_no_role_is_ignored_at_once(tmp_path):
    w = make(tmp_path)
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, kind="Legal hold", item="r1")
    w.cycle(0)
    decide(w, item, "bob", 1)  # bob holds no role, and Graph said so
    w.cycle(1)
    assert exemptions.get(w.db, "EX-1").status is ExemptionStatus.PENDING
    assert len(w.audit("decision_ignored")) == 1


def test_a_tag_row_for_a_recording_whose_drive_is_not_read_yet_counts_once_it_is(tmp_path):
    w = make(tmp_path)
    assignments.create(w.db, assignments.Fields("ACME-1", "Acme", "Acme", DAY0),
                       assignments.Acting("it@contoso.example", "cli", at(0), DAY0))
    w.gw.add_recording("alice", "r1", created(-1))  # made yesterday
    w.gw.fail_delta.add("drive-alice")  # today's read of her OneDrive fails
    request(w, "alice", 0, kind="Tag to assignment", item="r1", AssignmentCode="ACME-1")

    report = w.cycle(0)

    assert any("not applied yet, looked at again each cycle until" in p for p in report.governance.problems)
    assert not w.audit("request_invalid")
    w.gw.fail_delta.clear()
    w.days(1, 35)
    assert [t.code for t in assignments.tags_of(w.db, w.recording("r1").ref)] == ["ACME-1"]
    assert w.deleted_ids() == []


def test_a_tag_row_naming_an_assignment_the_list_has_not_delivered_yet_counts_once_it_has(tmp_path, monkeypatch):
    w = make(tmp_path)
    w.gw.add_recording("alice", "r1", created(-1))
    w.cycle(0)
    w.gw.add_list_item("Assignments", person("carol"), before(1), Title="ACME-2", AssignmentTitle="Acme",
                       AssignmentStatus="Active", OpenedOn=iso(0))
    request(w, "alice", 1, kind="Tag to assignment", item="r1", AssignmentCode="ACME-2")
    real = w.gw.list_items_delta
    failing = {"on": True}

    async def delta(site_id, list_id, link):  # type: ignore[no-untyped-def]
        if failing["on"] and list_id == w.gw.lists["Assignments"].info.id:
            raise TransientGraphError(503, "serviceUnavailable", "try later")
        async for page in real(site_id, list_id, link):
            yield page

    monkeypatch.setattr(w.gw, "list_items_delta", delta)
    w.cycle(1)
    failing["on"] = False
    w.days(2, 35)
    assert [t.code for t in assignments.tags_of(w.db, w.recording("r1").ref)] == ["ACME-2"]
    assert w.deleted_ids() == []


@pytest.mark.parametrize(("fields", "problem"), [
    ({"kind": "Tag to assignment", "AssignmentCode": "NOPE-9"}, "'NOPE-9' is no known assignment"),
    ({"RecordingLink": "https://fake/drive-alice/nothing"}, "points to no recording"),
], ids=["unknown-code", "no-recording"])
def test_a_row_that_never_comes_right_is_invalid_once_it_is_older_than_the_wait(tmp_path, fields, problem):
    w = make(tmp_path)  # max_poll_interval_days = 7: a row waits 8 days
    w.gw.add_recording("alice", "r1", created(-20))
    request(w, "alice", 0, item="r1", **fields)
    w.days(0, 8)
    assert not w.audit("request_invalid") and exemptions.list_all(w.db) == []
    assert any(problem in p and "looked at again" in p for p in w.reports[8].governance.problems)
    w.cycle(9)
    [invalid] = w.audit("request_invalid")
    assert problem in invalid.reason and invalid.actor == "Alice alice"
    w.cycle(10)
    assert len(w.audit("request_invalid")) == 1  # final: not reported again


def test_a_row_reported_invalid_is_not_reported_again_while_another_row_waits(tmp_path):
    w = make(tmp_path)
    w.gw.add_recording("alice", "r1", created(-20))
    request(w, "alice", 0, item="r1", Reason="")  # invalid as it stands
    request(w, "alice", 0, item="r1", RecordingLink="https://fake/drive-alice/nothing")  # waits
    w.days(0, 3)
    assert len(w.audit("request_invalid")) == 1  # the first row, once, though the list is read again each cycle


def test_a_decider_entra_answers_for_is_refused_at_once_and_a_waiting_decision_waits_only_so_long(tmp_path,
                                                                                                   monkeypatch):
    w = make(tmp_path)
    w.gw.add_recording("alice", "r1", created(-20))
    w.gw.add_recording("alice", "r2", created(-20))
    first, second = request(w, "alice", 0, item="r1"), request(w, "alice", 0, item="r2")
    w.cycle(0)
    real = w.gw.transitive_group_ids

    async def groups(uid):  # type: ignore[no-untyped-def]
        if uid == "bob":
            raise NotFoundError(404, "Request_ResourceNotFound", "no such user")  # an answer, not a failure
        return await real(uid)

    monkeypatch.setattr(w.gw, "transitive_group_ids", groups)
    decide(w, first, "bob", 1)
    w.gw.fail_groups.add("erin")  # Graph keeps failing for erin
    decide(w, second, "erin", 1)
    w.cycle(1)
    ignored = [a for a in w.audit("decision_ignored")]
    assert len(ignored) == 1 and "EX-1" in ignored[0].reason  # bob's, at once
    w.days(2, 9)  # erin's waits up to max_poll_interval_days + 1 days after it was made, then counts as refused
    assert len(w.audit("decision_ignored")) == 1
    w.cycle(10)
    assert len(w.audit("decision_ignored")) == 2 and exemptions.get(w.db, "EX-2").status is ExemptionStatus.PENDING
