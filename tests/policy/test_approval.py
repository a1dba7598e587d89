"""Who may decide an exemption request: only the roles, never the requester, never on one's own recordings."""

from __future__ import annotations

from teamsretention.policy.approval import Covered, Decider, Refusal, Role, explain, may_decide

DPO = Decider("dpo-id", frozenset({Role.DPO}), "dpo@contoso.example")


def test_the_dpo_decides_someone_elses_request():
    assert may_decide(DPO, Covered("alice-id", frozenset({"alice-id"}))) is None


def test_anyone_outside_the_roles_is_refused():
    assert may_decide(Decider("bob-id", frozenset()), Covered("alice-id", frozenset())) is Refusal.NOT_APPROVER


def test_nobody_decides_their_own_request_whatever_the_case_of_the_id():
    assert may_decide(DPO, Covered("DPO-ID", frozenset())) is Refusal.SELF_APPROVAL


def test_nobody_decides_on_their_own_recordings():
    assert may_decide(DPO, Covered("alice-id", frozenset({"dpo-id"}))) is Refusal.OWN_RECORDINGS


def test_an_unidentified_decider_is_refused_before_anything_else():
    refusal = may_decide(Decider(None, frozenset({Role.DPO})), Covered(None, frozenset()))
    assert refusal is Refusal.UNKNOWN_IDENTITY
    assert "could not be identified" in explain(refusal, "SharePoint App")
