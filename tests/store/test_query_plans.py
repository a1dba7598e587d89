"""The inventory's per-drive queries and an organizer's digest read through indexes, never the whole
recordings table, with and without the planner's statistics; a large change refreshes those statistics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, text

from teamsretention.domain import Action, RecordingState
from teamsretention.store import Database, digests, moves, recordings
from teamsretention.store.database import ANALYZE_AFTER_ROWS
from teamsretention.store.moves import Arrival
from teamsretention.store.recordings import StoredRecording

AT = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
TODAY = AT.date()
STATES = [RecordingState.TRACKED, RecordingState.TRACKED, RecordingState.DELETED, RecordingState.GONE]


def fill(db: Database, drives: int = 20, per_drive: int = 60) -> None:
    """Most recordings tracked (as in a tenant), the rest deleted or gone; one organizer per drive."""
    new = []
    for d in range(drives):
        for i in range(per_drive):
            created = AT - dt.timedelta(days=i, minutes=d)
            new.append(StoredRecording(
                id=0, drive_id=f"d{d}", item_id=f"i{i}", name=f"Meeting {i}.mp4", created_at=created,
                recorded_on=created.date(), first_seen=AT, last_seen=AT, organizer_id=f"u{d}", sync_generation=1,
                state=STATES[i % len(STATES)], action=Action.WARN if i % 5 == 0 else Action.KEEP, decided_on=TODAY,
                parent_id="rec"))
    recordings.save(db, new=new)


def plans(db: Database, read: Callable[[], Any]) -> list[str]:
    """What SQLite's planner does for every statement ``read`` sends (EXPLAIN QUERY PLAN, same parameters)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        read()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert sent, "the read sent no statement"
    with db.engine.connect() as conn:
        return [row[-1] for statement, parameters in sent
                for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()]


READS: dict[str, Callable[[Database], Any]] = {
    "unlisted after a full enumeration": lambda db: recordings.unlisted(db, "d3", 2),
    "governed recordings of a drive": lambda db: recordings.governed_in_drive(db, "d3"),
    "known items of a page": lambda db: recordings.in_drive(db, "d3", ["i1", "i2", "i3"]),
    "a batch of organizers' digests": lambda db: digests.content(db, TODAY, ["u3", "u4"]),
    "where a new recording was moved from": lambda db: moves.moved_from(
        db, "d9", [Arrival("new", "Meeting 3.mp4", AT - dt.timedelta(days=3, minutes=3), None)]),
}


def test_per_drive_and_per_organizer_reads_use_an_index(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    fill(db)
    for statistics in ("none yet", "after ANALYZE"):
        for what, read in READS.items():
            plan = plans(db, lambda read=read: read(db))
            scans = [step for step in plan if step.startswith("SCAN recordings")]
            assert not scans, f"{what} ({statistics}): {plan}"
        assert db.refresh_statistics(ANALYZE_AFTER_ROWS)
    db.dispose()


def test_the_unlisted_sweep_reads_its_drive_through_the_drive_index(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    fill(db)
    plan = plans(db, lambda: recordings.unlisted(db, "d3", 2))
    assert any("ix_recordings_drive_state" in step for step in plan), plan
    assert len(recordings.unlisted(db, "d3", 2)) == 30  # its tracked recordings, not the deleted or gone
    db.dispose()


def test_the_move_match_searches_by_creation_time_with_and_without_statistics(tmp_path):
    """A first cycle runs before any ANALYZE: a condition on the state let SQLite search ix_recordings_state,
    every tracked recording of the tenant for each delta page (the first cycle's super-linear term)."""
    db = Database(f"sqlite:///{tmp_path}/state.db")
    fill(db)
    page = [Arrival(f"new{i}", f"Meeting {i}.mp4", AT - dt.timedelta(days=i, minutes=3), None) for i in range(200)]

    def read(db: Database) -> Any:
        return moves.moved_from(db, "d9", page)  # a page's worth of new files: many creation times

    for statistics in ("none yet", "after ANALYZE"):
        searches = [step for step in plans(db, lambda: read(db)) if "recordings" in step]
        assert searches and all("ix_recordings_created_name" in step for step in searches), (statistics, searches)
        assert db.refresh_statistics(ANALYZE_AFTER_ROWS)
    # ...and the match takes an original whatever its state: one gone, and one deleted by us (restored by its
    # owner and moved before its drive was read again): matching only ever adds covers
    gone = [r for r in recordings.list_all(db) if r.state is RecordingState.GONE][0]
    deleted = [r for r in recordings.list_all(db) if r.state is RecordingState.DELETED][0]
    found = moves.moved_from(db, "elsewhere", [Arrival("n1", gone.name, gone.created_at, None),
                                                    Arrival("n2", deleted.name, deleted.created_at, None)])
    assert {k: v.ref.key for k, v in found.items()} == {"n1": gone.ref.key, "n2": deleted.ref.key}
    db.dispose()


def test_statistics_are_refreshed_only_after_a_large_change(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    fill(db, drives=2, per_drive=10)

    def analysed() -> set[str]:
        with db.engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
                return set()
            return set(conn.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())

    assert analysed() == set()
    # a store that holds recordings and was never analysed (upgraded to 0006) is, whatever changed
    assert db.refresh_statistics(1)
    assert "recordings" in analysed()
    # from then on, only a large change refreshes them
    assert not db.refresh_statistics(ANALYZE_AFTER_ROWS - 1)
    assert db.refresh_statistics(ANALYZE_AFTER_ROWS)
    db.dispose()


def test_an_empty_store_is_not_analysed_for_a_small_change(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    assert not db.refresh_statistics(0)
    db.dispose()


def test_with_statistics_a_batch_of_digests_reads_the_organizer_index(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    fill(db)
    assert db.refresh_statistics(ANALYZE_AFTER_ROWS)
    searches = [step for step in plans(db, lambda: digests.content(db, TODAY, ["u3", "u4"]))
                if step.startswith("SEARCH recordings")]
    assert searches and all("ix_recordings_organizer_state" in step for step in searches), searches
    db.dispose()


@pytest.mark.postgres
def test_postgresql_has_the_same_indexes_and_analyses_after_a_large_change(postgres_url):
    db = Database(postgres_url)
    try:
        fill(db, drives=2, per_drive=10)
        with db.engine.connect() as conn:
            indexes = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'recordings'"))
                          .scalars())
        assert {"ix_recordings_drive_state", "ix_recordings_organizer_state", "ix_recordings_created_name"} <= indexes
        assert not {"ix_recordings_drive_id", "ix_recordings_organizer_id"} & indexes
        assert not db.refresh_statistics(ANALYZE_AFTER_ROWS - 1)  # autovacuum's business, below the threshold
        assert db.refresh_statistics(ANALYZE_AFTER_ROWS)
        assert sorted(r.item_id for r in recordings.unlisted(db, "d1", 2)) == [f"i{i}" for i in (0, 1, 4, 5, 8, 9)]
    finally:
        db.dispose()
