"""Migration 0004 moves the personal part of every existing audit entry aside and commits to it with a
digest, on SQLite and on PostgreSQL; the trail reads as before and still refuses to be rewritten."""

from __future__ import annotations

import datetime as dt
import os
from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from teamsretention.store import Database, audit
from teamsretention.store.audit import AuditKind

OLD_ROWS = [
    ("2026-03-05 05:00:00+00:00", "2026-03-05", "warned", "drive-alice/r1", "Acme board-Meeting Recording.mp4", "alice",
     "base_due", "2026-03-12", "Organizer warned: deletion on 2026-03-12.", '{"recipient": "alice@contoso.example"}'),
    ("2026-03-06 05:00:00+00:00", "2026-03-06", "paused", None, None, None, None, None, "legal review", "{}"),
]


def _migrate_to(url: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", os.fspath(Path(str(resources.files("teamsretention.store") / "migrations"))))
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def _check_migrated_trail(url: str) -> None:
    _migrate_to(url, "0002")
    engine = create_engine(url)
    with engine.begin() as conn:
        for row in OLD_ROWS:
            conn.execute(text("INSERT INTO audit (at, cycle_date, actor, event, recording_key, recording_name, "
                              "organizer_id, rule, due, reason, detail) VALUES (:at, :day, 'teamsretention', :event, "
                              ":key, :name, :org, :rule, :due, :reason, :detail)"),
                         dict(zip(("at", "day", "event", "key", "name", "org", "rule", "due", "reason", "detail"), row, strict=True)))
    engine.dispose()
    db = Database(url)  # migrates to the newest revision
    try:
        warned, paused = audit.entries(db)
        assert (warned.kind, warned.recording_key, warned.recording_name, warned.organizer_id, warned.rule) == \
            (AuditKind.WARNED, "drive-alice/r1", "Acme board-Meeting Recording.mp4", "alice", "base_due")
        assert warned.due == dt.date(2026, 3, 12) and warned.detail == {"recipient": "alice@contoso.example"}
        assert (paused.kind, paused.reason, paused.recording_key) == (AuditKind.PAUSED, "legal review", None)
        assert [e.id for e in audit.entries(db, recording_key="drive-alice/r1")] == [warned.id]
        check = audit.verify_personal(db)
        assert check.ok and check.checked == 2
        assert all(e.personal_digest.startswith("sha256:") for e in (warned, paused))
        for statement in ("UPDATE audit SET actor = 'rewritten'", "DELETE FROM audit",
                          "UPDATE audit_personal SET salt = '00'"):
            with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
                s.execute(text(statement))
    finally:
        db.dispose()


def test_existing_audit_entries_are_migrated_on_sqlite(tmp_path):
    _check_migrated_trail(f"sqlite:///{tmp_path}/state.db")


@pytest.mark.postgres
def test_existing_audit_entries_are_migrated_on_postgresql(postgres_url):
    _check_migrated_trail(postgres_url)
