"""Pause and resume deletions without restarting the daemon (stored, audited, checked before every
deletion). Warnings keep going out while deletions are paused."""

from __future__ import annotations

import datetime as dt

from ..errors import ConfigError
from ..store import control
from ..store.database import Database


def pause(db: Database, *, reason: str, by: str, now: dt.datetime) -> bool:
    """False when deletions were already paused (nothing recorded)."""
    if not reason.strip():
        raise ConfigError("pause --reason: a reason is required (it goes into the audit trail)")
    return control.set_paused(db, True, reason=reason.strip(), by=by, now=now)


def resume(db: Database, *, by: str, now: dt.datetime) -> bool:
    """False when deletions were not paused (nothing recorded)."""
    return control.set_paused(db, False, reason=None, by=by, now=now)
