"""What an unchanged cycle evaluates and writes (cycle.selection): only what changed or is near, nothing for a
decision that stands, and every warning and deletion still on its day."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import event

from teamsretention.cycle.facts import FactIndex
from teamsretention.cycle.selection import TARGETS_KEY, covered, governance_targets
from teamsretention.domain import (
    AssignmentTag,
    Exemption,
    ExemptionKind,
    ExemptionStatus,
    RecordingRef,
    RunMode,
    TargetKind,
)
from teamsretention.store import assignments, exemptions
from teamsretention.store import directory as directory_store
from teamsretention.store.assignments import Acting, Fields
from teamsretention.store.evaluation import Covers

from .test_cycle import DAY0, World, at, created, warned_on


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path, max_poll_interval_days=1)  # every drive read daily: selection alone is under test
    w.gw.add_user("alice", lang="en-US")
    w.gw.add_user("bob", lang="en-US")
    yield w
    w.db.dispose()


class Writes:
    """UPDATE statements on the recordings table, per cycle."""

    def __init__(self, world: World) -> None:
        self.count = 0
        event.listen(world.db.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("UPDATE RECORDINGS"):
            self.count += 1


def _young(world: World, n: int = 4) -> None:
    for i in range(n):
        world.gw.add_recording("alice" if i % 2 else "bob", f"y{i}", created(-1) + dt.timedelta(minutes=i))


def test_an_unchanged_cycle_evaluates_nothing_and_writes_nothing(world):
    _young(world)
    first = world.cycle(0)
    assert first.reevaluated == 4 and first.tracked == 4
    writes = Writes(world)
    for day in (1, 2, 3):
        report = world.cycle(day)
        assert report.reevaluated == 0
        assert report.tracked == 4 and report.actions["keep"] == 4 and report.rules["young"] == 4  # still counted
    assert writes.count == 0
    assert [a for a in world.audit("decision") if a.cycle_date > DAY0] == []


def test_a_young_recording_left_alone_for_weeks_is_still_warned_and_deleted_on_its_days(world):
    world.gw.add_recording("alice", "r1", created(0))  # due on day 30; warnings on days 23 and 29
    world.gw.add_recording("bob", "later", created(5))
    world.days(0, 31)
    skipped = [d for d in range(1, 19) if world.reports[d].reevaluated == 0]
    assert len(skipped) >= 15  # weeks without evaluating either of them
    assert warned_on(world, "r1") == [23, 29]
    deleted = world.audit("deleted", "r1")
    assert [(a.cycle_date - DAY0).days for a in deleted] == [30]


def test_recordings_near_their_warnings_are_evaluated_every_cycle(world):
    _young(world, 2)
    world.gw.add_recording("alice", "near", created(-20))  # warned on day 3, due day 10
    world.days(0, 0)
    writes = Writes(world)
    world.days(1, 2)
    assert writes.count == 0  # evaluated on days 1 and 2, its decision unchanged: nothing written
    for day in range(3, 9):
        assert world.cycle(day).reevaluated == 1  # the near one, never the young ones
    assert all(world.reports[d].reevaluated == 1 for d in (1, 2))
    assert warned_on(world, "near") == [3] and writes.count > 0  # the warning day stamps its decision


def test_a_changed_recording_is_evaluated_again(world):
    _young(world)
    world.days(0, 1)
    world.gw.touch(world.gw.onedrive["alice"], "y1", name="Renamed-20260301_090000-Meeting Recording.mp4")
    world.gw.add_recording("bob", "new", created(1))
    report = world.cycle(2)
    assert report.reevaluated == 2  # the renamed one and the new one
    assert world.recording("y1").name.startswith("Renamed") and world.recording("new").rule == "young"


def _hold(world: World, target_kind: TargetKind, target_id: str, n: int = 1) -> None:
    hold = Exemption(id=f"EX-{n}", kind=ExemptionKind.LEGAL_HOLD, status=ExemptionStatus.APPROVED,
                     requested_on=DAY0, target_id=target_id, target_kind=target_kind, decided_on=DAY0,
                     review_on=DAY0 + dt.timedelta(days=90))
    exemptions.record_exemption(world.db, hold, actor="dpo@contoso.example", at=at(1), day=DAY0, note="hold")


def _rules(world: World) -> list[str]:
    return [world.recording(f"y{i}").rule for i in range(4)]


@pytest.mark.parametrize(("target_kind", "target_id", "held"), [
    (TargetKind.ORGANIZER, "alice", [1, 3]),
    (TargetKind.RECORDING, "drive-bob/y2", [2]),
    (TargetKind.SITE, "drive-bob", [0, 2]),
])
def test_a_governance_change_evaluates_the_recordings_it_may_cover(world, target_kind, target_id, held):
    _young(world)
    world.days(0, 1)
    _hold(world, target_kind, target_id)
    report = world.cycle(2)
    assert report.reevaluated == len(held)  # alice's, or that one, or bob's drive's: not every recording
    assert _rules(world) == ["legal_hold" if i in held else "young" for i in range(4)]
    assert world.cycle(3).reevaluated == 0  # and the day after, nothing again


def test_an_assignment_tag_and_its_closing_evaluate_the_tagged_recordings(world):
    _young(world)
    world.days(0, 1)
    acting = Acting("it-help@contoso.example", "cli", at(1), DAY0 + dt.timedelta(days=1))
    assignments.create(world.db, Fields("A-1", "Case", None, DAY0), acting)
    assignments.tag(world.db, "A-1", RecordingRef("drive-alice", "y3"), tagged_on=DAY0, actor="it",
                    at=at(1), day=DAY0 + dt.timedelta(days=1))
    assert world.cycle(2).reevaluated == 1 and world.recording("y3").rule == "assignment"
    _hold(world, TargetKind.ASSIGNMENT, "A-1")  # an exemption of the assignment covers what is tagged to it
    assert world.cycle(3).reevaluated == 1 and world.recording("y3").rule == "legal_hold"
    assert _rules(world)[:3] == ["young"] * 3


def test_without_the_last_fingerprints_a_governance_change_evaluates_every_recording(world):
    _young(world)
    world.days(0, 1)
    directory_store.set_sync_state(world.db, TARGETS_KEY, None)
    _hold(world, TargetKind.ORGANIZER, "alice")
    assert world.cycle(2).reevaluated == 4
    _hold(world, TargetKind.ORGANIZER, "bob", n=2)
    assert world.cycle(3).reevaluated == 2  # the fingerprints are back: only bob's


def test_what_a_governance_change_may_cover():
    tag = AssignmentTag("A-1", "Case", True, DAY0)
    index = FactIndex(tags={"d1/i1": [tag]}, drive_team={"d1": "team-1", "d2": "team-1", "d3": None})
    before = governance_targets(index)
    assert covered(index, before, before) == Covers()  # nothing changed: nothing more to evaluate
    grown = FactIndex(tags={"d1/i1": [tag], "d3/i9": [tag]}, drive_team=index.drive_team,
                      exemptions={("site", "team-1"): [], ("assignment", "A-1"): []})
    found = covered(grown, before, governance_targets(grown))
    assert found == Covers(keys=frozenset({"d1/i1", "d3/i9"}), drives=frozenset({"team-1", "d1", "d2"}),
                           moved=True)
    later = dataclasses.replace(index, enforced_since=at(3))
    assert covered(later, before, governance_targets(later)) is None  # enforcement back on: everything


def test_a_configuration_change_evaluates_every_recording(world):
    _young(world)
    world.days(0, 1)
    world.config = dataclasses.replace(world.config, contact="dpo@contoso.example")
    assert world.cycle(2).reevaluated == 4
    assert world.cycle(3).reevaluated == 0


def test_a_missed_day_or_a_clock_set_back_evaluates_every_recording(world):
    _young(world)
    world.days(0, 1)
    assert world.cycle(1).reevaluated == 0  # the same day again: nothing changed
    assert world.cycle(4).reevaluated == 4  # days 2 and 3 were missed
    assert world.cycle(5).reevaluated == 0
    assert world.cycle(3).reevaluated == 4  # the clock went back


def test_a_drive_that_cannot_be_read_has_its_recordings_kept_fail_closed_then_evaluated_again(world):
    _young(world)
    world.days(0, 1)
    world.gw.fail_delta.add(world.gw.onedrive["alice"])
    report = world.cycle(2)
    assert report.reevaluated == 2  # alice's two recordings
    assert world.recording("y1").rule == "fail_closed:inventory" and world.recording("y0").rule == "young"
    world.gw.fail_delta.clear()
    assert world.cycle(3).reevaluated == 2  # read again: fail-closed decisions are taken again every cycle
    assert world.recording("y1").rule == "young"
    assert world.cycle(4).reevaluated == 0


def test_plan_shows_every_decision_and_writes_none(world):
    _young(world)
    world.gw.add_recording("alice", "old", created(-40))
    world.days(0, 1, mode=RunMode.DRY_RUN)
    plan = world.cycle(2, RunMode.PLAN, keep_all=True)
    assert plan.reevaluated == 5 and len(plan.evaluated) == 5
    assert world.cycle(2, RunMode.DRY_RUN).reevaluated == 1  # plan left the basis as it was: only the old one
