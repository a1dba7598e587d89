"""A label that arrived after the last warning keeps the recording on its deletion day: the evaluation reads the
label of every recording it would delete (so nothing labelled is counted, shown or recorded as a deletion), and
the delete step reads it again just before deleting. A pause is looked at before the delete step reads and again
just before each deletion."""

from __future__ import annotations

import pytest

from teamsretention.cycle import delete
from teamsretention.domain import LabelStatus, RetentionLabel, RunMode
from teamsretention.errors import GraphError
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
    # the evaluation read both; the delete step read again only the one it deleted, just before
    assert world.gw.label_batches == [2, 1]
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
    assert _decided_on_day_7(world) == ["keep"]
    assert world.recording("kept").rule == "label" and world.recording("gone").action == "delete"
    assert world.audit("deletions_paused")


def test_a_pause_set_while_the_delete_step_reads_stops_the_deletion(world, monkeypatch: pytest.MonkeyPatch):
    original = delete.DeleteStep._read_ahead

    async def read_then_pause(self, ids):  # type: ignore[no-untyped-def]
        reads = await original(self, ids)
        # an admin pauses while the read waits (throttling, retries)
        control.set_paused(world.db, True, reason="incident", by="admin@contoso.example", now=at(7))
        return reads

    monkeypatch.setattr(delete.DeleteStep, "_read_ahead", read_then_pause)
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
    original = delete.DeleteStep._read_ahead

    async def failing_read(self, ids):  # type: ignore[no-untyped-def]
        world.gw.read_errors["gone"] = GraphError(503, "serviceNotAvailable", "try later")  # after the evaluation's
        try:
            return await original(self, ids)
        finally:
            del world.gw.read_errors["gone"]

    monkeypatch.setattr(delete.DeleteStep, "_read_ahead", failing_read)
    report = world.cycle(7)
    assert world.deleted_ids() == ["kept"] and report.exit_code == 1
    assert "Re-read before deletion failed" in world.audit("delete_failed", "gone")[0].reason
    assert world.recording("gone").state == "tracked"
    monkeypatch.setattr(delete.DeleteStep, "_read_ahead", original)
    world.cycle(8)
    assert world.deleted_ids() == ["kept", "gone"]


def test_a_label_applied_in_the_seconds_before_the_deletion_is_caught_by_the_last_read(world, monkeypatch):
    """Between the evaluation's read and the delete step's, a hold arrives: the last read keeps the recording, the
    trail says the re-check did it, and the summary counts the decision that stands."""
    original = delete.DeleteStep._read_ahead

    async def hold_then_read(self, ids):  # type: ignore[no-untyped-def]
        world.gw.items[world.gw.onedrive["alice"]]["kept"].label = HOLD
        return await original(self, ids)

    monkeypatch.setattr(delete.DeleteStep, "_read_ahead", hold_then_read)
    report = world.cycle(7)

    assert world.deleted_ids() == ["gone"] and world.recording("kept").rule == "label"
    decided = [a for a in world.audit("decision", "kept") if (a.cycle_date - DAY0).days == 7]
    assert decided[-1].reason.startswith("Re-check just before deletion") and decided[-1].rule == "label"
    assert dict(report.actions) == {"delete": 1, "keep": 1} and report.rules["label"] == 1


def test_a_pause_set_between_two_deletions_of_one_batch_stops_the_second(world):
    """Both deletions' reads come back in one batch; the pause set after the first deletion is seen before the
    second DELETE is sent."""
    world.gw.hook_before_delete = lambda item_id: control.set_paused(
        world.db, True, reason="incident", by="admin@contoso.example", now=at(7))
    world.cycle(7)

    assert len(world.deleted_ids()) == 1  # the first was under way when the pause came
    paused = world.audit("deletions_paused")
    assert len(paused) == 1 and paused[0].reason.endswith("incident")
    assert paused[0].detail["pending"] == 1  # the deletion it held back, not the two of the day
