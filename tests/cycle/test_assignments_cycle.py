"""Assignments through the cycle: the Assignments list (listItem delta, identities from lastModifiedBy), tag
rules, and what closing, reopening and the cap do to a tagged recording, day by day with a fake clock."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from teamsretention.domain import PolicyConfig, RunMode
from teamsretention.errors import NotFoundError
from teamsretention.lists import ASSIGNMENTS, REQUESTS
from teamsretention.ports import Identity, SiteInfo
from teamsretention.reports.cycle import plan_lines
from teamsretention.store import assignments
from teamsretention.workflows import assignments as workflow

from .test_cycle import DAY0, World, at, created, warned_on

SITE = "https://contoso.sharepoint.com/sites/records"
RULE = r"\[(?P<code>[A-Z]+-\d+)\]"
ANNA = Identity("0a1b2c3d-0000-4000-8000-000000000001", "Anna Admin")
NAME = "[ACME-0042] Kickoff-20260120_100000-Meeting Recording.mp4"


def list_date(day: int) -> str:
    """A date column as Graph sends it: midnight of the site's zone (Stockholm, winter) in UTC."""
    d = DAY0 + dt.timedelta(days=day)
    return (dt.datetime.combine(d, dt.time(0)) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_list(tmp_path, **config) -> World:
    w = World(tmp_path, lists_site=SITE, tag_rules=(RULE,), **config)
    w.gw.site = SiteInfo("contoso.sharepoint.com,1,2", SITE, "Records")
    asyncio.run(w.gw.create_list(w.gw.site.id, "Assignments", ASSIGNMENTS.columns))
    asyncio.run(w.gw.create_list(w.gw.site.id, "Retention requests", REQUESTS.columns))  # as provision makes both
    w.gw.add_user("alice", lang="en-US")
    return w


@pytest.fixture
def lw(tmp_path):
    w = with_list(tmp_path)
    yield w
    w.db.dispose()


def add_item(w: World, day: int, **fields) -> str:
    values = dict(Title="ACME-0042", AssignmentTitle="Kickoff", Client="ACME", AssignmentStatus="Active",
                  OpenedOn=list_date(-60))
    values.update(fields)
    return w.gw.add_list_item("Assignments", ANNA, at(day) - dt.timedelta(hours=1), **values)


def test_list_assignment_keeps_a_rule_tagged_recording_and_closing_it_warns_then_deletes_after_notice(lw):
    lw.gw.add_recording("alice", "r1", created(-40), name=NAME)
    item = add_item(lw, 0)
    report = lw.cycle(0)
    assert report.governance.assignments_changed == 1 and report.governance.tagged_by_rule == 1
    a = assignments.get(lw.db, "ACME-0042")
    assert a is not None and a.list_item_id == item and a.source == "list"
    created_event = lw.audit("assignment_recorded")[0]
    assert created_event.actor == f"Anna Admin {ANNA.id}" and created_event.detail["source"] == "list"
    tagged = lw.audit("tagged", "r1")[0]
    assert tagged.actor == f"rule:{RULE}" and tagged.detail["source"] == "rule"
    assert lw.recording("r1").rule == "assignment" and warned_on(lw, "r1") == []

    calls = lw.gw.list_calls
    lw.cycle(1)
    assert lw.gw.list_calls == calls + 2  # an unchanged list costs one request: one for each of the two lists
    assert lw.reports[1].governance.list_requests == 2

    lw.gw.edit_list_item("Assignments", item, ANNA, at(2) - dt.timedelta(hours=2), AssignmentStatus="Closed",
                         ClosedOn=list_date(2))
    lw.days(2, 12)
    closed = lw.audit("assignment_closed")[0]
    assert closed.actor == f"Anna Admin {ANNA.id}" and closed.detail["source"] == "list"
    assert assignments.get(lw.db, "ACME-0042").closed_on == DAY0 + dt.timedelta(days=2)
    assert warned_on(lw, "r1")[0] == 2  # warned at once, nothing deleted without notice
    deleted_day = next(d for d, r in lw.reports.items() if r.deleted)
    assert deleted_day >= 2 + 7 and lw.deleted_ids() == ["r1"]  # the minimum notice, then deletion
    assert all(d < deleted_day for d in warned_on(lw, "r1"))


def test_reopening_restores_the_cover(lw):
    lw.gw.add_recording("alice", "r1", created(-40), name=NAME)
    item = add_item(lw, 0)
    lw.cycle(0)
    lw.gw.edit_list_item("Assignments", item, ANNA, at(1) - dt.timedelta(hours=1), AssignmentStatus="Closed",
                         ClosedOn=list_date(1))
    lw.cycle(1)
    assert lw.recording("r1").action == "warn"
    lw.gw.edit_list_item("Assignments", item, ANNA, at(3) - dt.timedelta(hours=1), AssignmentStatus="Active",
                         ClosedOn=None)
    lw.days(3, 15)
    assert lw.deleted_ids() == [] and lw.recording("r1").rule == "assignment"
    reopened = lw.audit("assignment_reopened")[0]
    assert reopened.actor == f"Anna Admin {ANNA.id}" and reopened.detail["source"] == "list"


def test_assignment_max_days_caps_the_cover(tmp_path):
    w = with_list(tmp_path, policy=PolicyConfig(assignment_max_days=45))
    w.gw.add_recording("alice", "r1", created(-40), name=NAME)
    add_item(w, 0)
    w.days(0, 14)
    cap = DAY0 + dt.timedelta(days=5)  # recorded on day -40, kept at most 45 days
    deleted_day = next(d for d, r in w.reports.items() if r.deleted)
    assert DAY0 + dt.timedelta(days=deleted_day) >= cap and warned_on(w, "r1")
    assert min(warned_on(w, "r1")) <= deleted_day - 7
    w.db.dispose()


def test_invalid_rows_are_reported_every_cycle_and_never_applied(lw):
    add_item(lw, 0, Title="")
    bad_date = add_item(lw, 0, Title="ACME-1", OpenedOn="2026-13-01")
    bad_status = add_item(lw, 0, Title="ACME-2", AssignmentStatus="Done")
    report = lw.cycle(0)
    problems = "\n".join(report.governance.problems)
    assert "item 1: Title (the assignment code) is empty; not applied" in problems
    assert f"item {bad_date}: Opened (OpenedOn) '2026-13-01' is not a date" in problems
    assert f"item {bad_status}: Status (AssignmentStatus) 'Done' is not one of Active, Closed" in problems
    assert assignments.list_all(lw.db) == [] and lw.audit("assignment_recorded") == []
    again = lw.cycle(1)
    assert len(again.governance.problems) == 3  # still reported, until fixed in the list
    lw.gw.edit_list_item("Assignments", bad_date, ANNA, at(2) - dt.timedelta(hours=1), OpenedOn=list_date(-3))
    fixed = lw.cycle(2)
    assert len(fixed.governance.problems) == 2 and assignments.get(lw.db, "ACME-1") is not None


def test_a_deleted_list_item_is_reported_and_never_closes_its_assignment(lw):
    item = add_item(lw, 0)
    lw.cycle(0)
    lw.gw.delete_list_item("Assignments", item)
    report = lw.cycle(1)
    assert any(f"item {item} (assignment ACME-0042) was deleted" in p for p in report.governance.problems)
    assert assignments.get(lw.db, "ACME-0042").status.value == "active"
    assert lw.audit("assignment_item_deleted")[0].detail == {"assignment": "ACME-0042", "list_item": item,
                                                             "source": "list"}
    assert lw.audit("assignment_closed") == []


def test_an_unreadable_list_changes_nothing_and_is_reported(lw):
    lw.gw.lists.clear()
    report = lw.cycle(0)
    assert report.exit_code == 1
    assert any("no list named 'Assignments'" in p and "teamsretention provision" in p
               for p in report.governance.problems)


def test_unknown_code_is_reported_never_guessed_and_an_untag_wins_over_the_rule(lw):
    lw.gw.add_recording("alice", "r1", created(-10), name=NAME)
    lw.gw.add_recording("alice", "r2", created(-10), name="[ACME-0099] Review-20260220_100000-Meeting Recording.mp4")
    add_item(lw, 0)
    report = lw.cycle(0)
    assert report.governance.unknown_codes == [
        f"[ACME-0099] Review-20260220_100000-Meeting Recording.mp4: code ACME-0099 is no known assignment "
        f"(tag rule {RULE}); not tagged"]
    assert lw.audit("tagged", "r2") == []
    admin = workflow.Admin(lw.db, "admin@contoso.example", at(1), DAY0 + dt.timedelta(days=1))
    assert workflow.untag(admin, lw.recording("r1"), "ACME-0042") == 1
    lw.days(1, 3)
    assert len(lw.audit("tagged", "r1")) == 1  # the rule never re-tags what an admin untagged
    untagged = lw.audit("untagged", "r1")[0]
    assert untagged.actor == "admin@contoso.example" and untagged.detail["source"] == "cli"


def test_plan_says_a_tag_to_a_closed_assignment_keeps_nothing(lw):
    lw.gw.add_recording("alice", "r1", created(-40), name=NAME)
    item = add_item(lw, 0)
    lw.cycle(0)
    lw.gw.edit_list_item("Assignments", item, ANNA, at(1) - dt.timedelta(hours=1), AssignmentStatus="Closed",
                         ClosedOn=list_date(1))
    lw.cycle(1)
    report = lw.cycle(2, mode=RunMode.PLAN)
    text = "\n".join(plan_lines(report))
    assert f"tagged to ACME-0042, closed on {DAY0 + dt.timedelta(days=1)}: kept nothing since" in text


def test_plan_lists_unknown_codes_and_writes_nothing(lw):
    lw.gw.add_recording("alice", "r2", created(-40), name="[ZZZ-1] Review-20260120_100000-Meeting Recording.mp4")
    calls = lw.gw.list_calls
    report = lw.cycle(0, mode=RunMode.PLAN)
    text = "\n".join(plan_lines(report))
    assert "unknown assignment codes, never guessed (1):" in text and "code ZZZ-1 is no known assignment" in text
    assert "its subject names ZZZ-1, which is no known assignment: kept nothing by it" in text
    assert lw.gw.list_calls == calls  # plan reads no list


def test_a_row_gone_between_the_delta_and_its_versions_is_read_again_not_the_whole_list(lw, monkeypatch):
    kept = add_item(lw, 0)
    gone = add_item(lw, 0, Title="ACME-0043", AssignmentTitle="Audit")
    real = lw.gw.list_item_versions

    async def versions(site_id, list_id, item_id):
        if item_id == gone:
            raise NotFoundError(404, "itemNotFound", "Item not found")
        return await real(site_id, list_id, item_id)

    monkeypatch.setattr(lw.gw, "list_item_versions", versions)
    report = lw.cycle(0)
    assert [a.code for a in assignments.list_all(lw.db)] == ["ACME-0042"]  # the other row applied, by its editor
    assert lw.audit("assignment_recorded")[0].actor.startswith("Anna Admin")
    assert not any("gone (404)" in p for p in report.governance.problems)
    # the changes are read again from the same point next cycle: a row that is there after all is applied then
    monkeypatch.setattr(lw.gw, "list_item_versions", real)
    lw.cycle(1)
    assert sorted(a.code for a in assignments.list_all(lw.db)) == ["ACME-0042", "ACME-0043"]
    assert {a.list_item_id for a in assignments.list_all(lw.db)} == {kept, gone}


def alice_and_case(w: World, recorded: int) -> None:
    """Alice's recording r1 of ``recorded`` days ago, and the running assignment A-1 (IT's, opened long before)."""
    from teamsretention.store.assignments import Acting, Fields

    w.gw.add_user("alice", lang="en-US")
    w.gw.add_recording("alice", "r1", created(recorded))
    assignments.create(w.db, Fields("A-1", "Case", None, DAY0 - dt.timedelta(days=60)),
                       Acting("it@contoso.example", "cli", at(0), DAY0))


def test_a_closing_date_put_before_the_tag_ends_the_cover_with_fresh_warnings_never_an_instant_deletion(tmp_path):
    """Warned on days 0 and 6 (due day 7), the recording is tagged to a running assignment on day 6 and kept. On
    day 31 IT records that the assignment really ended on day 3, before the tag: the tag did keep it meanwhile, so
    the organizer hears again before it goes; old warnings do not count for the new notice."""
    from teamsretention.domain import RecordingRef
    from teamsretention.store.assignments import Acting

    w = World(tmp_path)
    it = "it@contoso.example"
    try:
        alice_and_case(w, -40)
        w.days(0, 5)
        assert warned_on(w, "r1") == [0]
        assignments.tag(w.db, "A-1", RecordingRef("drive-alice", "r1"), tagged_on=DAY0 + dt.timedelta(days=6),
                        actor=it, at=at(6) - dt.timedelta(hours=1), day=DAY0 + dt.timedelta(days=6))
        w.days(6, 30)
        assert w.recording("r1").rule == "assignment" and w.deleted_ids() == []
        assignments.close(w.db, "A-1", closed_on=DAY0 + dt.timedelta(days=3),
                          acting=Acting(it, "cli", at(31) - dt.timedelta(hours=1), DAY0 + dt.timedelta(days=31)))
        w.days(31, 45)
        assert warned_on(w, "r1")[0] == 0 and warned_on(w, "r1")[1:] == [31, 37]
        assert [(a.cycle_date - DAY0).days for a in w.audit("deleted", "r1")] == [38]
        # tagged to an assignment already closed (the closing recorded before the tag): the tag keeps nothing
        w.gw.add_recording("alice", "r2", created(-35))  # another meeting (not r1 back)
        w.days(46, 46)
        assignments.tag(w.db, "A-1", RecordingRef("drive-alice", "r2"), tagged_on=DAY0 + dt.timedelta(days=47),
                        actor=it, at=at(47) - dt.timedelta(hours=1), day=DAY0 + dt.timedelta(days=47))
        w.days(47, 70)
        first, *_ = warned_on(w, "r2")
        [deleted] = [(a.cycle_date - DAY0).days for a in w.audit("deleted", "r2")]
        assert deleted == first + 7  # one notice period, from its first warning: the tag started none
        assert not any("before the recording was tagged" in a.reason for a in w.audit("decision", "r2"))
    finally:
        w.db.dispose()


def test_a_recording_untagged_from_an_assignment_leaves_the_legal_hold_on_that_assignment(tmp_path):
    """A legal hold on assignment A-1 keeps what is tagged to it. IT removes r1's tag (it was never part of the
    case): r1 falls back to the normal rule, with fresh warnings; r2, still tagged, stays held."""
    from teamsretention.domain import Exemption, ExemptionKind, ExemptionStatus, RecordingRef, TargetKind
    from teamsretention.store import exemptions
    from teamsretention.store.assignments import Acting, Fields

    w = World(tmp_path)
    it = "it@contoso.example"
    try:
        w.gw.add_user("alice", lang="en-US")
        w.gw.add_recording("alice", "r1", created(-20))  # due on day 10 without a cover
        w.gw.add_recording("alice", "r2", created(-19))
        assignments.create(w.db, Fields("A-1", "Case", None, DAY0 - dt.timedelta(days=60)),
                           Acting(it, "cli", at(0), DAY0))
        for item in ("r1", "r2"):
            assignments.tag(w.db, "A-1", RecordingRef("drive-alice", item), tagged_on=DAY0, actor=it,
                            at=at(0) - dt.timedelta(hours=1), day=DAY0)
        hold = Exemption(id="EX-1", kind=ExemptionKind.LEGAL_HOLD, status=ExemptionStatus.APPROVED,
                         requested_on=DAY0, target_kind=TargetKind.ASSIGNMENT, target_id="A-1", decided_on=DAY0,
                         review_on=DAY0 + dt.timedelta(days=200))
        exemptions.record_exemption(w.db, hold, actor="dpo@contoso.example", at=at(0) - dt.timedelta(hours=1),
                                    day=DAY0, note="the case")
        w.days(0, 11)
        assert w.recording("r1").rule == w.recording("r2").rule == "legal_hold"
        assignments.untag(w.db, "A-1", RecordingRef("drive-alice", "r1"), untagged_on=DAY0 + dt.timedelta(days=12),
                          acting=Acting(it, "cli", at(12) - dt.timedelta(hours=1), DAY0 + dt.timedelta(days=12)))
        w.days(12, 30)
        assert warned_on(w, "r1") == [12, 18]
        assert [(a.cycle_date - DAY0).days for a in w.audit("deleted", "r1")] == [19]
        assert w.recording("r2").rule == "legal_hold" and warned_on(w, "r2") == []
    finally:
        w.db.dispose()


def test_a_row_closed_without_a_date_keeps_its_closing_date_when_another_column_is_edited(lw):
    lw.gw.add_recording("alice", "r1", created(-40), name=NAME)
    item = add_item(lw, 0)
    lw.cycle(0)
    lw.gw.edit_list_item("Assignments", item, ANNA, at(2) - dt.timedelta(hours=2), AssignmentStatus="Closed")
    lw.cycle(2)
    assert assignments.get(lw.db, "ACME-0042").closed_on == DAY0 + dt.timedelta(days=2)
    for day in (4, 6, 8):  # the client's name corrected, again and again: the closing stays where it was
        lw.gw.edit_list_item("Assignments", item, ANNA, at(day) - dt.timedelta(hours=2), Client=f"ACME AB {day}")
    lw.days(3, 20)
    assert assignments.get(lw.db, "ACME-0042").closed_on == DAY0 + dt.timedelta(days=2)
    assert warned_on(lw, "r1") == [2, 8] and lw.deleted_ids() == ["r1"]
    assert not any("closing date" in a.reason and "changed" in a.reason for a in lw.audit("assignment_updated"))


def test_a_tag_removed_after_the_cap_ends_the_assignments_legal_hold_with_fresh_warnings(tmp_path):
    """The tag kept r1 up to its cap (day 20; warned on days 13 and 19 for it); a legal hold on the assignment,
    approved on day 19 after that warning, kept it on. Removing the tag on day 30 ends the hold for r1: it is
    warned afresh, never deleted on the warnings of the notice the hold interrupted."""
    from teamsretention.domain import Exemption, ExemptionKind, ExemptionStatus, RecordingRef, TargetKind
    from teamsretention.store import exemptions
    from teamsretention.store.assignments import Acting

    w = World(tmp_path, policy=PolicyConfig(assignment_max_days=40))
    it = "it@contoso.example"
    try:
        alice_and_case(w, -20)
        assignments.tag(w.db, "A-1", RecordingRef("drive-alice", "r1"), tagged_on=DAY0 - dt.timedelta(days=19),
                        actor=it, at=at(0) - dt.timedelta(hours=1), day=DAY0)
        w.days(0, 19)
        assert warned_on(w, "r1") == [13, 19]
        hold = Exemption(id="EX-1", kind=ExemptionKind.LEGAL_HOLD, status=ExemptionStatus.APPROVED,
                         requested_on=DAY0 + dt.timedelta(days=19), target_kind=TargetKind.ASSIGNMENT, target_id="A-1",
                         decided_on=DAY0 + dt.timedelta(days=19), review_on=DAY0 + dt.timedelta(days=200))
        exemptions.record_exemption(w.db, hold, actor="dpo@contoso.example", at=at(19) + dt.timedelta(hours=2),
                                    day=DAY0 + dt.timedelta(days=19), note="the case")
        w.days(20, 29)
        assert w.recording("r1").rule == "legal_hold"
        assignments.untag(w.db, "A-1", RecordingRef("drive-alice", "r1"), untagged_on=DAY0 + dt.timedelta(days=30),
                          acting=Acting(it, "cli", at(30) - dt.timedelta(hours=1), DAY0 + dt.timedelta(days=30)))
        w.days(30, 45)
        assert warned_on(w, "r1") == [13, 19, 30, 36]
        assert [(a.cycle_date - DAY0).days for a in w.audit("deleted", "r1")] == [37]
        [decided] = [a for a in w.audit("decision", "r1") if (a.cycle_date - DAY0).days == 30]
        assert "tag to assignment A-1 removed on" in decided.reason and "EX-1 no longer covers it" in decided.reason
    finally:
        w.db.dispose()
