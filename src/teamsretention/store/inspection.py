"""Looking at a state store without changing it, for ``teamsretention check``: does it exist, can it be reached,
is it at the newest migration. Never creates, migrates, tightens or writes anything: an SQLite file is opened
read-only and immutable (no journal files appear), a missing one is not created."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from .database import SCHEMA_HEAD, _sqlite_file, stored_revision
from .opening import describe, location_of


@dataclass(frozen=True, slots=True)
class StoreStatus:
    location: str  # the file, or the URL without its password
    sqlite_file: str | None
    exists: bool  # False: no file, or a reachable database without our tables
    head: str  # the newest migration this version knows
    revision: str | None = None  # the store's migration
    problem: str | None = None  # why it could not be looked at (unreachable, unreadable, damaged)

    @property
    def current(self) -> bool:
        return self.problem is None and self.exists and self.revision == self.head


def head_revision() -> str:
    return SCHEMA_HEAD


def inspect_store(url: str) -> StoreStatus:
    """What the store at ``url`` is, looked at read-only."""
    sqlite_file = _sqlite_file(make_url(url))
    location = location_of(url, sqlite_file)
    base = StoreStatus(location=location, sqlite_file=sqlite_file, exists=False, head=head_revision())
    if sqlite_file is not None:
        path = Path(sqlite_file)
        if not path.exists():
            return base
        if not path.is_file():
            return replace(base, problem="it is not a file")
        engine = _read_only_sqlite(path)
    else:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return base
            revision = stored_revision(conn)
    except SQLAlchemyError as exc:
        return replace(base, exists=True, problem=describe(exc, url))
    finally:
        engine.dispose()
    return replace(base, exists=True, revision=revision)


def _read_only_sqlite(path: Path) -> Engine:
    """``immutable=1``: SQLite then creates no ``-wal`` / ``-shm`` beside a WAL database (``mode=ro`` alone would)
    and takes no lock. A cycle writing at the same moment could be missed; only the migration revision is
    read, which only a cycle's start changes."""
    uri = f"file:{path.resolve()}?mode=ro&immutable=1"
    return create_engine("sqlite://", poolclass=NullPool, creator=lambda: sqlite3.connect(uri, uri=True))
