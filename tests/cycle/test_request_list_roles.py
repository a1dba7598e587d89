"""A decision in the Retention requests list whose decider's roles Graph could not give (a 503 on the UPN or
the group memberships) is not taken for a refusal: nothing is marked, the list is read from the same point the
next cycle, and the approval counts then. A refusal on roles Graph did give is final, as before."""

from __future__ import annotations

import pytest

from teamsretention.domain import ExemptionStatus
from teamsretention.errors import TransientGraphError
from teamsretention.store import exemptions

from .test_cycle import created
from .test_request_list import decide, make, request


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
    assert any("roles could not be read" in p and "looked at again next cycle" in p
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
