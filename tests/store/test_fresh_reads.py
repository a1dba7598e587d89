"""The reads made just before each deletion (what may cover the recording, whether deletions are paused) give
what the whole-table reads give, on SQLite and on PostgreSQL: the same tags, assignments and exemptions, with
their dates and times."""

from __future__ import annotations

import datetime as dt

import pytest

from teamsretention.domain import Exemption, ExemptionKind, ExemptionStatus, RecordingRef, TargetKind
from teamsretention.store import Database, assignments, control, exemptions, governance
from teamsretention.store.assignments import Acting, Fields

AT = dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC)
DAY = AT.date()


def _fill(db: Database) -> None:
    acting = Acting("it@contoso.example", "cli", AT, DAY)
    assignments.create(db, Fields("A-1", "Supplier case", "Contoso", DAY - dt.timedelta(60)), acting)
    assignments.create(db, Fields("A-2", "Old case", None, DAY - dt.timedelta(90), closed_on=DAY - dt.timedelta(5)),
                       acting)
    for code, item in (("A-1", "r1"), ("A-2", "r1"), ("A-2", "r2")):
        assignments.tag(db, code, RecordingRef("d1", item), tagged_on=DAY - dt.timedelta(3), actor="it", at=AT, day=DAY)
    for n, (kind, target) in enumerate([(TargetKind.RECORDING, "d1/r1"), (TargetKind.ORGANIZER, "u1"),
                                        (TargetKind.ASSIGNMENT, "A-1"), (TargetKind.RECORDING, "d1/r9")]):
        exemptions.record_exemption(db, Exemption(
            id=f"EX-{n}", kind=ExemptionKind.EXCEPTION, status=ExemptionStatus.APPROVED, requested_on=DAY,
            target_kind=kind, target_id=target, decided_on=DAY, valid_until=DAY + dt.timedelta(30),
            decided_at=AT), actor="dpo@contoso.example", at=AT, day=DAY, note="n")


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_reads_before_a_deletion_match_the_whole_table_reads(store, tmp_path, request):
    url = f"sqlite:///{tmp_path}/s.db" if store == "sqlite" else request.getfixturevalue("postgres_url")
    db = Database(url)
    try:
        _fill(db)
        whole = governance.load(db)
        fresh = governance.load_for(db, ["d1/r1"], [("recording", "d1/r1"), ("organizer", "u1")])
        assert fresh.tags == tuple(t for t in whole.tags if t[0] == RecordingRef("d1", "r1"))
        assert {t.assignment_id: t.active for _, t in fresh.tags} == {"A-1": True, "A-2": False}
        assert [e.id for e in fresh.exemptions] == ["EX-0", "EX-1", "EX-2"]  # via its assignment too; not EX-3
        assert fresh.exemptions == tuple(e for e in whole.exemptions if e.id != "EX-3")
        assert fresh.exemptions[0].decided_at == AT
        assert governance.load_for(db, ["d9/none"], [("recording", "d9/none")]) == governance.Governance()
        assert not control.pause_state(db).paused
        control.set_paused(db, True, reason="audit", by="admin@contoso.example", now=AT)
        assert control.pause_state(db) == control.PauseState(True, "audit", "admin@contoso.example", AT)
    finally:
        db.dispose()
