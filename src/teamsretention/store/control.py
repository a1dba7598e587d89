"""Switches every process sharing the store obeys: the cycle lock (one cycle at a time) and the pause of
deletions (checked before every deletion, changed without a restart)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..errors import StoreError
from . import audit
from .audit import AuditEvent, AuditKind
from .database import CYCLE_LOCK as CYCLE_LOCK  # re-exported: where the store's other modules look
from .database import Database
from .tables import LockRow, PauseRow


# --- the cycle lock ---------------------------------------------------------------------------------
# A lease: taken for ``ttl``, renewed by its holder while its cycle runs, taken over by another process once
# it has run out. Every holder string is unique (a random suffix): it is also the fencing token every write
# of a cycle is checked against (Database.fenced), so a holder that lost the lease cannot write any more.
def acquire_lock(db: Database, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """Take the lock for ``holder`` unless another holder has it and it has not expired."""
    with db.session() as s:
        _ensure_lock_row(s)
        # One conditional UPDATE is atomic on SQLite and PostgreSQL alike.
        result = s.execute(
            update(LockRow)
            .where(LockRow.name == CYCLE_LOCK)
            .where((LockRow.holder.is_(None)) | (LockRow.expires_at < now) | (LockRow.holder == holder))
            .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def _ensure_lock_row(s: Session) -> None:
    """Create the lock row if no cycle ever ran. Two processes taking the lock for the first time at once
    would both find no row, and one INSERT would fail on the primary key: ON CONFLICT DO NOTHING makes
    the second INSERT wait for the first and then do nothing (both dialects we support have it)."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        s.execute(postgresql_insert(LockRow).values(name=CYCLE_LOCK).on_conflict_do_nothing(
            index_elements=[LockRow.name]))
    elif dialect == "sqlite":
        s.execute(sqlite_insert(LockRow).values(name=CYCLE_LOCK).on_conflict_do_nothing(
            index_elements=[LockRow.name]))
    else:
        raise StoreError(f"the cycle lock needs SQLite or PostgreSQL, not {dialect}")


def refresh_lock(db: Database, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """False when ``holder`` no longer holds the lock (it expired and someone else took it)."""
    with db.session() as s:
        result = s.execute(update(LockRow).where(LockRow.name == CYCLE_LOCK, LockRow.holder == holder)
                           .values(expires_at=now + ttl))
        return bool(getattr(result, "rowcount", 0) == 1)


def release_lock(db: Database, holder: str) -> None:
    with db.session() as s:
        s.execute(update(LockRow).where(LockRow.name == CYCLE_LOCK, LockRow.holder == holder)
                  .values(holder=None, expires_at=None))


@dataclass(frozen=True, slots=True)
class LockState:
    holder: str | None
    acquired_at: dt.datetime | None
    expires_at: dt.datetime | None


def lock_state(db: Database) -> LockState:
    """Who holds the cycle lock (``holder`` as its taker described itself), since and until when."""
    with db.session() as s:
        row = s.get(LockRow, CYCLE_LOCK)
        if row is None:
            return LockState(None, None, None)
        return LockState(row.holder, row.acquired_at, row.expires_at)


# --- pause --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PauseState:
    paused: bool
    reason: str | None = None
    by: str | None = None
    since: dt.datetime | None = None


_PAUSE = select(PauseRow.paused, PauseRow.reason, PauseRow.by, PauseRow.since).where(PauseRow.id == 1)


def pause_state(db: Database) -> PauseState:
    """Read afresh every time (the delete step asks before each deletion): another process may pause."""
    with db.session() as s:
        row = s.execute(_PAUSE).first()
        if row is None:
            return PauseState(False)
        return PauseState(bool(row.paused), row.reason, row.by, row.since)


def set_paused(db: Database, paused: bool, *, reason: str | None, by: str, now: dt.datetime) -> bool:
    """Returns False when the state was already as asked (nothing recorded)."""
    with db.session() as s:
        row = s.get(PauseRow, 1)
        if row is None:
            row = PauseRow(id=1, paused=False)
            s.add(row)
        if row.paused == paused:
            return False
        row.paused, row.reason, row.by, row.since = paused, reason, by, now
        audit.write(s, [AuditEvent(AuditKind.PAUSED if paused else AuditKind.RESUMED, at=now, actor=by,
                                   reason=reason or "")])
        return True
