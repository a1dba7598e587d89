"""Opening the state database: engine, migrations at start, and sessions for the store's modules."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    inspect,
    literal,
    make_url,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.pool import NullPool

from ..errors import LockLost, StoreError
from .opening import check_integrity, location_of, prepare_sqlite, require_schema, store_error
from .tables import LockRow

BUSY_TIMEOUT_SECONDS = 30  # how long a writer waits for another process's write (or migration) to end
# The key of the PostgreSQL advisory lock that serialises migrations: any constant other applications
# sharing the database are unlikely to use ("teamsret" in ASCII).
MIGRATION_LOCK_KEY = 0x7465616D73726574
# The newest migration in store/migrations/versions: a test holds it to the scripts' head, so a new migration
# cannot be added without it (a store at this revision is opened without Alembic).
SCHEMA_HEAD = "0008"
CYCLE_LOCK = "cycle"  # the name of the cycle lock's row (store.control)
# The lease a task's writes are fenced by: (the store, the lease holder). Set by a cycle for itself and the
# tasks it starts (they inherit it); every other caller (commands, the web endpoint's thread) has none.
_FENCE: ContextVar[tuple[Database, str] | None] = ContextVar("teamsretention_fence", default=None)
# The fence's read, built once: it runs before every fenced commit (thousands in a large tenant's first cycle).
# Core, on the session's connection: the ORM's execution path adds nothing to a one-column read.
_LOCKS = LockRow.__table__
_HOLDS_LOCK = (select(literal(1)).select_from(_LOCKS)
               .where(_LOCKS.c.name == CYCLE_LOCK, _LOCKS.c.holder == bindparam("holder")))
_HOLDS_LOCK_FOR_SHARE = _HOLDS_LOCK.with_for_update(read=True)
# The transaction a task's store calls share inside ``Database.unit`` (a batch of delta pages: reads, writes).
_UNIT: ContextVar[tuple[Database, Session] | None] = ContextVar("teamsretention_unit", default=None)


def _sqlite_file(url: URL) -> str | None:
    return url.database if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") else None


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS}, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        _use_wal(cur)  # readers (plan, report) do not block a running cycle
        # deleted and rewritten content is overwritten, not left in free pages: pruned personal data is gone
        # from the file, not only from the tables (store.evidence)
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    return engine


def _use_wal(cur: Any) -> None:
    """Switch the file to WAL once (it stays so). Changing the journal mode needs the file to itself and SQLite
    answers "database is locked" at once, without its busy handler, while another process holds it (several
    processes opening a brand-new store together): wait for it as the busy timeout would."""
    if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """One transaction for the whole migration, serialised across every process opening the same store.
    Alembic reads the version table and then creates what is missing, so two processes starting on a new
    store would otherwise both create the schema (and one would fail); the one that waits finds the schema
    at head and does nothing."""
    if _sqlite_file(engine.url):
        # pysqlite emits no BEGIN before DDL (each CREATE commits on its own) and only a deferred BEGIN
        # before DML. SQLAlchemy's documented recipe: stop pysqlite from beginning transactions and begin
        # them ourselves, here with BEGIN IMMEDIATE, which takes SQLite's write lock (waiting out the busy
        # timeout) before Alembic reads anything. Its own short-lived engine keeps this recipe away from
        # the store's ordinary sessions, whose transactions pysqlite keeps beginning as before.
        migration_engine = _sqlite_engine(engine.url, poolclass=NullPool)

        @event.listens_for(migration_engine, "connect")
        def _no_driver_begin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(migration_engine, "begin")
        def _begin_immediate(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        try:
            with migration_engine.begin() as conn:
                yield conn
        finally:
            migration_engine.dispose()
        return
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Released when this transaction ends (commit, rollback, or the session dying with a crash).
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        yield conn  # (an in-memory SQLite database has no other process to race with)


def stored_revision(conn: Connection) -> str | None:
    """The migration a store is at; None when it holds no teamsretention schema."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if revision is None else str(revision)


def at_head(engine: Engine) -> bool:
    """Whether the store's schema is :data:`SCHEMA_HEAD` already. Read without the migration lock: a store that
    another process is migrating still reads its older revision, and its opener takes the locked path."""
    with engine.connect() as conn:
        return stored_revision(conn) == SCHEMA_HEAD


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (Alembic), run at every start. A store already there is left
    alone without loading Alembic (about 8 MiB of a process that only opens a current store)."""
    if at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    script_dir = resources.files("teamsretention.store") / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", os.fspath(Path(str(script_dir))))
    with _migration_connection(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


_WRITES = "teamsretention_writes"  # Session.info: this transaction sent an INSERT, UPDATE or DELETE


def _note_statement_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WRITES] = True


def _note_flush(session: Session, _context: Any) -> None:
    session.info[_WRITES] = True


def _fence_before_commit(session: Session) -> None:
    """The fence's listener. A module function, not a bound method: SQLAlchemy's event registry is global and
    holds its listeners, so a method would keep every Database ever opened (engine, pool, statement cache) alive
    for the life of the process (a demo opens one per simulated day)."""
    fence = _FENCE.get()
    if fence is not None and session.bind is fence[0].engine:
        fence[0]._check_fence(session)


class Database:
    """The store: a migrated engine and a session factory. Only the store's own modules open sessions;
    everything else calls their named functions (``store.recordings``, ``store.audit``, ...).

    ``create``: a cycle (``plan``, ``run``) creates the store when there is none; every other command passes
    False and gets :class:`~teamsretention.errors.StoreNotFound` instead, so it can never act on a new,
    empty store while the daemon uses another. A SQLite store is private (directory 0700 when it is
    ``state_dir`` or created here, files 0600) and must pass ``PRAGMA quick_check``; a PostgreSQL one must
    be reachable (and, without ``create``, hold our tables). ``origin`` says where its location came from
    (a settings key and its source), for messages. ``location`` is how it is shown: the file, or the URL
    without its password."""

    def __init__(self, url: str, *, create: bool = True, state_dir: Path | None = None, origin: str = "") -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except Exception as exc:  # validated by the settings already: only a bad URL handed in by code
            raise StoreError("state store: the database URL cannot be parsed") from exc
        self.sqlite_file = _sqlite_file(parsed)
        self.location = location_of(url, self.sqlite_file)
        try:
            created = self.sqlite_file is not None and prepare_sqlite(
                Path(self.sqlite_file), create=create, state_dir=state_dir, origin=origin)
            self.engine = _make_engine(url)
            if self.sqlite_file and not created:
                check_integrity(self.engine, Path(self.sqlite_file))
            if not create:
                require_schema(self.engine, self.location, origin)
            migrate(self.engine)
        except SQLAlchemyError as exc:
            self._dispose_quietly()
            raise store_error(exc, self.location, url, self.sqlite_file) from exc
        except StoreError:
            self._dispose_quietly()
            raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self._sessions, "do_orm_execute", _note_statement_writes)
        event.listen(self._sessions, "after_flush", _note_flush)
        event.listen(self._sessions, "before_commit", _fence_before_commit)

    @contextmanager
    def fenced(self, holder: str) -> Iterator[None]:
        """Within the block (and in the tasks started from it), every transaction on this store commits only
        while ``holder`` still holds the cycle lock: see :meth:`_check_fence`."""
        token = _FENCE.set((self, holder))
        try:
            yield
        finally:
            _FENCE.reset(token)

    def _check_fence(self, session: Session) -> None:
        """Before a fenced transaction commits: its pending writes are flushed, then the lock row is read in
        the same transaction, and if it no longer names the holder (the lease expired and another process
        took it over) LockLost rolls the whole transaction back. On PostgreSQL the row is read FOR SHARE: a
        takeover's UPDATE waits until this transaction has ended, so no write of a fenced process can commit
        after the takeover. SQLite lets one writer at a time: once this transaction has written, no takeover
        can commit before it ends. The holder string is the fencing token; no clock is involved."""
        fence = _FENCE.get()
        if fence is None or fence[0] is not self:
            return
        if not (session.new or session.dirty or session.deleted or session.info.get(_WRITES)):
            return  # a transaction that only read commits nothing: nothing to fence
        session.flush()
        query = _HOLDS_LOCK_FOR_SHARE if self.engine.dialect.name == "postgresql" else _HOLDS_LOCK
        if session.connection().execute(query, {"holder": fence[1]}).first() is None:
            raise LockLost(f"state store {self.location}: this cycle no longer holds the cycle lock (its lease ran "
                           "out and another process took it over); what it was about to record was rolled back "
                           "and it stops without writing anything more")

    def _dispose_quietly(self) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.dispose()

    @contextmanager
    def unit(self) -> Iterator[None]:
        """One transaction for every store call inside the block (a batch of delta pages: its reads, writes, the
        folders it moves): committed, and fenced, once when the block ends; rolled back whole if anything in it
        fails. Only around synchronous work: an ``await`` inside would hold SQLite's write lock while the
        other tasks wait for it on the same thread."""
        current = _UNIT.get()
        if current is not None and current[0] is self:
            yield
            return
        with self.session() as shared:
            token = _UNIT.set((self, shared))
            try:
                yield
            finally:
                _UNIT.reset(token)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on error (nothing half-recorded). A
        database that fails under it (locked, read-only, damaged, unreachable) is a StoreError naming it.
        Inside :meth:`unit` it is the unit's transaction, committed with the unit; what the block changed is
        flushed and its objects let go, so a later read in the unit sees the rows as written."""
        current = _UNIT.get()
        if current is not None and current[0] is self:
            yield current[1]
            current[1].flush()
            current[1].expunge_all()
            return
        session = self._sessions()
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            if isinstance(exc, OperationalError) or "malformed" in str(exc.orig):
                raise store_error(exc, self.location, self.url, self.sqlite_file) from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def compact(self) -> None:
        """After removing personal data: fold SQLite's write-ahead log into the database file and empty it,
        so no earlier version of a page survives there (PostgreSQL's own vacuum reclaims dead rows)."""
        if _sqlite_file(self.engine.url):
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def refresh_statistics(self, changed_rows: int) -> bool:
        """After a large change (a first inventory, a tenant's worth of new recordings): the query planner's
        statistics of the inventory's tables, so that it picks the indexes that match the per-drive and
        per-organizer queries. SQLite never gathers them by itself; PostgreSQL's autovacuum does, later. Below
        ``ANALYZE_AFTER_ROWS`` changed rows nothing is done, unless a SQLite store holding recordings has no
        statistics yet (one upgraded to migration 0006); returns whether the statistics were refreshed."""
        sqlite = self.engine.dialect.name == "sqlite"
        if changed_rows < ANALYZE_AFTER_ROWS and not (sqlite and self._sqlite_unanalysed()):
            return False
        statements = ["ANALYZE recordings", "ANALYZE folders"] if sqlite else ["ANALYZE recordings, folders"]
        with self.session() as s:
            for statement in statements:
                s.execute(text(statement))
        return True

    def _sqlite_unanalysed(self) -> bool:
        """Recordings are stored, and SQLite has no statistics of them."""
        with self.engine.connect() as conn:
            if conn.exec_driver_sql("SELECT 1 FROM recordings LIMIT 1").first() is None:
                return False
            if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first() is None:
                return True
            return conn.exec_driver_sql("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'recordings'").first() is None

    def dispose(self) -> None:
        self.engine.dispose()


ANALYZE_AFTER_ROWS = 1000  # rows inserted or changed by one cycle that call for fresh planner statistics
IN_CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits
ID_BATCH = 5000  # rows fetched at a time when a query streams a large tenant's ids into a list


def chunked(ids: list[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    """``ids`` in slices small enough for one ``IN (...)``."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
