"""A Retention requests list whose version history is off (or trimmed by a version limit): SharePoint then keeps
one version, 1.0, rewritten in place by every edit and naming the last editor, whoever set Status. Graph v1.0
cannot read the list's versioning setting, so the cycle tells from the history itself: a decision whose setting
version is not in the history is never applied, and it says so, each time, with what to do."""

from __future__ import annotations

import pytest

from teamsretention.domain import ExemptionStatus
from teamsretention.store import exemptions

from .test_cycle import created
from .test_request_list import LIST, before, decide, dpo_digests, make, only_exemption, person, request


@pytest.fixture
def w(tmp_path):
    world = make(tmp_path)
    world.gw.lists[LIST].versioning = False
    yield world
    world.db.dispose()


def test_a_requesters_own_approval_is_not_taken_for_the_dpos_who_edited_only_the_note(w):
    w.gw.add_recording("alice", "r1", created(-20))  # due on day 10 without a cover
    item = request(w, "alice", 0, item="r1")
    w.cycle(0)
    assert only_exemption(w).status is ExemptionStatus.PENDING
    decide(w, item, "alice", 1)  # Alice approves her own request...
    w.gw.edit_list_item(LIST, item, person("dpo"), before(1, hours=0), DecisionNote="Will look at it")  # ...the DPO
    report = w.cycle(1)  # writes a note: the one version left names the DPO
    assert only_exemption(w).status is ExemptionStatus.PENDING
    [ignored] = report.governance.ignored
    assert "keeps no history of who set Status" in ignored and "Versioning settings" in ignored
    assert "teamsretention exemptions approve|reject EX-1" in ignored
    [event] = w.audit("decision_ignored")
    assert event.detail["refusal"] == "no_history" and event.actor == "unknown"
    w.days(2, 22)
    assert w.deleted_ids() == ["r1"]  # the grace of a pending request ran out: no approval was ever given
    assert any("keeps no history of who set Status" in m.text for m in dpo_digests(w))


def test_each_decision_in_a_list_without_history_is_refused_and_reported_and_one_with_history_counts(w):
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1")
    w.cycle(0)
    decide(w, item, "dpo", 1)
    assert len(w.cycle(1).governance.ignored) == 1
    assert w.cycle(2).governance.ignored == []  # the same row, unchanged: reported once
    decide(w, item, "dpo", 3, DecisionNote="Approved, really")  # saved again: still nobody to trust, said again
    assert len(w.cycle(3).governance.ignored) == 1
    assert only_exemption(w).status is ExemptionStatus.PENDING
    # versioning turned on: the DPO puts Status back and decides, in versions of their own
    w.gw.lists[LIST].versioning = True
    decide(w, item, "dpo", 4, "Requested")
    decide(w, item, "dpo", 4, "Approved")
    w.days(4, 12)
    e = only_exemption(w)
    assert e.status is ExemptionStatus.APPROVED and e.decided_by == "Dpo dpo"
    assert w.deleted_ids() == []


def test_a_row_edited_before_its_first_cycle_in_a_list_without_history_names_no_requester(w):
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1")
    w.gw.edit_list_item(LIST, item, person("bob"), before(0, hours=0), Reason="Contract dispute, see mail")
    report = w.cycle(0)
    assert exemptions.list_all(w.db) == []
    assert any("its creator has no Entra identity" in p and "Versioning settings" in p
               for p in report.governance.problems)


def test_a_decision_saved_over_a_version_already_handled_is_reported_not_dropped_nor_applied(tmp_path):
    w = make(tmp_path)  # versioning on: Alice's request, the DPO's approval in version 2.0
    try:
        w.gw.add_recording("alice", "r1", created(-20))
        item = request(w, "alice", 0, item="r1")
        w.cycle(0)
        decide(w, item, "dpo", 1)
        w.cycle(1)
        assert only_exemption(w).status is ExemptionStatus.APPROVED
        w.gw.lists[LIST].versioning = False  # turned off: a revocation is saved over version 2.0, the approval
        decide(w, item, "bob", 2, "Revoked")  # Bob, no approver, revokes; then the DPO saves a note over it
        w.gw.edit_list_item(LIST, item, person("dpo"), before(2, hours=0), DecisionNote="Seen")
        [ignored] = w.cycle(2).governance.ignored  # neither dropped unseen nor taken for the DPO's revocation
        assert "was saved over in place" in ignored and "Versioning settings" in ignored
        assert only_exemption(w).status is ExemptionStatus.APPROVED
        w.days(3, 12)
        assert w.deleted_ids() == [] and w.cycle(13).governance.ignored == []  # kept; reported once
    finally:
        w.db.dispose()
