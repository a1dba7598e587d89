"""``Database.unit``: the store calls of one delta page share one transaction. It commits once, with everything
in it, or not at all; a read inside it sees what the block wrote before; a cycle that lost its lease has the
whole page rolled back by the fence, not just its last write."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import weakref

import pytest

from teamsretention.domain import RecordingState
from teamsretention.errors import LockLost
from teamsretention.store import Database, audit, control, recordings
from teamsretention.store.audit import AuditEvent, AuditKind
from teamsretention.store.recordings import StoredRecording

AT = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=30)


def _recording(item: str) -> StoredRecording:
    return StoredRecording(id=0, drive_id="d1", item_id=item, name=f"{item}.mp4", created_at=AT, recorded_on=AT.date(),
                           first_seen=AT, last_seen=AT, organizer_id="alice", sync_generation=1,
                           state=RecordingState.TRACKED)


def _found(item: str) -> AuditEvent:
    return AuditEvent.about(AuditKind.DISCOVERED, _recording(item), at=AT, reason=f"{item} found")


def test_a_unit_commits_everything_in_it_together(tmp_path):
    db, other = Database(f"sqlite:///{tmp_path}/state.db"), Database(f"sqlite:///{tmp_path}/state.db")
    with db.unit():
        recordings.save(db, new=[_recording("a")], events=[_found("a")])
        # the unit's own reads see what it wrote; another connection sees nothing yet
        (a,) = recordings.in_drive(db, "d1", ["a"]).values()
        assert recordings.in_drive(other, "d1", ["a"]) == {}
        recordings.save(db, [dataclasses.replace(a, etag='"2"')])
        assert recordings.in_drive(db, "d1", ["a"])["a"].etag == '"2"'
    assert recordings.in_drive(other, "d1", ["a"])["a"].etag == '"2"'
    assert [e.recording_key for e in audit.entries(other, kind=AuditKind.DISCOVERED)] == ["d1/a"]
    db.dispose()
    other.dispose()


def test_a_failure_in_a_unit_leaves_nothing_of_it(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    with pytest.raises(RuntimeError), db.unit():
        recordings.save(db, new=[_recording("a")], events=[_found("a")])
        recordings.save(db, new=[_recording("b")], events=[_found("b")])
        raise RuntimeError("the page could not be applied")
    assert recordings.list_all(db) == []
    assert audit.entries(db, kind=AuditKind.DISCOVERED) == []
    # the store works normally afterwards, outside any unit
    recordings.save(db, new=[_recording("c")])
    assert [r.item_id for r in recordings.list_all(db)] == ["c"]
    db.dispose()


def test_a_unit_after_a_takeover_is_rolled_back_whole(tmp_path):
    leader, standby = Database(f"sqlite:///{tmp_path}/state.db"), Database(f"sqlite:///{tmp_path}/state.db")
    assert control.acquire_lock(leader, "host-a", AT, LEASE)
    with leader.fenced("host-a"):
        with leader.unit():
            recordings.save(leader, new=[_recording("a")])
        assert control.acquire_lock(standby, "host-b", AT + LEASE + dt.timedelta(seconds=1), LEASE)
        with pytest.raises(LockLost), leader.unit():
            recordings.save(leader, new=[_recording("b")], events=[_found("b")])
            recordings.save(leader, new=[_recording("c")])
    assert [r.item_id for r in recordings.list_all(standby)] == ["a"]
    assert audit.entries(standby, kind=AuditKind.DISCOVERED) == []
    leader.dispose()
    standby.dispose()


def test_a_store_no_longer_used_is_let_go_and_the_fence_still_holds_for_the_one_in_use(tmp_path):
    """Every store opened in one process (a demo opens one per simulated day; a cycle run in-process one per
    run) is freed once nothing uses it: its engine, pool and statement cache with it. The fence's listener
    must keep nothing alive, and must still stop a fenced write of the store that lost the lock."""
    url = f"sqlite:///{tmp_path}/state.db"
    gone = []
    for item in ("a", "b", "c"):
        db = Database(url)
        assert control.acquire_lock(db, f"host-{item}", AT + LEASE * 2 * len(gone), LEASE)
        with db.fenced(f"host-{item}"):
            recordings.save(db, new=[_recording(item)], events=[_found(item)])
        gone.append(weakref.ref(db))
        db.dispose()
        del db
    gc.collect()
    assert [ref() for ref in gone] == [None, None, None]
    leader, standby = Database(url), Database(url)
    assert control.acquire_lock(leader, "host-d", AT + LEASE * 8, LEASE)
    assert control.acquire_lock(standby, "host-e", AT + LEASE * 10, LEASE)
    with leader.fenced("host-d"), pytest.raises(LockLost):
        recordings.save(leader, new=[_recording("d")])
    assert [r.item_id for r in recordings.list_all(standby)] == ["a", "b", "c"]
    leader.dispose()
    standby.dispose()
