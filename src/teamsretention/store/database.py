"""Opening the state database: engine, migrations at start, sessions, the cycle lock and the pause switch."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import StoreError
from .tables import AuditRow, LockRow, PauseRow, SyncStateRow

CYCLE_LOCK = "cycle"


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
    """The store: a migrated engine and a session factory. Repositories take sessions from it."""

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

    # --- the cycle lock: one cycle at a time across every process sharing the store ---------------
    def acquire_lock(self, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        with self.session() as s:
            if s.get(LockRow, CYCLE_LOCK) is None:
                s.add(LockRow(name=CYCLE_LOCK))
                s.flush()
            # One conditional UPDATE is atomic on SQLite and PostgreSQL alike.
            result = s.execute(
                update(LockRow)
                .where(LockRow.name == CYCLE_LOCK)
                .where((LockRow.holder.is_(None)) | (LockRow.expires_at < now) | (LockRow.holder == holder))
                .values(holder=holder, acquired_at=now, expires_at=now + ttl)
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    def refresh_lock(self, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """False when ``holder`` no longer holds the lock (it expired and someone else took it)."""
        with self.session() as s:
            result = s.execute(update(LockRow).where(LockRow.name == CYCLE_LOCK, LockRow.holder == holder)
                               .values(expires_at=now + ttl))
            return bool(getattr(result, "rowcount", 0) == 1)

    def release_lock(self, holder: str) -> None:
        with self.session() as s:
            s.execute(update(LockRow).where(LockRow.name == CYCLE_LOCK, LockRow.holder == holder)
                      .values(holder=None, expires_at=None))

    # --- pause ----------------------------------------------------------------------------------
    def is_paused(self) -> tuple[bool, str | None]:
        with self.session() as s:
            row = s.get(PauseRow, 1)
            return (bool(row and row.paused), row.reason if row else None)

    def set_paused(self, paused: bool, *, reason: str | None, by: str, now: dt.datetime) -> bool:
        """Returns False when the state was already as asked (nothing recorded)."""
        with self.session() as s:
            row = s.get(PauseRow, 1)
            if row is None:
                row = PauseRow(id=1, paused=False)
                s.add(row)
            if row.paused == paused:
                return False
            row.paused, row.reason, row.by, row.since = paused, reason, by, now
            s.add(AuditRow(at=now, actor=by, event="paused" if paused else "resumed",
                           reason=reason or "", detail={}))
            return True

    # --- tenant-level sync state ----------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        with self.session() as s:
            row = s.get(SyncStateRow, key)
            return row.value if row else None

    def set_state(self, key: str, value: str | None) -> None:
        with self.session() as s:
            row = s.get(SyncStateRow, key)
            if row is None:
                s.add(SyncStateRow(key=key, value=value))
            else:
                row.value = value

    def audit_entries(self, **filters: Any) -> list[AuditRow]:
        with self.session() as s:
            q = select(AuditRow).order_by(AuditRow.id)
            for key, value in filters.items():
                q = q.where(getattr(AuditRow, key) == value)
            return list(s.scalars(q))


def _describe(exc: SQLAlchemyError) -> str:
    # Never echo the URL: it may carry a password.
    return type(exc.orig).__name__ if getattr(exc, "orig", None) is not None else type(exc).__name__
