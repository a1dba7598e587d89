"""Graph as a real tenant answers it (v1.0: no Teams facets), on the simulator: each case a review found.

Recognition by folder and name, and what it cannot vouch for; channels that fail or migrated; members
behind the advanced-query rule; recordings no user made; paging that loops; a re-provisioned OneDrive; a
recording moved to another drive; mail addresses without a mailbox; a sendMail answering another 2xx.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from teamsretention.cycle import ScopeRules
from teamsretention.domain import Exemption, ExemptionKind, ExemptionStatus, RecordingRef, RecordingState
from teamsretention.store import exemptions, governance, recordings

from .test_cycle import DAY0, at


def rec(w: Any, alias: str) -> recordings.StoredRecording:
    item_id = w.key(alias)
    return next(r for r in recordings.list_all(w.db) if r.item_id == item_id)


def test_on_v1_0_recordings_are_recognised_by_folder_and_name_and_the_rest_is_listed_unsure(make_world):
    w = make_world("""
[[recordings]]
key = "ok"
organizer = "anna"
subject = "Weekly sync"
age_days = 25

[[files]]
key = "german"
owner = "anna"
folder = "Recordings"
name = "Kickoff-20260201_101500-Sitzungsaufnahme.mp4"
mime_type = "video/mp4"
age_days = 40

[[files]]
key = "clip"
owner = "anna"
folder = "Recordings"
name = "Holiday clip.mp4"
mime_type = "video/mp4"
age_days = 40
""")
    report = w.cycle(0)
    facets = w.model.knobs.media_facets
    expected = "teams_facets" if facets else "recordings_folder_and_teams_name"
    assert report.inventory.evidence == {expected: 1}
    assert rec(w, "ok").evidence == expected and w.audit("discovered", "ok")[0].detail["evidence"] == expected
    unsure = report.inventory.unsure
    assert any("Sitzungsaufnahme" in u and "recognition.name_suffixes" in u for u in unsure)
    assert any("Holiday clip.mp4" in u and "no Teams timestamp" in u for u in unsure)
    w.days(1, 40)
    assert rec(w, "german").state == RecordingState.UNSURE and not w.audit("warned", "german")
    assert not w.in_recycle_bin("german") and not w.in_recycle_bin("clip")
    assert w.in_recycle_bin("ok")


def test_an_added_suffix_makes_its_recordings_governed(make_world):
    from teamsretention.domain import DEFAULT_NAME_SUFFIXES, RecognitionConfig

    w = make_world("""
[[files]]
key = "german"
owner = "anna"
folder = "Recordings"
name = "Kickoff-20260201_101500-Sitzungsaufnahme.mp4"
mime_type = "video/mp4"
age_days = 40
""", recognition=RecognitionConfig(name_suffixes=(*DEFAULT_NAME_SUFFIXES, "Sitzungsaufnahme")))
    w.days(0, 8)
    assert rec(w, "german").evidence is not None and w.audit("warned", "german") and w.in_recycle_bin("german")


def test_a_renamed_recordings_folder_takes_its_recordings_out_of_governance(make_world):
    w = make_world("""
[[folders]]
key = "anna-rec"
owner = "anna"
path = ["Recordings"]

[[recordings]]
key = "r"
organizer = "anna"
subject = "Weekly sync"
age_days = 20

[[events]]
day = 2
kind = "modify_item"
item = "anna-rec"
name = "Old stuff"
""")
    w.days(0, 30)
    if w.model.knobs.media_facets:  # Teams' own facets say what it is: a folder name does not change that
        assert w.in_recycle_bin("r")
        return
    assert rec(w, "r").state == RecordingState.UNSURE and not w.in_recycle_bin("r")
    assert "renamed or moved" in w.audit("untracked", "r")[0].reason
    assert any("Weekly sync" in u for u in w.reports[30].inventory.unsure)


def test_a_recordings_folder_moved_away_and_back_follows_the_folder(make_world):
    w = make_world("""
[[folders]]
key = "anna-rec"
owner = "anna"
path = ["Recordings"]

[[recordings]]
key = "r"
organizer = "anna"
subject = "Weekly sync"
age_days = 20

[[events]]
day = 1
kind = "move_item"
item = "anna-rec"
to = ["Archive"]

[[events]]
day = 3
kind = "move_item"
item = "anna-rec"
to = []
""")
    w.days(0, 2)
    if not w.model.knobs.media_facets:
        assert rec(w, "r").state == RecordingState.UNSURE
    w.days(3, 20)
    assert rec(w, "r").state in (RecordingState.TRACKED, RecordingState.DELETED)
    assert w.in_recycle_bin("r")  # back in place: governed again, warned afresh and deleted


TEAM = """
[[teams]]
key = "sales"
display_name = "Sales"
members = ["anna", "bob"]
owners = ["bob"]
channels = [{ name = "General" }, { name = "Board", membership = "private" }, { name = "Deals", membership = "private" }]
"""

SERVICE_RECORDING = """
[[recordings]]
key = "bot"
channel = "sales/General"
subject = "Town hall"
age_days = 25
created_by_app = "Skype Teams Services"
"""  # a channel recording no user made: Teams' own service recorded it


def test_a_failing_private_channel_is_reported_and_the_teams_other_drives_governed(make_world):
    w = make_world(TEAM + """
[knobs]
failing_files_folders = { "sales/Board" = {} }

[[recordings]]
key = "deal"
organizer = "anna"
channel = "sales/Deals"
subject = "Deal review"
age_days = 25

[[recordings]]
key = "general"
organizer = "anna"
channel = "sales/General"
subject = "All hands"
age_days = 25
""")
    report = w.cycle(0)
    assert report.exit_code == 1 and report.status == "incomplete"
    assert any("'Board'" in p and "Sharepoint folder not found." in p for p in report.problems)
    assert rec(w, "deal").state == RecordingState.TRACKED and rec(w, "general").state == RecordingState.TRACKED
    assert w.audit("warned", "deal") or w.audit("would_warn", "deal") or report.warned


@pytest.mark.parametrize("parent_reference", [True, False])
def test_a_migrated_private_channel_is_governed_through_its_own_site(make_world, parent_reference):
    w = make_world(TEAM + f"""
[knobs]
migrated_channels = {{ "sales/Board" = {{ parent_reference = {str(parent_reference).lower()} }} }}

[[recordings]]
key = "board"
organizer = "anna"
channel = "sales/Board"
subject = "Board meeting"
age_days = 25
""")
    report = w.cycle(0)
    assert report.exit_code == 0 and rec(w, "board").state == RecordingState.TRACKED


@pytest.mark.parametrize("advanced", [True, False], ids=["cast-needs-advanced-query", "cast-accepted"])
def test_scope_by_group_works_whether_or_not_graph_insists_on_the_advanced_query(make_world, advanced):
    w = make_world(f"""
[knobs]
cast_requires_advanced_query = {str(advanced).lower()}

[[groups]]
key = "staff"
display_name = "Staff"
members = ["anna"]

[[recordings]]
key = "a"
organizer = "anna"
age_days = 25

[[recordings]]
key = "b"
organizer = "bob"
age_days = 25
""", scope=ScopeRules(include_groups=("staff",)))
    w.config = type(w.config)(**{**w.config.__dict__, "scope": ScopeRules(include_groups=(w.key("staff"),))})
    report = w.cycle(0)
    assert report.exit_code == 0 and report.inventory.users_in_scope == 1
    assert [r.organizer_id for r in recordings.list_all(w.db)] == [w.key("anna")]


def test_a_channel_recording_no_user_made_warns_the_teams_owners(make_world):
    w = make_world(TEAM + SERVICE_RECORDING)
    w.cycle(0)
    mails = [m for m in w.model.mail_log if m["to"] == ["bob@contoso.example"]]
    assert len(mails) == 1 and "Town hall" in mails[0]["content"]
    assert not [m for m in w.model.mail_log if "it-support@contoso.example" in m["to"]]


def test_a_channel_recording_whose_team_has_no_owner_goes_to_the_fallback_contact(make_world):
    w = make_world(TEAM.replace('owners = ["bob"]', "owners = []") + SERVICE_RECORDING)
    w.cycle(0)
    assert [m["to"] for m in w.model.mail_log] == [["it-support@contoso.example"]]


def test_a_drive_feed_whose_links_loop_is_incomplete_and_nothing_in_it_is_deleted(make_world):
    w = make_world("""
[knobs]
page_size = 2
next_link_loops = ["anna"]

[[recordings]]
key = "r1"
organizer = "anna"
age_days = 40

[[recordings]]
key = "r2"
organizer = "anna"
age_days = 41

[[recordings]]
key = "r3"
organizer = "anna"
age_days = 42
""")
    w.days(0, 12)
    assert all(w.reports[d].exit_code == 1 for d in range(13))
    assert not w.model.recycle_bin and not w.mails_to("anna@contoso.example")
    assert "lead back" in " ".join(w.reports[0].problems) or w.reports[0].inventory.drives_incomplete


def test_a_re_provisioned_onedrive_is_picked_up_and_the_old_one_let_go(make_world):
    # the replacement is noticed when the old drive is read (404): here daily; an idle drive within
    # max_poll_interval_days, and a fresh recording in the new drive is still found before its first warning
    w = make_world("""
[[recordings]]
key = "old"
organizer = "anna"
age_days = 5

[[events]]
day = 3
kind = "replace_onedrive"
user = "anna"

[[events]]
day = 4
kind = "add_recording"
key = "new"
organizer = "anna"
age_days = 25
""", max_poll_interval_days=1)
    w.days(0, 6)
    assert w.reports[3].exit_code == 0 and w.reports[6].exit_code == 0
    assert rec(w, "old").state == RecordingState.GONE and "replaced" in w.audit("vanished", "old")[0].reason
    assert rec(w, "new").state == RecordingState.TRACKED


def test_a_recording_moved_to_another_drive_keeps_its_legal_hold(make_world):
    w = make_world("""
[[recordings]]
key = "held"
organizer = "anna"
subject = "Dispute"
age_days = 40
time = "09:00"
size = 1234
""")
    w.cycle(0)
    held = rec(w, "held")
    hold = Exemption(id="EX-1", kind=ExemptionKind.LEGAL_HOLD, status=ExemptionStatus.APPROVED, requested_on=DAY0,
                     target_id=held.ref.key, decided_on=DAY0, review_on=DAY0 + dt.timedelta(days=90),
                     reason="Litigation", decided_by="dpo@contoso.example")
    exemptions.record_exemption(w.db, hold, actor="dpo@contoso.example", at=at(0), day=DAY0, note="hold")
    # Moved to Bob's OneDrive: Graph gives the copy a new id and the original leaves Anna's drive.
    item = w.model.find_item("held")
    w.model.delete_item(item, by="user", permanent=True)
    bob = w.model.find_user("bob")
    w.model.add_file(bob.drive_id, ["Recordings"], held.name, held.created_at, mime_type="video/mp4", size=1234,
                     created_by=bob.id, teams_recording=True)
    w.days(1, 40)
    moved = next(r for r in recordings.list_all(w.db) if r.drive_id == bob.drive_id)
    assert moved.moved_from == held.ref.key and moved.rule == "legal_hold"
    assert not w.model.recycle_bin and not w.mails_to("bob@contoso.example")
    assert w.audit("moved") and governance.load(w.db).exemptions[0].target_id == RecordingRef(
        held.drive_id, held.item_id).key


def test_a_mail_address_without_a_mailbox_starts_no_notice_the_fallback_contact_reads_it(make_world):
    w = make_world("""
[[users]]
key = "cons"
display_name = "Consultant"
mail = "cons@partner.example"
has_mailbox = false

[[recordings]]
key = "r"
organizer = "cons"
age_days = 25
""")
    w.cycle(0)
    assert [m["to"] for m in w.model.mail_log] == [["it-support@contoso.example"]]


def test_a_send_mail_answered_with_another_2xx_is_not_resent_and_starts_no_notice(make_world):
    w = make_world("""
[knobs]
send_mail_status = 200

[[recordings]]
key = "r"
organizer = "anna"
age_days = 25
""")
    w.cycle(0)
    w.cycle(0)  # the same day again
    assert len(w.mails_to("anna@contoso.example")) == 1
    assert w.audit("warn_outcome_unknown", "r") and not w.audit("warned", "r")


def test_every_request_the_adapter_makes_resolves_in_the_v1_0_schema(make_world):
    from .. import csdl

    w = make_world(TEAM + """
[knobs]
migrated_channels = { "sales/Deals" = {} }

[[groups]]
key = "staff"
display_name = "Staff"
members = ["anna", "bob"]

[[recordings]]
key = "mine"
organizer = "anna"
age_days = 40

[[recordings]]
key = "bot"
channel = "sales/General"
subject = "Town hall"
age_days = 40
created_by_app = "Skype Teams Services"

[[recordings]]
key = "deal"
organizer = "anna"
channel = "sales/Deals"
age_days = 40
""")
    w.config = type(w.config)(**{**w.config.__dict__, "scope": ScopeRules(include_groups=(w.key("staff"),))})
    w.days(0, 8)
    paths = {r["path"] for r in w.model.requests.recent if r["path"].startswith("/v1.0/")}
    kinds = {r["kind"] for r in w.model.requests.recent}
    assert {"drive.delta", "item.get", "item.delete", "mail.send", "group.members", "channel.filesFolder"} <= kinds
    for segment in ("/owners", "/mailboxSettings", "/shares/", "/transitiveMembers/", "/root/delta", "/sendMail"):
        assert any(segment in p for p in paths), segment
    # $batch is OData's batch endpoint, not a path of the schema; the requests inside it are logged (and checked) alone.
    unresolved = sorted(p for p in paths if p != "/v1.0/$batch" and csdl.resolve_path(p.removeprefix("/v1.0")) is None)
    assert unresolved == []
