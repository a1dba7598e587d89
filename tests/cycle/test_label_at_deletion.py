"""A deletion day reads each due recording and its label once: just before deleting it, in the delete step. A
label that arrived after the last warning keeps the recording, and the trail says so; where no deletion follows
(report-only, paused), the evaluation reads the label itself, so nothing labelled is shown or recorded as a
deletion."""

from __future__ import annotations

import pytest

from teamsretention.cycle.evaluate import READ_AT_DELETION
from teamsretention.domain import LabelStatus, RetentionLabel, RunMode
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


def _on_day_7(world: World) -> list[str]:
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
    assert world.gw.label_batches == [2]  # both read once, together, just before deleting: no earlier read
    # The trail: the evaluation's decision, taken without the label, and the re-check that overrode it.
    decided = [a for a in world.audit("decision", "kept") if (a.cycle_date - DAY0).days == 7]
    assert [a.detail["action"] for a in decided] == ["delete", "keep"]
    assert decided[0].reason.endswith(READ_AT_DELETION)
    assert decided[1].reason.startswith("Re-check just before deletion") and decided[1].rule == "label"
    # The summary counts what stands after the re-check.
    assert dict(report.actions) == {"delete": 1, "keep": 1} and report.rules["label"] == 1
    deleted = world.audit("deleted", "gone")
    assert READ_AT_DELETION not in deleted[0].reason


def test_paused_deletions_read_the_label_in_the_evaluation_and_nothing_more(world):
    control.set_paused(world.db, True, reason="audit in progress", by="admin@contoso.example", now=at(7))
    world.gw.items[world.gw.onedrive["alice"]]["kept"].label = HOLD
    world.gw.label_batches.clear()

    world.cycle(7)

    assert world.gw.deleted == [] and world.gw.label_batches == [2]  # the delete step reads nothing: paused
    assert _on_day_7(world) == ["keep"]  # never recorded as a deletion
    assert world.recording("kept").rule == "label" and world.recording("gone").action == "delete"
    assert READ_AT_DELETION not in (world.recording("gone").reason or "")


def test_report_only_reads_the_label_in_the_evaluation(world):
    world.gw.items[world.gw.onedrive["alice"]]["kept"].label = HOLD
    world.gw.label_batches.clear()

    report = world.cycle(7, mode=RunMode.DRY_RUN)

    assert world.gw.deleted == [] and world.gw.label_batches == [2]
    assert _on_day_7(world) == ["keep"]
    assert report.actions["delete"] == 1 and report.rules["label"] == 1  # would delete one, not the labelled one


def test_a_failed_read_just_before_deleting_deletes_nothing_of_it_and_is_tried_again(world):
    from teamsretention.errors import GraphError

    world.gw.read_errors["gone"] = GraphError(503, "serviceNotAvailable", "try later")
    report = world.cycle(7)
    assert world.deleted_ids() == ["kept"] and report.exit_code == 1
    assert "Re-read before deletion failed" in world.audit("delete_failed", "gone")[0].reason
    assert world.recording("gone").state == "tracked"
    del world.gw.read_errors["gone"]
    world.cycle(8)
    assert world.deleted_ids() == ["kept", "gone"]
