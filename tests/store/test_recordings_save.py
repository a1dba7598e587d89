"""``recordings.save`` with the snapshots the changes were made from writes only what changed: a column another
writer set since is left as that writer set it, and a recording that did not change costs no statement."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import event

from teamsretention.domain import Action, RecordingState
from teamsretention.store import Database, recordings
from teamsretention.store.recordings import StoredRecording

AT = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)


def _stored(db: Database) -> list[StoredRecording]:
    recordings.save(db, new=[StoredRecording(
        id=0, drive_id="d1", item_id=f"i{n}", name=f"Meeting {n}.mp4", created_at=AT, recorded_on=AT.date(),
        first_seen=AT, last_seen=AT, organizer_id="alice", sync_generation=1, state=RecordingState.TRACKED,
        etag='"1"') for n in range(3)])
    return recordings.list_all(db)


def test_only_the_changed_columns_are_written(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    first, second, third = _stored(db)
    # meanwhile another writer changes the first one's eTag
    recordings.save(db, [dataclasses.replace(first, etag='"2"')])
    decided = [dataclasses.replace(r, action=Action.WARN, rule="retention", due=AT.date(), decided_on=AT.date())
               for r in (first, second)]
    recordings.save(db, decided, evaluated=True, before={r.id: r for r in (first, second, third)})
    now = {r.item_id: r for r in recordings.list_all(db)}
    assert (now["i0"].action, now["i0"].due, now["i0"].etag) == (Action.WARN, AT.date(), '"2"')  # kept its eTag
    assert (now["i1"].action, now["i1"].etag) == (Action.WARN, '"1"')
    assert now["i2"].action is None
    db.dispose()


def test_a_recording_the_same_as_stored_sends_no_update(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    stored = _stored(db)
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", record)
    recordings.save(db, stored, evaluated=True, before={r.id: r for r in stored})
    recordings.save(db, [dataclasses.replace(stored[0], name="Renamed.mp4")], before={r.id: r for r in stored})
    event.remove(db.engine, "before_cursor_execute", record)
    assert sent.count("UPDATE") == 1  # the rename (and its review date) only
    assert [r.name for r in recordings.list_all(db)] == ["Renamed.mp4", "Meeting 1.mp4", "Meeting 2.mp4"]
    assert recordings.list_all(db)[0].review_on is None  # a change outside evaluation: looked at next cycle
    db.dispose()
