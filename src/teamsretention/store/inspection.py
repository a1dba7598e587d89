"""Looking at a state store without changing it, for ``teamsretention check``: does it exist, can it be reached,
is it at the newest migration, are deletions paused, does a cycle hold the lock, how did the last cycle end.
Never creates, migrates, tightens or writes anything: an SQLite file is opened read-only (no journal files
appear), a missing one is not created."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, inspect, make_url, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from .control import LockState, PauseState
from .database import CYCLE_LOCK, SCHEMA_HEAD, _sqlite_file, stored_revision
from .opening import describe, location_of
from .tables import LockRow, PauseRow, RunRow


@dataclass(frozen=True, slots=True)
class LastRun:
    """The newest cycle recorded (a plan included): what it was, for which date, and how it ended."""

    id: int
    mode: str
    cycle_date: dt.date
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    message: str | None


@dataclass(frozen=True, slots=True)
class StoreStatus:
    location: str  # the file, or the URL without its password
    sqlite_file: str | None
    exists: bool  # False: no file, or a reachable database without our tables
    head: str  # the newest migration this version knows
    revision: str | None = None  # the store's migration
    problem: str | None = None  # why it could not be looked at (unreachable, unreadable, damaged)
    pause: PauseState | None = None  # None: not read (no store, or not at a migration that has it)
    lock: LockState | None = None
    last_run: LastRun | None = None

    @property
    def current(self) -> bool:
        return self.problem is None and self.exists and self.revision == self.head


def head_revision() -> str:
    return SCHEMA_HEAD


def inspect_store(url: str) -> StoreStatus:
    """What the store at ``url`` is, looked at read-only."""
    with contextlib.ExitStack() as stack:
        return _inspect(url, stack)


def _inspect(url: str, stack: contextlib.ExitStack) -> StoreStatus:
    sqlite_file = _sqlite_file(make_url(url))
    location = location_of(url, sqlite_file)
    base = StoreStatus(location=location, sqlite_file=sqlite_file, exists=False, head=head_revision())
    if sqlite_file is not None:
        path = Path(sqlite_file)
        if not path.exists():
            return base
        if not path.is_file():
            return replace(base, problem="it is not a file")
        engine = _read_only_sqlite(path, stack)
    else:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return base
            status = _with_state(conn, replace(base, exists=True, revision=stored_revision(conn)))
    except SQLAlchemyError as exc:
        return replace(base, exists=True, problem=describe(exc, url))
    finally:
        engine.dispose()
    return status


def _with_state(conn: Connection, status: StoreStatus) -> StoreStatus:
    """The pause switch, the cycle lock and the newest run, as every process sharing the store sees them (the
    tables exist from the first migration on)."""
    names = set(inspect(conn).get_table_names())
    if not {PauseRow.__tablename__, LockRow.__tablename__, RunRow.__tablename__} <= names:
        return status
    p = conn.execute(select(PauseRow.paused, PauseRow.reason, PauseRow.by, PauseRow.since)
                     .where(PauseRow.id == 1)).first()
    pause = PauseState(bool(p.paused), p.reason, p.by, p.since) if p is not None else PauseState(False)
    lk = conn.execute(select(LockRow.holder, LockRow.acquired_at, LockRow.expires_at)
                      .where(LockRow.name == CYCLE_LOCK)).first()
    lock = LockState(lk.holder, lk.acquired_at, lk.expires_at) if lk is not None else LockState(None, None, None)
    r = conn.execute(select(RunRow.id, RunRow.mode, RunRow.cycle_date, RunRow.status, RunRow.started_at,
                            RunRow.finished_at, RunRow.message).order_by(RunRow.id.desc()).limit(1)).first()
    last = LastRun(r.id, r.mode, r.cycle_date, r.status, r.started_at, r.finished_at, r.message) if r else None
    return replace(status, pause=pause, lock=lock, last_run=last)


def _read_only_sqlite(path: Path, stack: contextlib.ExitStack) -> Engine:
    """Read-only. While a process has the WAL database open (its ``-wal`` and ``-shm`` files are there), what it
    committed may be in the WAL file only (a pause a minute ago): then it is read as any reader does, through the
    files that are already there. A ``-wal`` left without its ``-shm`` (a process that stopped) would make SQLite
    create the ``-shm``: a copy of the two is read instead, in a directory of its own. Otherwise everything is in
    the database file, read ``immutable=1``: SQLite then creates nothing beside it and takes no lock."""
    wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
    query = "mode=ro"
    if wal.exists() and not shm.exists():
        copy = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="teamsretention-check-")))
        shutil.copy2(path, copy / path.name)
        shutil.copy2(wal, copy / wal.name)
        path = copy / path.name
    elif not wal.exists():
        query += "&immutable=1"
    uri = f"file:{path.resolve()}?{query}"
    return create_engine("sqlite://", poolclass=NullPool, creator=lambda: sqlite3.connect(uri, uri=True))
