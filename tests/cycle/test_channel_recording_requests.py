"""A channel recording no user made (Teams' own service recorded it): it has no organizer, and its team's owners
get its warnings. Through the Retention requests list, those owners, the DPO and IT admins may ask to keep it,
and nobody else; end to end on the simulator, through the production Graph adapter."""

from __future__ import annotations

import dataclasses

import pytest

from teamsretention.domain import ExemptionStatus
from teamsretention.store import exemptions

from .simworld import SimWorld
from .test_real_tenant import SERVICE_RECORDING, TEAM

SCENARIO = """
[[users]]
key = "dpo"
display_name = "Dana Privacy"
has_onedrive = false
""" + TEAM + SERVICE_RECORDING  # Bob owns Sales; Teams' service recorded "bot" in its General channel


@pytest.fixture
def w(tmp_path):
    """As Graph v1.0 answers (the requests list does not depend on the beta facets)."""
    world = SimWorld(tmp_path, SCENARIO)
    yield _with_lists(world)
    world.db.dispose()


def _with_lists(w: SimWorld) -> SimWorld:
    w.config = dataclasses.replace(w.config, lists_site=w.site_url, dpo=(w.key("dpo"),),
                                   it_admins=(w.key("it-support"),))
    w.provision_lists()
    return w


def ask(w, by: str, kind: str = "Exception", **fields: object) -> str:
    values: dict[str, object] = dict(RequestKind=kind, Scope="Recording", RecordingLink=w.recording_url("bot"),
                                     Reason="Board asked for it", LegalBasis="Bylaws §4")
    values.update({"EndDate": "2026-06-30"} if kind == "Exception" else {"ReviewDate": "2026-04-30"})
    values.update(fields)
    return w.add_list_item("Retention requests", by, **values)


def test_the_teams_owner_asks_to_keep_a_recording_no_user_made_and_the_dpo_approves(w):
    w.cycle(0)
    assert w.mails_to("bob@contoso.example")  # the owner is warned: due on day 5
    item = ask(w, "bob")
    w.cycle(1)
    [e] = exemptions.list_all(w.db)
    assert e.status is ExemptionStatus.PENDING and e.requested_by_id == w.key("bob")
    w.model.advance(hours=1)
    w.edit_list_item("Retention requests", item, "dpo", RequestStatus="Approved")
    w.days(2, 8)
    [e] = exemptions.list_all(w.db)
    assert e.status is ExemptionStatus.APPROVED and not w.in_recycle_bin("bot")  # day 5 passed: kept


def test_the_dpo_asks_for_a_legal_hold_on_a_recording_no_user_made_and_an_it_admin_approves(w):
    item = ask(w, "dpo", "Legal hold")
    w.cycle(0)
    w.model.advance(hours=1)
    w.edit_list_item("Retention requests", item, "it-support", RequestStatus="Approved")
    w.days(1, 8)
    [e] = exemptions.list_all(w.db)
    assert (e.kind.value, e.status, e.requested_by_id) == ("legal_hold", ExemptionStatus.APPROVED, w.key("dpo"))
    assert not w.in_recycle_bin("bot")


def test_a_team_member_who_is_no_owner_cannot_ask_for_it(w):
    w.cycle(0)
    ask(w, "anna")
    report = w.cycle(1)
    assert exemptions.list_all(w.db) == []
    assert any("Anna Berg" in p and "no owner of the team" in p for p in report.governance.problems)
    w.days(2, 8)
    assert w.in_recycle_bin("bot")
