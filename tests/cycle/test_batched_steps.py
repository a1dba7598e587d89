"""The warn and delete steps work in sets: the store is read per batch of organizers, and the fact index once
per step, while every digest is still recorded before it is sent and every deletion is re-checked against
the store's exemptions just before it is made."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from teamsretention.cycle import facts, warn
from teamsretention.domain import Exemption, ExemptionKind, ExemptionStatus, TargetKind
from teamsretention.store import digests, exemptions

from .test_cycle import DAY0, World, at, created


def _tenant(tmp_path, organizers: int, per_organizer: int = 1, age: int = -25) -> World:
    w = World(tmp_path / f"t{organizers}x{per_organizer}")
    for n in range(organizers):
        uid = f"user{n:03d}"
        w.gw.add_user(uid)
        for k in range(per_organizer):
            w.gw.add_recording(uid, f"r{n}-{k}", created(age))
    return w


class _Statements:
    """SQL statements the store runs while a step of the cycle is under way."""

    def __init__(self, w: World, monkeypatch: pytest.MonkeyPatch, step: type) -> None:
        self.seen: list[str] = []
        self.active = False
        event.listen(w.db.engine, "before_cursor_execute", self._record)
        original = step.run

        async def run(step_self, *args, **kwargs):
            self.active = True
            try:
                return await original(step_self, *args, **kwargs)
            finally:
                self.active = False

        monkeypatch.setattr(step, "run", run)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active:
            self.seen.append(" ".join(statement.split()))

    def reads(self, table: str) -> int:
        return sum(1 for s in self.seen if s.upper().startswith("SELECT") and f" FROM {table} " in f"{s} ")


def _warn_step_reads(tmp_path, monkeypatch, organizers: int) -> tuple[World, _Statements]:
    w = _tenant(tmp_path, organizers)
    statements = _Statements(w, monkeypatch, warn.WarnStep)
    report = w.cycle(0)
    assert report.digests_sent == organizers  # one digest per organizer, each about their recording
    assert sorted(d.organizer_id for d in digests.for_date(w.db, DAY0)) == sorted(w.gw.users)
    monkeypatch.undo()
    return w, statements


def test_warn_step_reads_recordings_and_digests_per_batch_not_per_organizer(tmp_path, monkeypatch):
    small_world, small = _warn_step_reads(tmp_path, monkeypatch, 10)
    large_world, large = _warn_step_reads(tmp_path, monkeypatch, digests.DIGEST_BATCH)
    assert small.reads("recordings") == large.reads("recordings") <= 3  # who hears something, then one batch
    assert small.reads("digests") == large.reads("digests") == 1  # what this date already recorded, one query
    # each organizer was still warned once, each digest recorded before it was sent
    assert len(large_world.gw.sent) == digests.DIGEST_BATCH
    assert {a.kind for a in large_world.audit(item="r7-0")} >= {"warn_intended", "warned"}
    for w in (small_world, large_world):
        w.db.dispose()


def test_every_organizer_is_warned_exactly_once_across_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(digests, "DIGEST_BATCH", 7)
    w = _tenant(tmp_path, 30)
    statements = _Statements(w, monkeypatch, warn.WarnStep)
    assert w.cycle(0).digests_sent == 30
    assert sorted(a for _, m in w.gw.sent for a in m.to) == sorted(f"{u}@contoso.example" for u in w.gw.users)
    assert statements.reads("recordings") == 2 + 5  # who hears something, then ceil(30 / 7) batches
    monkeypatch.undo()
    w.cycle(0)  # the same date again: nothing is sent twice
    assert len(w.gw.sent) == 30
    w.db.dispose()


def _deletion_cycle(tmp_path, monkeypatch, recordings: int) -> tuple[World, list[int]]:
    """One organizer with ``recordings`` recordings warned on days 0 and 6 and deleted on day 7; the full fact
    index loads counted on day 7."""
    w = _tenant(tmp_path, 1, recordings, age=-35)
    w.days(0, 6)
    loads: list[int] = []
    original = facts.FactIndex.load.__func__

    def counted(cls, db):
        loads.append(1)
        return original(cls, db)

    monkeypatch.setattr(facts.FactIndex, "load", classmethod(counted))
    report = w.cycle(7)
    monkeypatch.undo()
    assert report.deleted == recordings
    return w, loads


def test_fact_index_is_loaded_once_per_step_whatever_the_number_of_deletions(tmp_path, monkeypatch):
    one, loads_one = _deletion_cycle(tmp_path, monkeypatch, 1)
    ten, loads_ten = _deletion_cycle(tmp_path, monkeypatch, 10)
    assert len(loads_one) == len(loads_ten) == 2  # the evaluate step and the delete step, once each
    assert len(ten.audit("deleted")) == 10
    for w in (one, ten):
        w.db.dispose()


@pytest.mark.parametrize("target", ["organizer", "recording"])
def test_an_exemption_approved_during_the_deletions_keeps_the_recordings_not_yet_deleted(tmp_path, target):
    w = _tenant(tmp_path, 1, 3, age=-35)
    w.days(0, 6)
    approved: list[str] = []

    def approve_after_first(item_id: str) -> None:
        if approved:
            return
        target_kind, target_id = ((TargetKind.ORGANIZER, "user000") if target == "organizer"
                                  else (TargetKind.RECORDING, "drive-user000/r0-2"))
        hold = Exemption(id="EX-1", kind=ExemptionKind.LEGAL_HOLD, status=ExemptionStatus.APPROVED,
                         requested_on=DAY0, target_kind=target_kind, target_id=target_id,
                         decided_on=DAY0 + dt.timedelta(days=7), review_on=DAY0 + dt.timedelta(days=90))
        # an admin in another process, while the cycle is deleting
        exemptions.record_exemption(w.db, hold, actor="dpo@contoso.example", at=at(7), day=DAY0, note="hold")
        approved.append(item_id)

    w.gw.hook_before_delete = approve_after_first
    w.cycle(7)
    assert w.deleted_ids()[0] == approved[0] == "r0-0"  # already under way when the hold came
    kept = {"r0-1", "r0-2"} if target == "organizer" else {"r0-2"}
    assert not kept & set(w.deleted_ids())
    for item in kept:
        assert w.recording(item).state == "tracked" and w.recording(item).rule == "legal_hold"
        assert any("Re-check just before deletion" in a.reason for a in w.audit("decision", item))
    w.db.dispose()


@pytest.mark.parametrize("closed", [False, True], ids=["active", "closed"])
def test_a_tag_added_during_the_deletions_keeps_the_recording_while_its_assignment_is_active(tmp_path, closed):
    """The tags read just before each deletion (the plain-row statements of ``governance.load_for``): a tag to an
    active assignment, added by an admin in another process while the cycle deletes, keeps the recording; a tag
    to a closed one does not."""
    from teamsretention.domain import RecordingRef
    from teamsretention.store import assignments
    from teamsretention.store.assignments import Acting, Fields

    w = _tenant(tmp_path, 1, 3, age=-35)
    acting = Acting("it-support@contoso.example", "cli", at(0), DAY0)
    assignments.create(w.db, Fields("A-1", "Supplier case", "Contoso", DAY0 - dt.timedelta(60),
                                    closed_on=DAY0 if closed else None), acting)
    w.days(0, 6)

    def tag_after_first(item_id: str) -> None:
        if not assignments.all_tags(w.db):
            assignments.tag(w.db, "A-1", RecordingRef("drive-user000", "r0-2"), tagged_on=DAY0 + dt.timedelta(7),
                            actor="it-support@contoso.example", at=at(7), day=DAY0 + dt.timedelta(7))

    w.gw.hook_before_delete = tag_after_first
    w.cycle(7)
    if closed:
        assert sorted(w.deleted_ids()) == ["r0-0", "r0-1", "r0-2"]
    else:
        assert w.deleted_ids() == ["r0-0", "r0-1"]
        assert w.recording("r0-2").state == "tracked" and w.recording("r0-2").rule == "assignment"
        assert any("Re-check just before deletion" in a.reason for a in w.audit("decision", "r0-2"))
    w.db.dispose()
