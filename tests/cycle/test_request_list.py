"""Exemptions, legal holds and tags from the "Retention requests" list, decided by the DPO or an IT admin, over
simulated timelines against the in-memory gateway: what is kept, warned and deleted, who decided (from the
version history), what is ignored and reported, and the weekly DPO digest."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from teamsretention.domain import ExemptionStatus
from teamsretention.errors import NotFoundError
from teamsretention.lists import ASSIGNMENTS, REQUESTS
from teamsretention.ports import Identity, ListItemVersion, SiteInfo
from teamsretention.store import assignments, exemptions

from .test_cycle import DAY0, TZ, World, at, created

SITE = "https://contoso.sharepoint.com/sites/records"
LIST = "Retention requests"
LIST_URL = f"{SITE}/Lists/{LIST}"
DPO_MAIL = "dpo@contoso.example"


def person(uid: str) -> Identity:
    return Identity(uid, uid.title(), f"{uid}@contoso.example")


def before(day: int, hours: int = 1) -> dt.datetime:
    """A moment shortly before that day's cycle (people edit the list between cycles)."""
    return at(day) - dt.timedelta(hours=hours)


def iso(day: int) -> str:
    """A date column's value as Graph sends it: midnight in Stockholm, in UTC."""
    local = dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(0), TZ)
    return local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make(tmp_path, **config) -> World:
    options = dict(dpo=("dpo",), it_admins=("carol", "grp-admins"), lists_site=SITE)
    options.update(config)
    w = World(tmp_path, **options)
    w.gw.site = SiteInfo("site-1", SITE, "Records")
    asyncio.run(w.gw.create_list("site-1", LIST, REQUESTS.columns))
    asyncio.run(w.gw.create_list("site-1", "Assignments", ASSIGNMENTS.columns))  # as provision makes both
    for uid in ("alice", "dpo", "carol", "bob", "erin"):
        w.gw.add_user(uid)
    w.gw.groups["erin"] = {"grp-admins"}
    return w


@pytest.fixture
def w(tmp_path):
    world = make(tmp_path)
    yield world
    world.db.dispose()


def request(w: World, uid: str, day: int, *, kind: str = "Exception", scope: str = "Recording",
            item: str | None = None, owner: str | None = None, **fields: object) -> str:
    values: dict[str, object] = dict(RequestKind=kind, Scope=scope, Reason="Contract dispute",
                                     LegalBasis="Limitation Act §2", RequestStatus="Requested")
    if item:
        values["RecordingLink"] = w.gw.web_url(f"drive-{owner or uid}", item)
    if kind == "Exception":
        values["EndDate"] = iso(60)
    if kind == "Legal hold":
        values["ReviewDate"] = iso(20)
    values.update(fields)
    return w.gw.add_list_item(LIST, person(uid), before(day), **{k: v for k, v in values.items() if v is not None})


def decide(w: World, item_id: str, uid: str, day: int, status: str = "Approved", **fields: object) -> None:
    w.gw.edit_list_item(LIST, item_id, person(uid), before(day), RequestStatus=status, **fields)


def only_exemption(w: World) -> exemptions.StoredExemption:
    [e] = exemptions.list_all(w.db)
    return e


def dpo_digests(w: World):
    return [m for m in w.mails_to(DPO_MAIL) if m.subject.startswith("Recording exemptions")]


def test_a_request_from_the_list_approved_by_the_dpo_keeps_until_its_end_then_warns_and_deletes(w):
    w.gw.add_recording("alice", "r1", created(-20))  # due on day 10 without a cover
    item = request(w, "alice", 0, item="r1")
    w.cycle(0)
    e = only_exemption(w)
    assert (e.status, e.source, e.requested_by, e.requested_by_id) == (
        ExemptionStatus.PENDING, "list", "Alice alice", "alice")
    assert e.valid_until == DAY0 + dt.timedelta(days=60) and e.target_id == "drive-alice/r1"
    decide(w, item, "dpo", 1, DecisionNote="Kept for the dispute")
    w.days(1, 61)
    e = only_exemption(w)
    assert e.decided_by == "Dpo dpo" and e.decision_note == "Kept for the dispute"
    [approved] = w.audit("exemption_approved")
    assert approved.actor == "Dpo dpo" and approved.detail["source"] == "list"
    [requested] = w.audit("exemption_requested")
    assert requested.actor == "Alice alice" and requested.detail["source"] == "list"
    # kept past day 10; warned ahead of the exception's end, deleted on it; the exception expired, audited
    from .test_cycle import warned_on
    assert warned_on(w, "r1") == [53, 59] and w.deleted_ids() == ["r1"]
    assert [(a.cycle_date - DAY0).days for a in w.audit("deleted", "r1")] == [60]
    assert e.status is ExemptionStatus.EXPIRED
    [expired] = w.audit("exemption_expired")
    assert expired.detail["source"] == "cycle" and expired.cycle_date == DAY0 + dt.timedelta(days=60)
    # the DPO digest of the week before: the exception ends within 30 days
    assert any("EX-1: exception for recording drive-alice/r1 ends on 2026-05-01" in m.text for m in dpo_digests(w))


def test_an_approval_by_a_non_approver_is_ignored_reported_audited_and_a_real_one_still_counts(w):
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1")
    w.cycle(0)
    decide(w, item, "bob", 1)
    report = w.cycle(1)
    assert only_exemption(w).status is ExemptionStatus.PENDING
    [ignored] = report.governance.ignored
    assert "Bob bob set EX-1 to Approved" in ignored and "neither the DPO nor an IT administrator" in ignored
    [event] = w.audit("decision_ignored")
    assert event.actor == "Bob bob" and event.detail["source"] == "list"
    assert event.detail["refusal"] == "not_approver"
    assert "EX-1 stays pending: an approver decides by setting Status back to Requested" in ignored  # what next
    # the DPO saving the row with Bob's status still in it decides nothing: Bob's version set that status
    w.gw.edit_list_item(LIST, item, person("dpo"), before(2), DecisionNote="Looks fine")
    w.cycle(2)
    assert only_exemption(w).status is ExemptionStatus.PENDING
    # the DPO puts it back and approves: that version is theirs
    decide(w, item, "dpo", 2, "Requested")
    decide(w, item, "dpo", 2, "Approved")
    w.days(2, 7)
    assert only_exemption(w).status is ExemptionStatus.APPROVED and only_exemption(w).decided_by == "Dpo dpo"
    # the next weekly digest (Monday, day 7) tells the DPO who was ignored and why
    monday = [m for m in dpo_digests(w) if "2026-03-09" in m.text]
    assert monday and "Bob bob set EX-1 to Approved" in monday[0].text
    assert "DECISIONS THAT WERE IGNORED (1)" in monday[0].text


def test_self_approval_in_the_list_is_refused_even_for_an_it_admin(w):
    w.gw.add_user("carol")
    w.gw.add_recording("carol", "c1", created(-20))
    item = request(w, "carol", 0, item="c1")
    w.cycle(0)
    decide(w, item, "carol", 1)
    report = w.cycle(1)
    assert only_exemption(w).status is ExemptionStatus.PENDING
    assert "made the request: nobody decides their own request" in report.governance.ignored[0]
    assert w.audit("decision_ignored")[0].detail["refusal"] == "self_approval"


def test_an_item_created_as_approved_is_decided_by_its_creator_and_ignored(w):
    w.gw.add_recording("alice", "r1", created(-20))
    request(w, "alice", 0, item="r1", RequestStatus="Approved")
    report = w.cycle(0)
    assert only_exemption(w).status is ExemptionStatus.PENDING
    assert "Alice alice set EX-1 to Approved" in report.governance.ignored[0]


def test_an_approver_cannot_approve_an_exemption_for_their_own_recordings(w):
    w.gw.add_recording("dpo", "d1", created(-20))
    item = request(w, "carol", 0, item="d1", owner="dpo")  # an IT admin asks to keep the DPO's recording
    w.cycle(0)
    decide(w, item, "dpo", 1)
    report = w.cycle(1)
    assert only_exemption(w).status is ExemptionStatus.PENDING
    assert "organised the recordings it covers" in report.governance.ignored[0]
    assert w.audit("decision_ignored")[0].detail["refusal"] == "own_recordings"


def test_a_group_member_decides_and_an_unreadable_membership_fails_closed(w):
    w.gw.add_recording("alice", "r1", created(-20))
    w.gw.add_recording("alice", "r2", created(-20))
    first, second = request(w, "alice", 0, item="r1"), request(w, "alice", 0, item="r2")
    w.cycle(0)
    decide(w, first, "erin", 1)
    w.cycle(1)
    assert exemptions.get(w.db, "EX-1").status is ExemptionStatus.APPROVED
    w.gw.fail_groups.add("erin")
    decide(w, second, "erin", 2)
    report = w.cycle(2)
    assert exemptions.get(w.db, "EX-2").status is ExemptionStatus.PENDING
    assert any("group memberships of erin could not be read" in p for p in report.governance.problems)
    assert not report.governance.ignored  # not a refusal: Graph failed, not erin; looked at again next cycle
    w.gw.fail_groups.clear()
    w.cycle(3)
    assert exemptions.get(w.db, "EX-2").status is ExemptionStatus.APPROVED


def test_a_deleted_list_item_is_reported_and_the_approved_exemption_stands(w):
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1")
    w.cycle(0)
    decide(w, item, "dpo", 1)
    w.cycle(1)
    w.gw.delete_list_item(LIST, item)
    report = w.cycle(2)
    assert any("list item 1 of exemption EX-1 was deleted: the exemption stays approved" in p
               for p in report.governance.problems)
    assert only_exemption(w).status is ExemptionStatus.APPROVED
    assert len(w.audit("list_item_deleted")) == 1
    w.days(3, 20)
    assert w.deleted_ids() == []  # day 10 came and went: the store is the record
    assert not any("was deleted" in p for p in w.reports[3].governance.problems)  # reported once


def test_an_unchanged_list_costs_one_request_a_cycle(w):
    w.gw.add_recording("alice", "r1", created(-20))
    request(w, "alice", 0, item="r1")
    w.cycle(0)
    # for each list: the site, the list, one delta page; and the new row's first version, which names its creator
    # (Graph's delta gives createdBy without an id)
    assert w.reports[0].governance.list_requests == 7
    for day in (1, 2, 3):
        calls = w.gw.list_calls
        w.cycle(day)  # each unchanged list: one request
        assert w.gw.list_calls - calls == 2 and w.reports[day].governance.list_requests == 2


@pytest.mark.parametrize(("fields", "problem"), [
    ({"LegalBasis": None}, "Legal basis is empty"),
    ({"Reason": ""}, "Reason is empty"),
    ({"EndDate": None}, "Keep until is empty"),
    ({"EndDate": "next spring"}, "Keep until 'next spring' is not a date"),
    ({"RecordingLink": "my recording from Tuesday"}, "is not a web link"),
])  # a link to no recording waits for the inventory first: test_request_list_retries
def test_an_invalid_row_is_reported_and_never_applied(w, fields, problem):
    w.gw.add_recording("alice", "r1", created(-20))
    request(w, "alice", 0, item="r1", **fields)
    report = w.cycle(0)
    assert exemptions.list_all(w.db) == []
    assert any(problem in p and "not applied" in p for p in report.governance.problems), report.governance.problems
    [invalid] = w.audit("request_invalid")
    assert invalid.actor == "Alice alice" and invalid.detail["source"] == "list"


def test_a_legal_hold_without_a_review_date_is_invalid(w):
    w.gw.add_recording("alice", "r1", created(-20))
    request(w, "alice", 0, kind="Legal hold", item="r1", ReviewDate=None)
    report = w.cycle(0)
    assert exemptions.list_all(w.db) == []
    assert any("Review on is empty" in p for p in report.governance.problems)


def test_a_request_for_someone_elses_recording_is_refused(w):
    w.gw.add_recording("alice", "r1", created(-20))
    request(w, "bob", 0, item="r1", owner="alice")
    report = w.cycle(0)
    assert exemptions.list_all(w.db) == []
    assert any("did not organise that recording" in p for p in report.governance.problems)


def test_a_tag_row_tags_the_recording_and_an_unknown_code_is_reported(w):
    assignments.create(w.db, assignments.Fields("ACME-1", "Acme audit", "Acme", DAY0),
                       assignments.Acting("it@contoso.example", "cli", at(0), DAY0))
    w.gw.add_recording("alice", "r1", created(-20))
    w.gw.add_recording("alice", "r2", created(-20))
    request(w, "alice", 0, kind="Tag to assignment", item="r1", AssignmentCode="ACME-1")
    request(w, "alice", 0, kind="Tag to assignment", item="r2", AssignmentCode="NOPE-9")
    report = w.cycle(0)
    [tagged] = w.audit("tagged")
    assert tagged.actor == "Alice alice" and tagged.recording_key == "drive-alice/r1"
    assert any("'NOPE-9' is no known assignment" in c for c in report.governance.unknown_codes)
    w.days(1, 12)
    assert w.deleted_ids() == ["r2"]  # r1 is kept by its active assignment


def test_a_pending_request_postpones_deletion_only_for_the_grace_and_the_warning_says_so(w):
    w.gw.add_recording("alice", "r1", created(-20))  # due on day 10
    request(w, "alice", 0, item="r1")
    w.days(0, 22)
    from .test_cycle import warned_on
    assert warned_on(w, "r1") == [14, 20]  # grace ends on day 14: a new episode, fresh notice
    assert [(a.cycle_date - DAY0).days for a in w.audit("deleted", "r1")] == [21]
    first = w.mails_to("alice@contoso.example")[0]
    assert "kept for at most 14 days from the day it was first asked for (asking again adds no days)" in first.text
    assert LIST_URL in first.text and LIST_URL in first.html
    # the DPO was told about the pending request, with its age
    assert "EX-1: exception for recording drive-alice/r1" in dpo_digests(w)[1].text
    assert "(7 days ago, via list)" in dpo_digests(w)[1].text


def test_a_legal_hold_keeps_a_recording_indefinitely_and_is_in_the_review_digest(w):
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, kind="Legal hold", scope="My recordings")
    w.cycle(0)
    decide(w, item, "dpo", 1)
    w.days(1, 45)
    assert w.deleted_ids() == [] and w.recording("r1").rule == "legal_hold"
    assert only_exemption(w).target_kind.value == "organizer" and only_exemption(w).target_id == "alice"
    texts = [m.text for m in dpo_digests(w)]
    assert any("LEGAL HOLDS DUE FOR REVIEW (1)" in t and "review on 2026-03-22" in t for t in texts)  # day 14
    assert any("review overdue since 2026-03-22" in t for t in texts)  # day 21 on


def test_the_dpo_digest_goes_once_a_week_recorded_before_it_is_sent(tmp_path):
    w = make(tmp_path, dpo_digest_weekday=2, dpo_digest_to=("privacy@contoso.example",))  # Wednesdays
    w.gw.add_recording("alice", "r1", created(-3))
    request(w, "alice", 0, item="r1")
    w.days(0, 15)
    sent = [(a.cycle_date - DAY0).days for a in w.audit("dpo_digest_sent")]
    assert sent == [2, 9]  # Wednesday 4 and 11 March, nothing twice in a week
    kinds = [a.kind.value for a in w.audit() if a.kind.value.startswith("dpo_digest")]
    assert kinds == ["dpo_digest_intended", "dpo_digest_sent"] * 2
    assert [m.subject for m in w.mails_to("privacy@contoso.example")][0].startswith(
        "Recording exemptions, week 10: 1 pending")
    assert dpo_digests(w) == []  # dpo_digest_to replaces the DPO's own mailbox
    w.db.dispose()


def test_without_lists_the_warning_names_the_approvers(tmp_path):
    w = make(tmp_path, lists_site=None, approvers=(DPO_MAIL,))
    w.gw.add_recording("alice", "r1", created(-25))
    w.days(0, 3)
    first = w.mails_to("alice@contoso.example")[0]
    assert f"Exemptions are approved by: {DPO_MAIL}." in first.text and "Retention requests list" not in first.text
    assert w.reports[0].governance.list_requests == 0
    w.db.dispose()


# --- who created a row, when Graph's delta does not say -------------------------------------------------------
def test_a_delta_that_names_its_creator_needs_no_version_request(w):
    w.gw.delta_identities = True  # the other answer: delta items carry createdBy.user.id
    w.gw.add_recording("alice", "r1", created(-20))
    request(w, "alice", 0, item="r1")
    report = w.cycle(0)
    assert report.governance.list_requests == 6  # the site, the list and a delta page for each list; no versions
    assert only_exemption(w).requested_by == "Alice alice"


def test_a_row_whose_history_no_longer_starts_at_its_creation_is_refused(w):
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1")
    decide(w, item, "bob", 0, "Requested", Reason="Contract dispute, see mail")  # version 2.0, by bob
    w.gw.lists[LIST].items[item].versions.pop()  # version 1.0 trimmed (a version limit): nobody names the creator
    report = w.cycle(0)
    assert exemptions.list_all(w.db) == []
    assert any("its creator has no Entra identity" in p for p in report.governance.problems)
    [invalid] = w.audit("request_invalid")
    assert invalid.detail["source"] == "list"


def test_a_single_version_rewritten_in_place_does_not_name_the_creator(w):
    """With versioning off SharePoint keeps one version, 1.0, that names the last editor: Bob, hours after
    Alice created the row, must not become its requester."""
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1")
    row = w.gw.lists[LIST].items[item]
    row.versions = [ListItemVersion("1.0", before(0, hours=1), person("bob"), dict(row.fields))]
    row.created_at = before(0, hours=6)
    w.cycle(0)
    assert exemptions.list_all(w.db) == []
    assert [a.kind for a in w.audit("request_invalid")] == ["request_invalid"]


def test_a_row_deleted_between_the_delta_and_its_versions_is_skipped_not_the_list(w, monkeypatch):
    w.gw.add_recording("alice", "r1", created(-20))
    w.gw.add_recording("alice", "r2", created(-20))
    gone = request(w, "alice", 0, item="r1")
    request(w, "alice", 0, item="r2")
    real = w.gw.list_item_versions

    async def versions(site_id, list_id, item_id):
        if item_id == gone:
            raise NotFoundError(404, "itemNotFound", "Item not found")
        return await real(site_id, list_id, item_id)

    monkeypatch.setattr(w.gw, "list_item_versions", versions)
    report = w.cycle(0)
    assert [e.target_id for e in exemptions.list_all(w.db)] == ["drive-alice/r2"]  # the other row still counts
    assert not any("could not be read" in p for p in report.governance.problems)
    assert w.audit("request_invalid") == []  # gone, not invalid: the next delta reports the deletion


def test_a_refused_revocation_says_how_to_revoke(w):
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1")
    w.cycle(0)
    decide(w, item, "dpo", 1)
    w.cycle(1)
    decide(w, item, "bob", 2, "Revoked")
    report = w.cycle(2)
    assert only_exemption(w).status is ExemptionStatus.APPROVED
    [ignored] = report.governance.ignored
    assert "EX-1 stays approved: an approver revokes it by setting Status back to Approved and then to Revoked, " \
           "or with `teamsretention exemptions revoke EX-1`" in ignored


def test_an_approval_of_a_row_whose_terms_changed_after_it_was_read_is_ignored_and_says_what_changed(w):
    """Alice asks to keep all her recordings until far ahead; once the store read it, she narrows the row to one
    recording for a month, and the DPO approves what the row now shows. The store holds the first terms: applying
    the approval to them would keep what the DPO never saw, so nothing is applied, and the DPO is told."""
    w.gw.add_recording("alice", "r1", created(-20))  # due on day 10 without a cover
    item = request(w, "alice", 0, scope="My recordings", EndDate=iso(700))
    w.cycle(0)
    w.gw.edit_list_item(LIST, item, person("alice"), before(1, hours=3), Scope="Recording",
                        RecordingLink=w.gw.web_url("drive-alice", "r1"), EndDate=iso(30))
    decide(w, item, "dpo", 1, DecisionNote="ok for r1 for a month")

    report = w.cycle(1)

    e = only_exemption(w)
    assert e.status is ExemptionStatus.PENDING and e.valid_until == DAY0 + dt.timedelta(days=700)
    [ignored] = report.governance.ignored
    assert f"Dpo dpo set {e.id} to Approved in the list (item {item}): ignored" in ignored
    assert "the row's Applies to, Keep until changed after teamsretention read the request" in ignored
    assert f"`teamsretention exemptions approve {e.id}`" in ignored
    [audited] = w.audit("decision_ignored")
    assert audited.detail["refusal"] == "terms_changed"
    assert w.audit("exemption_approved") == []
    # the DPO's decision note alone, with the terms as read, is an approval
    w.gw.edit_list_item(LIST, item, person("alice"), before(2, hours=3), Scope="My recordings", RecordingLink="",
                        EndDate=iso(700))
    decide(w, item, "dpo", 2, "Requested")
    decide(w, item, "dpo", 2, "Approved", DecisionNote="all of them, as asked")
    w.cycle(2)
    assert only_exemption(w).status is ExemptionStatus.APPROVED


def test_an_approver_who_sets_another_end_date_while_approving_approves_that_date(w):
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1", EndDate=iso(90))
    w.cycle(0)
    decide(w, item, "dpo", 1, EndDate=iso(40), DecisionNote="a month is enough")  # in one save

    report = w.cycle(1)

    e = only_exemption(w)
    assert e.status is ExemptionStatus.APPROVED and e.valid_until == DAY0 + dt.timedelta(days=40)
    assert report.governance.ignored == []
    [approved] = w.audit("exemption_approved")
    assert approved.detail["valid_until_was"] == str(DAY0 + dt.timedelta(days=90))
    assert f"valid until {DAY0 + dt.timedelta(days=40)}" in approved.reason


def test_an_edit_of_a_column_the_request_does_not_use_does_not_hold_its_approval_back(w):
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1")
    w.cycle(0)
    w.gw.edit_list_item(LIST, item, person("alice"), before(1, hours=3), AssignmentCode="ACME-1", ReviewDate=iso(5))
    decide(w, item, "dpo", 1)

    assert w.cycle(1).governance.ignored == []
    assert only_exemption(w).status is ExemptionStatus.APPROVED


@pytest.mark.parametrize("trimmed", [False, True], ids=["version-read-in-history", "version-read-trimmed"])
def test_an_end_date_the_requester_changed_is_not_taken_for_the_approvers(w, trimmed):
    """With the version the request was read from gone from the history (a version limit), the approval is
    compared with what the store holds instead."""
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1", EndDate=iso(40))
    w.cycle(0)
    if trimmed:
        w.gw.lists[LIST].items[item].versions.pop()  # version 1.0
    w.gw.edit_list_item(LIST, item, person("alice"), before(1, hours=3), EndDate=iso(900))
    decide(w, item, "dpo", 1)

    [ignored] = w.cycle(1).governance.ignored

    assert "the row's Keep until changed after teamsretention read the request" in ignored
    assert only_exemption(w).status is ExemptionStatus.PENDING


def test_an_approvers_new_end_date_already_past_is_refused_not_approved(w):
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1", EndDate=iso(90))
    w.cycle(0)
    decide(w, item, "dpo", 5, EndDate=iso(3))  # a typo: a date before the approval

    [ignored] = w.cycle(5).governance.ignored

    assert "the row's Keep until changed after teamsretention read the request" in ignored
    assert only_exemption(w).status is ExemptionStatus.PENDING and w.deleted_ids() == []
