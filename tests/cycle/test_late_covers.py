"""A cycle can still be running after midnight (a long backlog, a wait for the lock, ``run --once`` late at
night). A legal hold, an exemption request or an assignment tag recorded then is dated the next day; it keeps the
recording all the same, down to the re-check just before a deletion, and the next cycle applies it itself."""

from __future__ import annotations

import datetime as dt

import pytest

from teamsretention.domain import Action, Exemption, ExemptionKind, ExemptionStatus, RecordingRef, RunMode
from teamsretention.policy.later import LATER_COVER
from teamsretention.store import assignments, exemptions
from teamsretention.store.assignments import Acting, Fields

from .test_cycle import DAY0, TZ, World, at, created

D = DAY0 + dt.timedelta(days=7)  # the deletion day of recordings warned on day 0
AFTER_MIDNIGHT = dt.datetime.combine(D + dt.timedelta(days=1), dt.time(0, 5), TZ)  # the cycle of D still runs
TOMORROW = D + dt.timedelta(days=1)
KEPT_BY = {"legal_hold": "legal_hold", "request": "pending", "tag": "assignment"}


def _world(tmp_path) -> World:
    w = World(tmp_path)
    w.gw.add_user("alice", lang="en-US")
    for item in ("first", "second"):
        w.gw.add_recording("alice", item, created(-40))
    assignments.create(w.db, Fields("A-1", "Supplier case", "Contoso", DAY0 - dt.timedelta(60)),
                       Acting("it-support@contoso.example", "cli", at(0), DAY0))
    w.days(0, 6)  # both warned: day 7 is their deletion day
    return w


def _record(w: World, cover: str, item: str) -> None:
    """What an admin or the DPO records at 00:05 on the next day, in another process: dated that day."""
    if cover == "tag":
        assignments.tag(w.db, "A-1", RecordingRef("drive-alice", item), tagged_on=TOMORROW,
                        actor="it-support@contoso.example", at=AFTER_MIDNIGHT, day=TOMORROW)
        return
    hold = cover == "legal_hold"
    e = Exemption(id="EX-1", kind=ExemptionKind.LEGAL_HOLD if hold else ExemptionKind.EXCEPTION,
                  status=ExemptionStatus.APPROVED if hold else ExemptionStatus.PENDING, requested_on=TOMORROW,
                  target_id=f"drive-alice/{item}", decided_on=TOMORROW if hold else None,
                  review_on=TOMORROW + dt.timedelta(days=90) if hold else None, requested_by="dpo@contoso.example")
    exemptions.record_exemption(w.db, e, actor="dpo@contoso.example", at=AFTER_MIDNIGHT, day=TOMORROW, note=cover)


@pytest.mark.parametrize("cover", ["legal_hold", "request", "tag"])
def test_a_cover_recorded_after_midnight_keeps_what_the_late_cycle_was_about_to_delete(tmp_path, cover):
    w = _world(tmp_path)

    def record_after_the_first_deletion(item_id: str) -> None:
        if item_id == "first":
            _record(w, cover, "second")

    w.gw.hook_before_delete = record_after_the_first_deletion
    report = w.cycle(7)

    assert w.deleted_ids() == ["first"]  # under way when the cover came
    row = w.recording("second")
    assert row.state == "tracked" and row.rule == LATER_COVER and row.due is None
    decided = w.audit("decision", "second")[-1]
    assert decided.reason.startswith("Re-check just before deletion")
    assert str(TOMORROW) in decided.reason
    assert f"after the day of this cycle ({D}) had ended" in decided.reason
    assert report.exit_code == 0

    w.cycle(8)  # the next cycle's date has caught up: the cover itself keeps it
    assert w.deleted_ids() == ["first"] and w.recording("second").rule == KEPT_BY[cover]


def test_a_late_cycle_warns_nobody_about_a_recording_tagged_after_midnight(tmp_path):
    w = World(tmp_path)
    w.gw.add_user("alice", lang="en-US")
    w.gw.add_recording("alice", "young", created(-20))  # its first warning is due on day 3
    assignments.create(w.db, Fields("A-1", "Supplier case", "Contoso", DAY0 - dt.timedelta(60)),
                       Acting("it-support@contoso.example", "cli", at(0), DAY0))
    w.days(0, 2)
    assert w.mails_to("alice") == []
    day3 = DAY0 + dt.timedelta(days=3)
    assignments.tag(w.db, "A-1", RecordingRef("drive-alice", "young"), tagged_on=day3 + dt.timedelta(days=1),
                    actor="it-support@contoso.example",
                    at=dt.datetime.combine(day3 + dt.timedelta(days=1), dt.time(0, 5), TZ), day=day3)

    w.cycle(3)  # the cycle of day 3, still running when the tag came

    assert w.mails_to("alice") == []
    assert w.recording("young").rule == LATER_COVER
    w.cycle(4)
    assert w.mails_to("alice") == [] and w.recording("young").rule == "assignment"


def test_a_revocation_recorded_after_midnight_waits_for_its_date(tmp_path):
    """An end dated later has not happened for the cycle's date: the hold still keeps the recording then (the
    safe side), and the cycle of the revocation's own date starts the fresh notice."""
    w = _world(tmp_path)
    hold = Exemption(id="EX-1", kind=ExemptionKind.LEGAL_HOLD, status=ExemptionStatus.REVOKED, requested_on=DAY0,
                     target_id="drive-alice/second", decided_on=DAY0, review_on=DAY0 + dt.timedelta(days=90),
                     revoked_on=TOMORROW)
    exemptions.record_exemption(w.db, hold, actor="dpo@contoso.example", at=AFTER_MIDNIGHT, day=TOMORROW,
                                note="revoked")
    w.cycle(7)
    assert w.deleted_ids() == ["first"] and w.recording("second").rule == "legal_hold"
    w.cycle(8)
    assert w.deleted_ids() == ["first"] and w.recording("second").action == "warn"  # a fresh notice, not a deletion


def test_the_evaluation_keeps_a_due_deletion_a_hold_recorded_after_midnight_covers(tmp_path):
    """The cycle of D started late: the hold the DPO recorded at 00:05 is there before the evaluation; nothing of
    the recording is read or deleted, and the next cycle keeps it by the hold itself."""
    w = _world(tmp_path)
    _record(w, "legal_hold", "second")
    w.gw.single_reads.clear()

    w.cycle(7)

    assert w.deleted_ids() == ["first"] and w.gw.single_reads == ["first"]
    assert w.recording("second").rule == LATER_COVER
    assert f"legal hold EX-1 (requested {TOMORROW}, approved {TOMORROW})" in w.audit("decision", "second")[-1].reason
    w.cycle(8)
    assert w.deleted_ids() == ["first"] and w.recording("second").rule == "legal_hold"


def test_plan_at_a_later_date_counts_a_cover_recorded_after_midnight(tmp_path):
    w = _world(tmp_path)
    _record(w, "legal_hold", "second")

    report = w.cycle(7, mode=RunMode.PLAN, project_until=D + dt.timedelta(days=5), keep_all=True)

    shown = {e.recording.ref.item_id: e for e in report.evaluated}
    first, second = shown["first"], shown["second"]
    assert first.decision.action is Action.DELETE and first.delete_on == D
    assert second.decision.action is Action.KEEP and second.delete_on is None
    assert second.decision.rule == "legal_hold"  # by the projected day, the hold itself keeps it
    assert w.deleted_ids() == []
