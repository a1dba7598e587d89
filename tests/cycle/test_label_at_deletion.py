"""A label that arrived after the last warning keeps the recording on its deletion day: the evaluation reads the
label of every recording it would delete (so nothing labelled is counted, shown or recorded as a deletion), and
the delete step reads it again just before deleting. A pause is looked at before the delete step reads and again
just before each deletion."""

from __future__ import annotations

import pytest

from teamsretention.cycle import delete
from teamsretention.domain import LabelStatus, RetentionLabel, RunMode
from teamsretention.errors import GraphError, TransientGraphError
from teamsretention.store import control

from .test_cycle import DAY0, World, at, created

HOLD = RetentionLabel(status=LabelStatus.PRESENT, name="Supplier dispute", is_delete_allowed=False, behavior="retain")


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    w.gw.add_user("alice", lang="en-US")
    w.gw.add_recording("alice", "kept", created(-40))
    w.gw.add_recording("alice", "gone", created(-40))
    w.days(0, 6)  # both warned: day 7 is their deletion day
    assert w.gw.deleted == [] and w.recording("kept").action == "warn"
    yield w
    w.db.dispose()


def _decided_on_day_7(world: World) -> list[str]:
    return [a.detail["action"] for a in world.audit("decision", "kept") if (a.cycle_date - DAY0).days == 7]


@pytest.mark.parametrize("etag_changes", [True, False], ids=["label-changes-etag", "label-keeps-etag"])
def test_a_label_that_arrived_after_the_warnings_keeps_the_recording_on_its_deletion_day(world, etag_changes):
    drive = world.gw.onedrive["alice"]
    if etag_changes:
        world.gw.touch(drive, "kept", label=HOLD)  # the feed reports the item changed
    else:
        world.gw.items[drive]["kept"].label = HOLD  # Graph documents no eTag change for a label: nothing in the feed
    world.gw.label_batches.clear()

    report = world.cycle(7)

    assert world.deleted_ids() == ["gone"]
    row = world.recording("kept")
    assert row.state == "tracked" and row.rule == "label" and row.label_name == "Supplier dispute"
    # the evaluation read both; the delete step read again only the one it deleted, alone, just before
    assert world.gw.label_batches == [2] and world.gw.single_reads == ["gone"]
    assert _decided_on_day_7(world) == ["keep"]  # never recorded as a deletion
    assert report.actions["delete"] == 1 and report.rules["label"] == 1
    world.cycle(8)
    assert _decided_on_day_7(world) == ["keep"] and world.recording("kept").rule == "label"
    assert not [a for a in world.audit("decision", "kept") if (a.cycle_date - DAY0).days == 8]  # it stands


def test_labelled_recordings_do_not_count_toward_the_blast_radius(tmp_path):
    w = World(tmp_path, max_deletions_per_cycle=2, max_deletion_share=1.0)
    w.gw.add_user("alice", lang="en-US")
    for n in range(5):
        w.gw.add_recording("alice", f"r{n}", created(-40))
    w.days(0, 6)
    for n in range(3):  # a legal hold on three of the five, after their last warning
        w.gw.items[w.gw.onedrive["alice"]][f"r{n}"].label = HOLD
    report = w.cycle(7)
    assert report.exit_code == 0 and not w.audit("safety_stop")
    assert sorted(w.deleted_ids()) == ["r3", "r4"]
    w.db.dispose()


def test_paused_deletions_read_nothing_in_the_delete_step(world):
    control.set_paused(world.db, True, reason="audit in progress", by="admin@contoso.example", now=at(7))
    world.gw.items[world.gw.onedrive["alice"]]["kept"].label = HOLD
    world.gw.label_batches.clear()

    world.cycle(7)

    assert world.gw.deleted == [] and world.gw.label_batches == [2]  # the evaluation's only
    assert world.gw.single_reads == []
    assert _decided_on_day_7(world) == ["keep"]
    assert world.recording("kept").rule == "label" and world.recording("gone").action == "delete"
    assert world.audit("deletions_paused")


def test_a_pause_set_while_the_delete_step_reads_stops_the_deletion(world, monkeypatch: pytest.MonkeyPatch):
    original = delete.DeleteStep._read_fresh

    async def read_then_pause(self, rec):  # type: ignore[no-untyped-def]
        reads = await original(self, rec)
        # an admin pauses while the read waits (throttling, retries)
        control.set_paused(world.db, True, reason="incident", by="admin@contoso.example", now=at(7))
        return reads

    monkeypatch.setattr(delete.DeleteStep, "_read_fresh", read_then_pause)
    world.cycle(7)

    assert world.gw.deleted == []
    assert world.audit("deletions_paused")[-1].reason.endswith("incident")


def test_report_only_reads_the_label_in_the_evaluation(world):
    world.gw.items[world.gw.onedrive["alice"]]["kept"].label = HOLD
    world.gw.label_batches.clear()

    report = world.cycle(7, mode=RunMode.DRY_RUN)

    assert world.gw.deleted == [] and world.gw.label_batches == [2]
    assert _decided_on_day_7(world) == ["keep"]
    assert report.actions["delete"] == 1 and report.rules["label"] == 1  # would delete one, not the labelled one


def test_a_failed_read_just_before_deleting_deletes_nothing_of_it_and_is_tried_again(world, monkeypatch):
    original = delete.DeleteStep._read_fresh

    async def failing_read(self, rec):  # type: ignore[no-untyped-def]
        world.gw.read_errors["gone"] = GraphError(503, "serviceNotAvailable", "try later")  # after the evaluation's
        try:
            return await original(self, rec)
        finally:
            del world.gw.read_errors["gone"]

    monkeypatch.setattr(delete.DeleteStep, "_read_fresh", failing_read)
    report = world.cycle(7)
    assert world.deleted_ids() == ["kept"] and report.exit_code == 1
    assert "Re-read before deletion failed" in world.audit("delete_failed", "gone")[0].reason
    assert world.recording("gone").state == "tracked"
    monkeypatch.setattr(delete.DeleteStep, "_read_fresh", original)
    world.cycle(8)
    assert world.deleted_ids() == ["kept", "gone"]


def test_a_label_applied_in_the_seconds_before_the_deletion_is_caught_by_the_last_read(world, monkeypatch):
    """Between the evaluation's read and the delete step's, a hold arrives: the last read keeps the recording, the
    trail says the re-check did it, and the summary counts the decision that stands."""
    original = delete.DeleteStep._read_fresh

    async def hold_then_read(self, rec):  # type: ignore[no-untyped-def]
        world.gw.items[world.gw.onedrive["alice"]]["kept"].label = HOLD
        return await original(self, rec)

    monkeypatch.setattr(delete.DeleteStep, "_read_fresh", hold_then_read)
    report = world.cycle(7)

    assert world.deleted_ids() == ["gone"] and world.recording("kept").rule == "label"
    decided = [a for a in world.audit("decision", "kept") if (a.cycle_date - DAY0).days == 7]
    assert decided[-1].reason.startswith("Re-check just before deletion") and decided[-1].rule == "label"
    assert dict(report.actions) == {"delete": 1, "keep": 1} and report.rules["label"] == 1


def test_a_pause_set_between_two_deletions_stops_the_second_before_it_is_read(world):
    """The pause set while the first deletion goes out is seen before the second is read or deleted."""
    world.gw.hook_before_delete = lambda item_id: control.set_paused(
        world.db, True, reason="incident", by="admin@contoso.example", now=at(7))
    world.cycle(7)

    assert len(world.deleted_ids()) == 1  # the first was under way when the pause came
    assert world.gw.single_reads == world.deleted_ids()
    paused = world.audit("deletions_paused")
    assert len(paused) == 1 and paused[0].reason.endswith("incident")
    assert paused[0].detail["pending"] == 1  # the deletion it held back, not the two of the day


@pytest.mark.parametrize("etag_changes", [True, False], ids=["label-changes-etag", "label-keeps-etag"])
def test_a_label_applied_while_an_earlier_deletion_goes_out_keeps_the_next_recording(world, etag_changes):
    """Each recording is read alone just before its own DELETE, not with the others before the first of them: a
    label applied to the second while the first is being deleted is seen, whether or not Graph changes the eTag
    for it (the If-Match alone would not catch it then)."""
    drive = world.gw.onedrive["alice"]

    def label_the_other(item_id: str) -> None:
        other = "gone" if item_id == "kept" else "kept"
        if etag_changes:
            world.gw.touch(drive, other, label=HOLD)
        else:
            world.gw.items[drive][other].label = HOLD
        world.gw.hook_before_delete = None

    world.gw.hook_before_delete = label_the_other
    world.cycle(7)

    assert len(world.deleted_ids()) == 1
    other = "gone" if world.deleted_ids() == ["kept"] else "kept"
    row = world.recording(other)
    assert row.state == "tracked" and row.rule == "label" and row.label_name == "Supplier dispute"
    assert world.gw.single_reads == [*world.deleted_ids(), other]  # each alone, just before its DELETE


def test_a_delete_refused_with_429_is_read_again_before_it_is_sent_again(world):
    """A 429 is refused before Graph processed it, and the client then waits out the pause; the read the DELETE
    followed is old by then: a hold applied during the pause is seen by the read before the DELETE is sent
    again, and the recording is kept."""
    drive = world.gw.onedrive["alice"]
    throttled = TransientGraphError(429, "TooManyRequests", "slow down")

    sent: list[str] = []

    def throttle_then_hold(item_id: str) -> None:
        if item_id == "kept" and not sent:  # the first DELETE of it is refused
            world.gw.delete_errors["kept"] = throttled
        sent.append(item_id)

    original_read = world.gw.reread_item

    async def read(drive_id, item_id):  # type: ignore[no-untyped-def]
        if world.gw.delete_errors.pop(item_id, None) is not None:  # the resend's read, after the pause
            world.gw.items[drive]["kept"].label = HOLD
        return await original_read(drive_id, item_id)

    world.gw.hook_before_delete = throttle_then_hold
    world.gw.reread_item = read
    world.cycle(7)

    assert world.deleted_ids() == ["gone"]
    assert world.recording("kept").rule == "label" and world.recording("kept").delete_attempted_at is None
    assert world.gw.single_reads.count("kept") == 2
    assert not world.audit("delete_failed", "kept")


def test_a_delete_throttled_at_every_send_fails_for_this_cycle_and_is_tried_again_the_next(world):
    world.gw.delete_errors["kept"] = TransientGraphError(429, "TooManyRequests", "slow down")
    report = world.cycle(7)

    assert world.deleted_ids() == ["gone"] and report.exit_code == 1
    assert world.gw.single_reads.count("kept") == delete.THROTTLED_RESENDS + 1  # a fresh read before each send
    failed = world.audit("delete_failed", "kept")
    assert len(failed) == 1 and "429" in failed[0].reason
    assert world.recording("kept").delete_attempted_at is None and world.recording("kept").state == "tracked"
    del world.gw.delete_errors["kept"]
    world.cycle(8)
    assert world.deleted_ids() == ["gone", "kept"]


@pytest.mark.parametrize("when", ["at-the-429", "during-the-resend-read"])
def test_a_stop_asked_for_while_a_throttled_delete_waits_is_not_held_up_by_its_resends(world, when):
    """The daemon is told to stop (SIGTERM) when a DELETE is refused with 429, or while the read before sending it
    again waits out the client-wide pause: it is not sent again; it stays due, with no attempt marked."""
    import asyncio

    stop = asyncio.Event()
    sends: list[str] = []
    world.gw.delete_errors["kept"] = TransientGraphError(429, "TooManyRequests", "slow down")
    world.gw.hook_before_delete = lambda item_id: (sends.append(item_id),
                                                   stop.set() if when == "at-the-429" and item_id == "kept" else None)
    original_read = world.gw.reread_item

    async def read(drive_id, item_id):  # type: ignore[no-untyped-def]
        answer = await original_read(drive_id, item_id)
        if when == "during-the-resend-read" and world.gw.single_reads.count("kept") == 2:
            stop.set()  # the read waited out the pause; the stop came meanwhile
        return answer

    world.gw.reread_item = read
    world.cycle(7, stop=stop)

    assert sends.count("kept") == 1 and "kept" not in world.deleted_ids()
    row = world.recording("kept")
    assert row.state == "tracked" and row.action == "delete" and row.delete_attempted_at is None
