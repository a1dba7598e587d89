"""The governance cycle over simulated timelines, against the in-memory gateway fake.

Each test steps day by day (one cycle per day at 06:00 Europe/Stockholm) and asserts what a user would
notice: mail sent, files deleted, what was kept and why, and the audit trail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from teamsretention.cycle import Cycle, CycleConfig, DeletionOverride, ScopeRules
from teamsretention.domain import (
    Exemption,
    ExemptionKind,
    ExemptionStatus,
    LabelStatus,
    PolicyConfig,
    RetentionLabel,
    RunMode,
)
from teamsretention.errors import LockBusy, TransientGraphError
from teamsretention.notify.render import render_digest
from teamsretention.store import Database, audit, control, digests, exemptions, recordings, runs
from teamsretention.store.audit import AuditEntry
from teamsretention.store.recordings import StoredRecording

from ..fakes import FORBIDDEN, LOCKED, FakeGateway

TZ = ZoneInfo("Europe/Stockholm")
DAY0 = dt.date(2026, 3, 2)


def at(day: int) -> dt.datetime:
    return dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(6, 0), TZ)


def created(day: int) -> dt.datetime:
    """A recording made at 10:00 local time on the given day (negative: before DAY0)."""
    return dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(10, 0), TZ).astimezone(dt.UTC)


class World:
    def __init__(self, tmp_path, url: str | None = None, **config):
        self.db = Database(url or f"sqlite:///{tmp_path}/state.db")
        self.gw = FakeGateway()
        defaults = dict(policy=PolicyConfig(), scope=ScopeRules(channel_sites=False), sender="retention@contoso.example",
                        language="en", fallback_contact="it-help@contoso.example", contact="it-help@contoso.example")
        defaults.update(config)
        self.config = CycleConfig(**defaults)
        self.reports = {}

    def cycle(self, day: int, mode: RunMode = RunMode.ENFORCE, stop: asyncio.Event | None = None, **kw):
        moment = at(day)
        cycle = Cycle(self.db, self.gw, self.config, render_digest, clock=lambda: moment, stop=stop)
        report = asyncio.run(cycle.run(mode=mode, at=moment, **kw))
        self.reports[day] = report
        return report

    def days(self, first: int, last: int, mode: RunMode = RunMode.ENFORCE):
        for d in range(first, last + 1):
            self.cycle(d, mode)

    def mails_to(self, address: str):
        return [m for _, m in self.gw.sent if address in m.to]

    def deleted_ids(self):
        return [item for _, item, _, _ in self.gw.deleted]

    def audit(self, event: str | None = None, item: str | None = None) -> list[AuditEntry]:
        return [a for a in audit.entries(self.db) if (event is None or a.kind == event)
                and (item is None or (a.recording_key or "").endswith("/" + item))]

    def recording(self, item: str) -> StoredRecording:
        return next(r for r in recordings.list_all(self.db) if r.item_id == item)


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    w.gw.add_user("alice", lang="en-US")
    yield w
    w.db.dispose()


def warned_on(w: World, item: str) -> list[int]:
    """Days on which a warning about the item was accepted by Graph (the audit trail's 'warned')."""
    return [(a.cycle_date - DAY0).days for a in w.audit("warned", item)]


def digest_days(w: World, address: str) -> list[int]:
    return [(d.cycle_date - DAY0).days for d in digests.list_all(w.db)
            if d.recipient == address and d.status == "sent"]


def test_recording_is_warned_at_its_offsets_and_deleted_on_its_due_day(world):
    world.gw.add_recording("alice", "r1", created(-20))  # due on day 10
    world.days(0, 12)
    assert warned_on(world, "r1") == [3, 9]
    assert digest_days(world, "alice@contoso.example") == [3, 9, 11]  # day 11: the deletion receipt
    assert world.deleted_ids() == ["r1"]
    deleted = world.audit("deleted", "r1")
    assert len(deleted) == 1 and deleted[0].cycle_date == DAY0 + dt.timedelta(days=10)
    assert deleted[0].rule == "base_due" and "recycle bin" in deleted[0].reason
    first = world.mails_to("alice@contoso.example")[0]
    assert "2026-03-12" in first.text  # the announced deletion date
    # the next digest carries a receipt with the restore window
    receipt = world.mails_to("alice@contoso.example")[-1]
    assert world.reports[11].digests_sent == 1 and "2026-06-13" in receipt.text  # 2026-03-12 + 93 days
    # a deleted file is not deleted twice
    assert world.reports[12].deleted == 0


def test_recording_found_after_its_30_days_is_warned_first_and_deleted_after_minimum_notice(world):
    world.gw.add_recording("alice", "old", created(-35))
    world.days(0, 8)
    assert warned_on(world, "old") == [0, 6]
    assert world.reports[0].deleted == 0
    assert [d for d, r in world.reports.items() if r.deleted] == [7]
    warned = world.audit("warned", "old")
    assert warned[0].due == DAY0 + dt.timedelta(days=7)
    assert world.audit("deleted", "old")[0].rule in {"notice_floor", "promised"}


def test_label_blocked_recording_is_kept_with_rule_label_and_nobody_is_warned(world):
    label = RetentionLabel(status=LabelStatus.PRESENT, name="Contracts 7y", is_delete_allowed=False,
                           behavior="retain")
    world.gw.add_recording("alice", "held", created(-40), label=label)
    world.days(0, 10)
    assert world.gw.sent == [] and world.gw.deleted == []
    row = world.recording("held")
    assert row.rule == "label" and row.label_name == "Contracts 7y"
    assert world.audit("decision", "held")[0].rule == "label"


def test_423_is_recorded_as_blocked_and_retried_with_growing_gaps(world):
    world.gw.add_recording("alice", "open", created(-37))
    world.gw.delete_errors["open"] = LOCKED
    world.days(0, 20)
    blocked = world.audit("delete_blocked", "open")
    attempts = [(b.cycle_date - DAY0).days for b in blocked]
    assert attempts == [7, 8, 10, 14]  # gaps 1, 2, 4: not every day
    assert blocked[0].detail["code"] == "resourceLocked"
    assert "locked" in blocked[0].reason
    assert world.reports[20].exit_code == 0


def test_403_on_every_attempted_deletion_fails_the_cycle_naming_the_permission(world):
    for i in range(3):
        world.gw.add_recording("alice", f"r{i}", created(-40))
        world.gw.delete_errors[f"r{i}"] = FORBIDDEN
    world.days(0, 7)
    report = world.reports[7]
    assert report.exit_code == 1 and report.deleted == 0
    assert any("Files.ReadWrite.All" in p for p in report.problems)
    assert world.audit("permission_problem")


def test_blast_radius_limit_stops_all_deletions_with_exit_3_but_warnings_go_out(tmp_path):
    w = World(tmp_path, max_deletions_per_cycle=3)
    w.gw.add_user("alice")
    for i in range(5):
        w.gw.add_recording("alice", f"r{i}", created(-40))
    w.days(0, 7)
    assert w.reports[0].digests_sent == 1  # warnings still went out
    report = w.reports[7]
    assert report.exit_code == 3 and w.gw.deleted == []
    stop = w.audit("safety_stop")
    assert stop and "max_deletions_per_cycle = 3" in stop[0].reason
    # an admin lets this one run through, audited
    w.cycle(8, deletion_override=DeletionOverride(5, actor="it@contoso.example", reason="backlog after review"))
    assert len(w.gw.deleted) == 5 and w.audit("deletion_limit_override")


def test_share_limit_counts_only_above_the_minimum(tmp_path):
    w = World(tmp_path, max_deletion_share=0.25, deletion_share_minimum=2)
    w.gw.add_user("alice")
    for i in range(4):
        w.gw.add_recording("alice", f"old{i}", created(-40))
    for i in range(4):
        w.gw.add_recording("alice", f"new{i}", created(-1))
    w.days(0, 7)
    assert w.reports[7].exit_code == 3 and "50%" in w.audit("safety_stop")[0].reason


def test_enforce_false_sends_nothing_deletes_nothing_and_starts_no_notice_clock(world):
    world.gw.add_recording("alice", "r1", created(-40))
    world.days(0, 10, mode=RunMode.DRY_RUN)
    assert world.gw.sent == [] and world.gw.deleted == []
    assert world.audit("would_warn", "r1")
    # switching enforcement on starts with warnings, never with deletions
    world.cycle(11)
    assert world.reports[11].deleted == 0 and world.reports[11].digests_sent == 1


def test_pause_stops_deletions_until_resume(world):
    world.gw.add_recording("alice", "r1", created(-40))
    world.days(0, 6)
    control.set_paused(world.db, True, reason="audit in progress", by="admin@contoso.example", now=at(6))
    world.days(7, 8)
    assert world.gw.deleted == []
    assert world.audit("deletions_paused")[0].reason.endswith("audit in progress")
    control.set_paused(world.db, False, reason=None, by="admin@contoso.example", now=at(8))
    world.cycle(9)
    assert world.deleted_ids() == ["r1"]
    assert [a.kind for a in world.audit() if a.kind in {"paused", "resumed"}] == ["paused", "resumed"]


def test_failed_send_starts_no_notice_and_deletion_waits(world):
    world.gw.add_recording("alice", "r1", created(-25))  # base due day 5
    world.gw.fail_mail.add("alice@contoso.example")
    world.days(0, 5)
    assert world.reports[0].exit_code == 1 and world.gw.deleted == []
    assert world.audit("warn_failed", "r1")
    world.gw.fail_mail.clear()
    world.days(6, 14)
    assert warned_on(world, "r1")[0] == 6
    assert [d for d, r in world.reports.items() if r.deleted] == [13]  # first real warning + 7 days


def test_disabled_organizer_gets_the_digest_through_the_fallback_contact(world):
    world.gw.add_user("bob", enabled=False)
    world.gw.add_recording("bob", "b1", created(-25))
    world.days(0, 0)
    mails = world.mails_to("it-help@contoso.example")
    assert len(mails) == 1 and "Bob" in mails[0].text


def test_interrupted_cycle_rerun_sends_no_duplicate_warning_and_loses_no_audit_entry(world):
    world.gw.add_user("carol")
    world.gw.add_recording("alice", "a1", created(-25))
    world.gw.add_recording("carol", "c1", created(-25))
    stop = asyncio.Event()
    original = world.gw.send_mail

    async def send_then_stop(sender, mail):
        await original(sender, mail)
        stop.set()  # SIGTERM arrives right after the first digest went out

    world.gw.send_mail = send_then_stop
    report = world.cycle(0, stop=stop)
    assert report.status == "interrupted" and report.exit_code == 1
    assert len(world.gw.sent) == 1
    audit_before = [(a.id, a.kind) for a in world.audit()]
    world.gw.send_mail = original
    world.cycle(0)  # rerun for the same moment
    assert len(world.gw.sent) == 2  # the other organizer now, never the first one twice
    assert sorted(m.to[0] for _, m in world.gw.sent) == ["alice@contoso.example", "carol@contoso.example"]
    assert [(a.id, a.kind) for a in world.audit()][:len(audit_before)] == audit_before
    world.cycle(0)
    assert len(world.gw.sent) == 2
    statuses = [r.status for r in runs.list_all(world.db)]
    assert statuses == ["interrupted", "ok", "ok"]


def test_recording_restored_after_deletion_starts_a_new_episode(world):
    # A restore is seen when the drive is read: here every drive daily (an idle drive, one with nothing due,
    # is read every max_poll_interval_days: test_idle_polling.py shows a restore found within that).
    world.config = dataclasses.replace(world.config, max_poll_interval_days=1)
    world.gw.add_recording("alice", "r1", created(-30))
    world.days(0, 7)
    assert world.deleted_ids() == ["r1"]
    drive = world.gw.onedrive["alice"]
    world.gw.restore(drive, "r1")
    world.days(8, 20)
    assert world.audit("restored", "r1")
    warned_after = [a for a in world.audit("warned", "r1") if a.cycle_date >= DAY0 + dt.timedelta(days=8)]
    assert warned_after[0].cycle_date == DAY0 + dt.timedelta(days=8)
    second_delete = world.audit("deleted", "r1")[1]
    assert (second_delete.cycle_date - warned_after[0].cycle_date).days >= 7


def test_incomplete_drive_gets_neither_warnings_nor_deletions(world):
    world.gw.add_recording("alice", "r1", created(-25))
    world.days(0, 0)
    world.gw.fail_delta.add(world.gw.onedrive["alice"])
    world.days(1, 12)
    assert world.gw.deleted == []
    assert world.recording("r1").rule == "fail_closed:inventory"
    assert world.reports[12].exit_code == 1


def test_second_cycle_is_locked_out_while_one_runs(world):
    assert control.acquire_lock(world.db, "other-process", at(0), dt.timedelta(hours=1))
    with pytest.raises(LockBusy):
        world.cycle(0)


def test_delete_whose_answer_was_lost_is_settled_by_a_reread_and_a_restore_starts_fresh_warnings(world):
    world.config = dataclasses.replace(world.config, max_poll_interval_days=1)  # the restore seen the next day
    world.gw.add_recording("alice", "r1", created(-30))
    world.gw.lost_answers.add("r1")  # Graph deletes it, but the answer never arrives (timeout)
    world.days(0, 7)
    # The re-read moments later finds it gone: ours, recorded at once, not "deleted by someone else" later.
    assert world.audit("delete_outcome_unknown", "r1") and world.reports[7].exit_code == 0
    assert world.recording("r1").state == "deleted" and not world.audit("vanished", "r1")
    assert "got no answer" in world.audit("deleted", "r1")[-1].reason
    world.gw.lost_answers.clear()
    world.cycle(8)
    world.gw.restore(world.gw.onedrive["alice"], "r1")
    world.days(9, 20)
    assert world.audit("restored", "r1")
    assert warned_on(world, "r1")[-2:] == [9, 15]  # fresh warnings, not the old episode's
    assert [(a.cycle_date - DAY0).days for a in world.audit("deleted", "r1")][-1] == 16


def test_a_lost_delete_answer_that_no_reread_settled_is_claimed_by_the_next_look(world, monkeypatch):
    world.gw.add_recording("alice", "r1", created(-30))
    world.gw.lost_answers.add("r1")
    original = world.gw.reread_item

    async def unreachable_after_delete(drive_id, item_id):
        if world.gw.deleted:
            raise TransientGraphError(0, "networkError", "ConnectError")
        return await original(drive_id, item_id)

    monkeypatch.setattr(world.gw, "reread_item", unreachable_after_delete)
    world.days(0, 7)
    assert world.recording("r1").delete_attempted_at is not None  # still unknown: the marker stands
    monkeypatch.setattr(world.gw, "reread_item", original)
    world.cycle(8)  # the next inventory sees it gone: ours, tied to the request
    assert world.recording("r1").state == "deleted" and not world.audit("vanished", "r1")


def test_a_delete_that_timed_out_unperformed_leaves_no_marker_to_claim_a_later_deletion(world):
    world.gw.add_recording("alice", "r1", created(-30))
    world.gw.unanswered.add("r1")  # times out and is never carried out
    world.days(0, 7)
    assert world.audit("delete_settled", "r1") and world.recording("r1").delete_attempted_at is not None
    world.gw.unanswered.clear()
    world.cycle(7)  # the next look settles it: still there, so never deleted (or restored): a new episode
    assert world.recording("r1").delete_attempted_at is None and world.audit("restored", "r1")
    # A legal hold now keeps it; months later the organizer deletes it.
    hold = Exemption(id="EX-9", kind=ExemptionKind.LEGAL_HOLD, status=ExemptionStatus.APPROVED,
                     requested_on=DAY0, target_id="drive-alice/r1", decided_on=DAY0, review_on=DAY0)
    exemptions.record_exemption(world.db, hold, actor="dpo@contoso.example", at=at(8), day=DAY0, note="hold")
    world.days(8, 40)
    world.gw.touch(world.gw.onedrive["alice"], "r1", deleted=True)
    world.cycle(100)
    assert world.recording("r1").state == "gone" and world.audit("vanished", "r1")
    assert not world.audit("deleted", "r1")  # never claimed as ours, and no receipt


def test_mail_whose_answer_was_lost_is_not_resent_that_day_and_starts_no_notice(world):
    world.gw.add_recording("alice", "r1", created(-25))
    world.gw.lost_mail_answers.add("alice@contoso.example")
    world.cycle(0)
    world.gw.lost_mail_answers.clear()
    world.cycle(0)  # rerun the same day: the digest may have arrived, so it is not sent again
    assert len(world.mails_to("alice@contoso.example")) == 1
    assert world.audit("warn_outcome_unknown", "r1") and not world.audit("warned", "r1")
    world.days(1, 9)
    assert warned_on(world, "r1")[0] == 1  # the notice clock starts with the first confirmed warning
    assert [d for d, r in world.reports.items() if r.deleted] == [8]


def test_cycle_stops_when_its_lock_was_taken_over(world, monkeypatch):
    world.gw.add_recording("alice", "r1", created(-25))
    monkeypatch.setattr(control, "refresh_lock", lambda *a, **k: False)
    with pytest.raises(LockBusy, match="lost"):
        world.cycle(0)
    assert world.gw.sent == []


def test_permission_failure_does_not_push_retries_into_the_future(world):
    world.gw.add_recording("alice", "r1", created(-40))
    world.gw.delete_errors["r1"] = FORBIDDEN
    world.gw.roles = frozenset({"User.Read.All"})  # the token lacks Files.ReadWrite.All
    world.days(0, 7)
    assert world.reports[7].exit_code == 1 and "Files.ReadWrite.All" in " ".join(world.reports[7].problems)
    del world.gw.delete_errors["r1"]  # the admin grants Files.ReadWrite.All
    world.gw.roles = frozenset({"User.Read.All", "Files.ReadWrite.All"})
    world.cycle(8)
    assert world.deleted_ids() == ["r1"]


def test_a_genuine_hold_refused_with_403_is_not_read_as_a_missing_permission(world):
    world.gw.add_recording("alice", "r1", created(-40))
    world.gw.delete_errors["r1"] = FORBIDDEN  # an eDiscovery hold: no label shows it
    world.gw.roles = frozenset({"Files.ReadWrite.All", "User.Read.All"})
    world.days(0, 7)
    assert world.reports[7].exit_code == 0 and world.reports[7].blocked == 1
    assert not world.audit("permission_problem") and world.audit("delete_blocked", "r1")


def test_without_a_token_to_read_a_few_403s_are_taken_for_holds(world):
    for n in (1, 2):
        world.gw.add_recording("alice", f"r{n}", created(-40))
        world.gw.delete_errors[f"r{n}"] = FORBIDDEN
    world.days(0, 7)  # no roles to read (auth = none): two refusals are not proof of a missing permission
    assert world.reports[7].exit_code == 0 and not world.audit("permission_problem")


def test_enforcement_switched_on_after_a_dry_run_the_same_day_sends_the_real_digest(world):
    world.gw.add_recording("alice", "r1", created(-25))
    world.cycle(0, mode=RunMode.DRY_RUN)
    assert world.gw.sent == []
    world.cycle(0)
    assert len(world.mails_to("alice@contoso.example")) == 1 and warned_on(world, "r1") == [0]


def test_lock_lost_while_drives_sync_is_reported_as_lock_loss(world, monkeypatch):
    world.gw.add_user("bob")
    world.gw.add_recording("alice", "r1", created(-25))
    cycle = Cycle(world.db, world.gw, world.config, render_digest, clock=lambda: at(0))
    calls = {"n": 0}

    def lose_after_first(self, force=False):
        calls["n"] += 1
        if calls["n"] > 1:
            raise LockBusy("the cycle lock was lost (it expired and another cycle took it): stopping")

    monkeypatch.setattr(Cycle, "checkpoint", lose_after_first)
    with pytest.raises(LockBusy):
        asyncio.run(cycle.run(mode=RunMode.ENFORCE, at=at(0)))
    assert world.gw.sent == [] and world.gw.deleted == []


def test_an_unanswered_delete_that_did_not_happen_is_not_claimed_later(world):
    world.gw.add_recording("alice", "r1", created(-30))
    world.gw.unanswered.add("r1")  # the request times out and Graph never carried it out
    world.days(0, 7)
    world.gw.unanswered.clear()
    hold = RetentionLabel(status=LabelStatus.PRESENT, name="Supplier dispute", is_delete_allowed=False,
                          behavior="retain")
    world.gw.touch(world.gw.onedrive["alice"], "r1", label=hold)  # a hold arrives: it is kept from now on
    world.days(8, 9)
    assert world.recording("r1").rule == "label"
    world.gw.touch(world.gw.onedrive["alice"], "r1", deleted=True)  # months later the organizer deletes it
    world.cycle(10)
    assert world.audit("vanished", "r1") and not world.audit("deleted", "r1")
    assert world.recording("r1").state == "gone"


def test_a_single_403_keeps_its_growing_gaps(world):
    world.gw.add_recording("alice", "r1", created(-37))
    world.gw.delete_errors["r1"] = FORBIDDEN  # one recording under an eDiscovery hold no label shows
    world.days(0, 14)
    assert [(b.cycle_date - DAY0).days for b in world.audit("delete_blocked", "r1")] == [7, 8, 10, 14]


def test_a_recording_not_recognised_when_read_afresh_is_kept_and_listed_never_warned(world):
    drive = world.gw.onedrive["alice"]
    world.gw.add_recording("alice", "r1", created(-20))
    world.gw.touch(drive, "r1", teams_facets=False)  # as v1.0 answers: recognised by folder and name
    world.cycle(0)
    assert world.recording("r1").evidence == "recordings_folder_and_teams_name"
    # The Recordings folder is renamed, and the feed never says so (it reports folders, not what they hold).
    world.gw.items[drive]["rec"].name = "Archive 2025"
    world.days(1, 30)
    assert world.mails_to("alice@contoso.example") == [] and world.deleted_ids() == []
    row = world.recording("r1")
    assert row.state == "unsure" and "not in a Recordings folder" in (row.recognition_note or "")
    assert "No longer recognised" in world.audit("untracked", "r1")[0].reason
    assert any("Weekly sync" in u for u in world.reports[30].inventory.unsure)


def test_a_dry_run_period_ends_the_episode_so_enforcing_again_starts_with_warnings(world):
    world.gw.add_recording("alice", "r1", created(-25))  # due on day 5
    world.days(0, 2)  # enforcing: warned on day 0 for day 7
    assert warned_on(world, "r1") == [0]
    world.days(3, 20, mode=RunMode.DRY_RUN)  # enforcement switched off for weeks
    world.days(21, 40)  # and on again
    assert warned_on(world, "r1")[1:] == [21, 27]  # fresh warnings first, a full notice period
    assert [(a.cycle_date - DAY0).days for a in world.audit("deleted", "r1")] == [28]
