"""Covers recorded after the day being decided keep the recording (``policy.later``); ends dated later wait."""

from __future__ import annotations

import datetime as dt

import pytest

from teamsretention.domain import Action, AssignmentTag, Decision, Exemption, ExemptionKind, ExemptionStatus, Facts
from teamsretention.policy.later import LATER_COVER, hold_for_later_covers, later_covers

TODAY = dt.date(2026, 3, 9)
LATER = TODAY + dt.timedelta(days=1)
DELETE = Decision(Action.DELETE, "notice_floor", "due", TODAY, dt.date(2026, 1, 20))


def _exemption(status: ExemptionStatus, requested: dt.date, decided: dt.date | None = None,
               revoked: dt.date | None = None) -> Exemption:
    return Exemption(id="EX-1", kind=ExemptionKind.LEGAL_HOLD, status=status, requested_on=requested,
                     decided_on=decided, revoked_on=revoked)


@pytest.mark.parametrize(("facts", "said"), [
    (Facts(exemptions=(_exemption(ExemptionStatus.PENDING, LATER),)), f"legal hold request EX-1 of {LATER}"),
    (Facts(exemptions=(_exemption(ExemptionStatus.APPROVED, TODAY, LATER),)),
     f"the approval of legal hold EX-1 on {LATER}"),
    (Facts(exemptions=(_exemption(ExemptionStatus.APPROVED, LATER, LATER),)),
     f"legal hold EX-1 (requested {LATER}, approved {LATER})"),
    (Facts(assignments=(AssignmentTag("A-1", "Supplier case", True, LATER),)),
     f"the tag to assignment 'Supplier case' of {LATER}"),
], ids=["request", "approval", "requested-and-approved", "tag"])
def test_a_later_start_turns_a_deletion_into_a_fail_closed_keep_that_names_it(facts, said):
    assert later_covers(facts, TODAY) == [said]
    held = hold_for_later_covers(DELETE, facts, TODAY)
    assert held.action is Action.KEEP and held.rule == LATER_COVER and held.due is None
    assert said in held.reason and f"({TODAY})" in held.reason and held.recorded_on == DELETE.recorded_on


@pytest.mark.parametrize("facts", [
    Facts(),
    Facts(exemptions=(_exemption(ExemptionStatus.APPROVED, TODAY, TODAY),)),
    Facts(exemptions=(_exemption(ExemptionStatus.REVOKED, TODAY, TODAY, revoked=LATER),)),  # an end: waits
    Facts(exemptions=(_exemption(ExemptionStatus.REJECTED, TODAY, LATER),)),  # a rejection is an end too
    Facts(assignments=(AssignmentTag("A-1", "Supplier case", False, TODAY, closed_on=LATER),)),
], ids=["none", "approved-today", "revoked-later", "rejected-later", "closed-later"])
def test_covers_that_start_by_today_and_ends_dated_later_leave_the_decision_alone(facts):
    assert later_covers(facts, TODAY) == []
    assert hold_for_later_covers(DELETE, facts, TODAY) is DELETE


def test_a_keep_stays_the_policy_s_own():
    keep = Decision(Action.KEEP, "young", "young", None, TODAY)
    facts = Facts(exemptions=(_exemption(ExemptionStatus.PENDING, LATER),))
    assert hold_for_later_covers(keep, facts, TODAY) is keep
