"""The re-check before a warning or a deletion finds the parent folders of a whole batch of re-reads in one
query: a folder Graph marks as the "recordings" special folder (whatever its name) still makes its videos
recordings, and a parent the store does not know costs no further query per recording."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import event

from teamsretention.cycle import CycleConfig, CycleReport, ScopeRules
from teamsretention.cycle.config import CycleContext
from teamsretention.cycle.recheck import parents_of, recheck
from teamsretention.domain import DriveKind, LabelStatus, Person, PolicyConfig, RecordingState, RetentionLabel, RunMode
from teamsretention.ports import DriveRef, ItemChange, ItemState
from teamsretention.store import Database, directory, drives
from teamsretention.store.recordings import StoredRecording

WHEN = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
NAME = "Weekly-20260301_120000-Meeting Recording.mp4"


def _context(tmp_path: Any) -> CycleContext:
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, [Person(id="alice", upn="alice@contoso.example")], [])
    directory.record_onedrive(db, "alice", DriveRef("d1", DriveKind.ONEDRIVE, owner_id="alice", name="alice"), WHEN)
    drives.apply_folders(db, "d1", [ItemChange(id="root", name="root", is_root=True, is_folder=True),
                                    ItemChange(id="sp", name="Opnamen", is_folder=True, parent_id="root",
                                               special_folder="recordings")])
    report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
    return CycleContext(db, None, CycleConfig(policy=PolicyConfig(), scope=ScopeRules()),  # type: ignore[arg-type]
                        lambda: WHEN, WHEN.date(), report, asyncio.Event())


def _recording(item: str) -> StoredRecording:
    return StoredRecording(id=1, drive_id="d1", item_id=item, name=NAME, created_at=WHEN, recorded_on=WHEN.date(),
                           first_seen=WHEN, last_seen=WHEN, organizer_id="alice", state=RecordingState.TRACKED)


def _read(parent: str, path: str) -> ItemState:
    return ItemState(etag='"1"', name=NAME, label=RetentionLabel(status=LabelStatus.NONE), parent_id=parent,
                     parent_path=path, mime_type="video/mp4")


def test_a_batch_of_rechecks_reads_the_parents_once(tmp_path):
    ctx = _context(tmp_path)
    recs = [_recording("in-special"), _recording("in-unknown")]
    reads = [_read("sp", "/drives/d1/root:/Opnamen"), _read("gone", "/drives/d1/root:/Elsewhere")]
    parents = parents_of(ctx, recs, reads)
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", record)
    try:
        special, unknown = (asyncio.run(recheck(ctx, rec, read, parents=parents)) for rec, read in zip(
            recs, reads, strict=True))
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", record)
    assert sent == []  # both parents came from the batch's one query, the unknown one included
    assert special.recognised  # the special "recordings" folder, whatever its name
    assert not unknown.recognised and unknown.recording.state is RecordingState.UNSURE
    # without the batch's parents, the re-check reads the folder itself and comes to the same answer
    assert asyncio.run(recheck(ctx, recs[0], reads[0])).recognised
    ctx.db.dispose()
