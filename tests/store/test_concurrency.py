"""Several processes starting on a brand-new store at the same instant (a daemon and a ``plan`` started
together, two replicas of a shared deployment): none may crash, the schema is created once, and exactly
one of them takes the cycle lock.

Real processes (multiprocessing 'spawn'), released together by a barrier once each has imported
everything, so they race in ``Database(url)`` (the migration) and in ``acquire_lock`` (the lock row).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
from importlib import resources
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from teamsretention.store import Database, control

PROCESSES = 8
NOW = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(hours=2)
JOIN_SECONDS = 120  # a deadline for a hung process, never a wait the logic depends on


def _open_and_lock(url: str, n: int, barrier: multiprocessing.synchronize.Barrier,
                   results: multiprocessing.Queue[tuple[int, str, object]]) -> None:
    """One process: open the store (migrating it) and try to take the cycle lock; report what happened."""
    try:
        barrier.wait(timeout=JOIN_SECONDS)
        db = Database(url)
        try:
            got = control.acquire_lock(db, f"holder-{n}", NOW, TTL)
        finally:
            db.dispose()
        results.put((n, "ok", got))
    except BaseException as exc:  # report it to the parent, which asserts nothing crashed
        results.put((n, "crashed", f"{type(exc).__name__}: {exc} (from {exc.__cause__!r})"))
        raise


def _race(url: str) -> list[tuple[int, str, object]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results: multiprocessing.Queue[tuple[int, str, object]] = ctx.Queue()
    procs = [ctx.Process(target=_open_and_lock, args=(url, n, barrier, results)) for n in range(PROCESSES)]
    for p in procs:
        p.start()
    outcomes = []
    try:
        for _ in procs:
            outcomes.append(results.get(timeout=JOIN_SECONDS))
    except queue.Empty:
        pass
    for p in procs:
        p.join(timeout=JOIN_SECONDS)
        if p.is_alive():
            p.kill()
            p.join()
    crashed = [o for o in outcomes if o[1] != "ok"]
    assert not crashed, "\n".join(f"process {n}: {what}" for n, _, what in crashed)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    assert len(outcomes) == PROCESSES
    return outcomes


def _head() -> str:
    scripts = ScriptDirectory(str(Path(str(resources.files("teamsretention.store") / "migrations"))))
    head = scripts.get_current_head()
    assert head is not None
    return head


def _assert_one_schema_and_one_holder(url: str, outcomes: list[tuple[int, str, object]]) -> None:
    assert sorted(bool(got) for _, _, got in outcomes) == [False] * (PROCESSES - 1) + [True]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [_head()]
            holders = conn.execute(text("SELECT holder FROM cycle_lock")).scalars().all()
    finally:
        engine.dispose()
    winner = next(n for n, _, got in outcomes if got)
    assert holders == [f"holder-{winner}"]


def _migrated_without_lock_row(url: str) -> str:
    """The schema at head but no lock row yet (no cycle ever ran): the race is then in ``acquire_lock``."""
    Database(url).dispose()
    return url


def test_processes_starting_together_on_a_new_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path}/state.db"
    _assert_one_schema_and_one_holder(url, _race(url))


def test_processes_taking_the_lock_together_on_a_sqlite_store_that_never_ran_a_cycle(tmp_path):
    url = _migrated_without_lock_row(f"sqlite:///{tmp_path}/state.db")
    _assert_one_schema_and_one_holder(url, _race(url))


@pytest.mark.postgres
def test_processes_starting_together_on_a_new_postgresql_database(postgres_url):
    _assert_one_schema_and_one_holder(postgres_url, _race(postgres_url))


@pytest.mark.postgres
def test_processes_taking_the_lock_together_on_a_postgresql_store_that_never_ran_a_cycle(postgres_url):
    url = _migrated_without_lock_row(postgres_url)
    _assert_one_schema_and_one_holder(url, _race(url))


def test_switching_a_new_file_to_wal_waits_for_another_process_instead_of_failing(monkeypatch):
    """SQLite answers "database is locked" at once, without its busy handler, to a journal-mode change while
    another process holds the file (8 processes opening a brand-new store): the switch waits and retries."""
    import sqlite3

    from teamsretention.store import database

    class Cursor:
        def __init__(self) -> None:
            self.attempts = 0

        def execute(self, sql: str) -> Cursor:
            self.sql = sql
            if sql == "PRAGMA journal_mode=WAL":
                self.attempts += 1
                if self.attempts < 3:
                    raise sqlite3.OperationalError("database is locked")
            return self

        def fetchone(self) -> tuple[str]:
            return ("delete",)

    waits: list[float] = []
    monkeypatch.setattr(database.time, "sleep", waits.append)
    cur = Cursor()
    database._use_wal(cur)
    assert cur.attempts == 3 and len(waits) == 2
