"""End to end on the simulator: the real msgraph-sdk adapter talks Graph's wire format to the in-process
simulator (httpx ASGI transport); the cycle, the store and the digests are the production ones.

What is asserted is what a user would see in the tenant: the simulator's mail log and recycle bin, and
the audit trail.
"""

from __future__ import annotations

import asyncio
from typing import Any

from teamsretention.cycle import Cycle, CycleConfig, ScopeRules
from teamsretention.domain import RunMode
from teamsretention.store import control

from .test_cycle import at


def test_warned_at_offsets_deleted_on_due_day_and_receipt_sent(make_world):
    w = make_world("""
[[recordings]]
key = "weekly"
organizer = "anna"
subject = "Weekly sync"
age_days = 20
time = "09:30"
""")
    w.days(0, 11)
    assert w.day_of(w.audit("warned", "weekly")) == [3, 9]
    assert w.day_of(w.audit("deleted", "weekly")) == [10]
    assert w.in_recycle_bin("weekly")
    mails = w.mails_to("anna@contoso.example")
    assert len(mails) == 3  # two warnings and the receipt the day after
    assert "2026-03-12" in str(mails[0])  # the deletion date, in a Swedish digest
    assert "Weekly sync" in str(mails[0])


def test_late_recording_is_warned_first_and_deleted_only_after_minimum_notice(make_world):
    # An old file arriving is found when its drive is read: here every drive daily (an idle drive is read every
    # max_poll_interval_days, so such a file may be found, and warned about, up to that many days later).
    w = make_world("""
[[events]]
day = 2
hours = 3
kind = "add_recording"
key = "late"
organizer = "bob"
subject = "Board prep"
age_days = 35
""", max_poll_interval_days=1)
    w.days(0, 12)
    assert w.day_of(w.audit("warned", "late")) == [3, 9]
    assert w.day_of(w.audit("deleted", "late")) == [10]  # first warning + 7 days, not "already overdue"


def test_label_blocked_recording_is_kept_with_rule_label(make_world):
    w = make_world("""
[[recordings]]
key = "contract"
organizer = "anna"
subject = "Contract negotiation"
age_days = 45
label = { name = "Legal - Contracts 10y", behavior = "retain", is_delete_allowed = false }
""")
    w.days(0, 10)
    assert w.model.mail_log == [] and not w.in_recycle_bin("contract")
    decisions = w.audit("decision", "contract")
    assert decisions[-1].rule == "label" and "Legal - Contracts 10y" in decisions[-1].reason


def test_locked_recording_is_blocked_with_graphs_code_and_retried_with_growing_gaps(make_world):
    w = make_world("""
[knobs]
locked_items = { "open" = { until_day = 30 } }

[[recordings]]
key = "open"
organizer = "anna"
subject = "Vendor call"
age_days = 40
""")
    w.days(0, 20)
    blocked = w.audit("delete_blocked", "open")
    assert w.day_of(blocked) == [7, 8, 10, 14]
    assert blocked[0].detail["status"] == 423 and blocked[0].detail["code"]
    assert not w.in_recycle_bin("open")


def test_403_on_every_attempted_deletion_fails_the_cycle_naming_the_permission(make_world):
    w = make_world("""
[knobs]
deny_all_deletes = true

[[recordings]]
key = "a"
organizer = "anna"
subject = "One"
age_days = 40

[[recordings]]
key = "b"
organizer = "bob"
subject = "Two"
age_days = 40

[[recordings]]
key = "c"
organizer = "bob"
subject = "Three"
age_days = 40
""")
    w.days(0, 7)
    report = w.reports[7]
    assert report.exit_code == 1
    assert any("Files.ReadWrite.All" in p for p in report.problems)


def test_blast_radius_stops_all_deletions_with_exit_3(make_world):
    recs = "".join(f"""
[[recordings]]
key = "r{i}"
organizer = "anna"
subject = "Standup {i}"
age_days = 40
""" for i in range(6))
    w = make_world(recs, max_deletions_per_cycle=5)
    w.days(0, 7)
    assert w.reports[0].digests_sent == 1
    assert w.reports[7].exit_code == 3 and w.model.recycle_bin == {}
    assert "max_deletions_per_cycle = 5" in w.audit("safety_stop")[0].reason


def test_enforce_false_sends_nothing_and_deletes_nothing(make_world):
    w = make_world("""
[[recordings]]
key = "old"
organizer = "anna"
subject = "Old"
age_days = 45
""")
    w.days(0, 12, mode=RunMode.DRY_RUN)
    assert w.model.mail_log == [] and w.model.recycle_bin == {}
    assert w.audit("would_warn", "old")


def test_pause_stops_deletions(make_world):
    w = make_world("""
[[recordings]]
key = "old"
organizer = "anna"
subject = "Old"
age_days = 45
""")
    w.days(0, 6)
    control.set_paused(w.db, True, reason="DPO review", by="dpo@contoso.example", now=at(6))
    w.days(7, 9)
    assert not w.in_recycle_bin("old") and w.audit("deletions_paused")


def test_failed_send_starts_no_notice(make_world):
    w = make_world("""
[knobs]
failing_mail_recipients = { "anna@contoso.example" = 400 }

[[recordings]]
key = "r"
organizer = "anna"
subject = "Weekly"
age_days = 25
""")
    w.days(0, 8)
    assert w.audit("warn_failed", "r") and not w.audit("warned", "r")
    assert not w.in_recycle_bin("r") and w.reports[8].exit_code == 1
    # exactly one sendMail attempt per day: never retried automatically (a retry could duplicate mail)
    attempts = [e for e in w.model.rejected_mail]
    assert len(attempts) == 9


def test_interrupted_cycle_rerun_sends_no_duplicate_and_loses_no_audit(make_world):
    w = make_world("""
[[recordings]]
key = "a"
organizer = "anna"
subject = "A"
age_days = 25

[[recordings]]
key = "b"
organizer = "bob"
subject = "B"
age_days = 25
""")
    stop = asyncio.Event()
    real = Cycle.run

    original_send = None

    async def run_and_stop_after_first_mail(self: Cycle, **kw: Any) -> Any:
        nonlocal original_send
        original_send = self.gateway.send_mail

        async def send(sender: str, mail: Any) -> None:
            await original_send(sender, mail)
            stop.set()

        self.gateway.send_mail = send  # type: ignore[method-assign]
        return await real(self, **kw)

    Cycle.run = run_and_stop_after_first_mail  # type: ignore[method-assign]
    try:
        report = w.cycle(0, stop=stop)
    finally:
        Cycle.run = real  # type: ignore[method-assign]
    assert report.status == "interrupted" and len(w.model.mail_log) == 1
    before = [(a.id, a.kind) for a in w.audit("warned")]
    w.cycle(0)
    w.cycle(0)
    assert len(w.model.mail_log) == 2
    assert [(a.id, a.kind) for a in w.audit("warned")][: len(before)] == before


def test_restored_recording_starts_a_new_episode(make_world):
    # the restore is seen when the drive is read: every drive daily here (idle drives: test_idle_polling.py)
    w = make_world("""
[[recordings]]
key = "r"
organizer = "anna"
subject = "Retro"
age_days = 30
""", max_poll_interval_days=1)
    w.days(0, 7)
    assert w.day_of(w.audit("deleted", "r")) == [7]
    drive = w.model.item_drive[w.key("r")]
    w.model.restore_item(drive, w.key("r"))
    w.days(8, 20)
    assert w.audit("restored", "r")
    assert w.day_of(w.audit("warned", "r"))[-2:] == [8, 14]
    assert w.day_of(w.audit("deleted", "r")) == [7, 15]


def test_unchanged_second_cycle_costs_one_request_per_drive_plus_tenant_level(make_world):
    w = make_world("""
[[teams]]
key = "sales"
display_name = "Sales"
members = ["anna", "bob"]
channels = [{ name = "General" }, { name = "Deals", membership = "private" }]

[[recordings]]
key = "young"
organizer = "anna"
subject = "Young"
age_days = 2
""")
    w.cycle(0)
    for day in range(1, 8):
        w.model.requests.reset()
        w.cycle(day)
        inventory, log = w.reports[day].inventory, w.model.requests
        assert inventory.drives == 4  # anna, bob, the team site, the private channel
        # a delta per drive read + users and groups deltas; nothing is due, so each drive is idle: read once a week
        assert log.total_requests == inventory.drives_read + 2, dict(log.by_kind)
    assert sum(w.reports[day].inventory.drives_read for day in range(1, 8)) == 4


def test_throttling_is_absorbed_and_the_cycle_completes(make_world):
    w = make_world("""
[knobs]
throttle_share = 0.2
throttle_retry_after = 0

[[recordings]]
key = "weekly"
organizer = "anna"
subject = "Weekly"
age_days = 20
""")
    w.days(0, 10)
    assert w.day_of(w.audit("deleted", "weekly")) == [10]


def test_non_recording_video_in_recordings_folder_is_never_touched(make_world):
    w = make_world("""
[knobs]
delta_media_facets = false

[[recordings]]
key = "real"
organizer = "anna"
subject = "Planning"
age_days = 40

[[files]]
key = "holiday"
owner = "anna"
folder = "Recordings"
name = "Holiday clip.mp4"
mime_type = "video/mp4"
age_days = 50
""")
    w.days(0, 8)
    assert w.in_recycle_bin("real")  # recognised by folder and name without the Teams facets
    assert not w.in_recycle_bin("holiday") and w.reports[0].inventory.unsure_videos == 1


def test_expired_delta_token_resyncs_without_losing_or_inventing_recordings(make_world):
    w = make_world(  # both drives read on day 1, idle or not: the resync is what is under test
        """
[[recordings]]
key = "kept"
organizer = "anna"
subject = "Kept"
age_days = 3

[[recordings]]
key = "removed"
organizer = "bob"
subject = "Removed"
age_days = 4
""", max_poll_interval_days=1)
    w.cycle(0)
    drive = w.model.item_drive[w.key("removed")]
    w.model.delete_item(w.model.get_item(drive, w.key("removed")), by="user")
    w.model.knobs.expire_delta_tokens = True  # every stored token now answers 410
    report = w.cycle(1)
    assert report.exit_code == 0 and report.inventory.drives_incomplete == []
    assert report.tracked == 1
    assert w.audit("vanished", "removed") and not w.audit("vanished", "kept")


def test_scope_limits_inventory_to_group_members_minus_exclusions(make_world):
    w = make_world("""
[[users]]
key = "carl"
display_name = "Carl Excluded"

[[groups]]
key = "staff"
display_name = "Staff"
members = ["anna", "carl"]

[[recordings]]
key = "in-scope"
organizer = "anna"
subject = "In scope"
age_days = 2

[[recordings]]
key = "not-a-member"
organizer = "bob"
subject = "Bob's"
age_days = 2

[[recordings]]
key = "excluded"
organizer = "carl"
subject = "Carl's"
age_days = 2
""", scope=ScopeRules(include_groups=["__staff__"], exclude_users=["carl@contoso.example"],
                      channel_sites=False))
    w.config = CycleConfig(**{**w.config.__dict__,
                              "scope": ScopeRules(include_groups=[w.key("staff")],
                                                  exclude_users=["carl@contoso.example"], channel_sites=False)})
    report = w.cycle(0)
    assert report.inventory.users_in_scope == 1 and report.tracked == 1
    assert w.audit("discovered", "in-scope") and not w.audit("discovered", "excluded")


def test_users_without_onedrive_are_skipped_and_counted(make_world):
    w = make_world("")
    report = w.cycle(0)
    assert report.exit_code == 0
    assert report.inventory.users_without_onedrive == 2  # the two service mailboxes in the base tenant
