"""Opening the state database: engine, migrations at start, and sessions for the store's modules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import StoreError


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")  # readers (plan, report) do not block a running cycle
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (Alembic), run at every start."""
    script_dir = resources.files("teamsretention.store") / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", os.fspath(Path(str(script_dir))))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    """The store: a migrated engine and a session factory. Only the store's own modules open sessions;
    everything else calls their named functions (``store.recordings``, ``store.audit``, ...)."""

    def __init__(self, url: str) -> None:
        try:
            self.engine = _make_engine(url)
            migrate(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the state database: {_describe(exc)}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on error (nothing half-recorded)."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _describe(exc: SQLAlchemyError) -> str:
    # Never echo the URL: it may carry a password.
    orig = getattr(exc, "orig", None)
    return type(orig).__name__ if orig is not None else type(exc).__name__


IN_CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits


def chunked(ids: list[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    """``ids`` in slices small enough for one ``IN (...)``."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
