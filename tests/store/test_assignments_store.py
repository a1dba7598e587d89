"""The assignments store: the 0003 migration keeps old rows' meaning; batches are all or nothing."""

from __future__ import annotations

import datetime as dt
import os
from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from teamsretention.domain import RecordingRef
from teamsretention.errors import ConfigError
from teamsretention.store import Database, assignments, audit, governance

AT = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
ACTING = assignments.Acting("admin@contoso.example", "cli", AT, AT.date())


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", os.fspath(Path(str(resources.files("teamsretention.store") / "migrations"))))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def test_rows_from_before_0003_migrate_as_cli_assignments_and_tags(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg = _config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(text("INSERT INTO assignments (id, name, status, opened_on, created_by) "
                          "VALUES ('OLD-1', 'Old', 'active', '2026-01-01', 'it')"))
        conn.execute(text("INSERT INTO assignment_tags (assignment_id, drive_id, item_id, tagged_on, tagged_by) "
                          "VALUES ('OLD-1', 'd', 'i', '2026-02-01', 'it')"))
    engine.dispose()
    db = Database(url)
    try:
        old = assignments.get(db, "OLD-1")
        assert old is not None and (old.source, old.list_item_id, old.list_owned) == ("cli", None, False)
        [t] = assignments.tags_of(db, RecordingRef("d", "i"))
        assert (t.source, t.active, t.untagged_by) == ("cli", True, None)
        [(ref, fact)] = governance.load(db).tags
        assert ref.key == "d/i" and fact.active and fact.closed_on is None
    finally:
        db.dispose()


def test_a_batch_with_one_bad_change_writes_nothing(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/s.db")
    try:
        assignments.create(db, assignments.Fields("A-1", "One", None, dt.date(2026, 1, 1)), ACTING)
        before = audit.entries(db)
        requests = [assignments.TagRequest("A-1", RecordingRef("d", "1"), ACTING),
                    assignments.TagRequest("NOPE", RecordingRef("d", "2"), ACTING)]
        with pytest.raises(ConfigError, match="NOPE: no such assignment"):
            assignments.tag_many(db, requests, tagged_on=AT.date())
        assert assignments.all_tags(db) == [] and audit.entries(db) == before
    finally:
        db.dispose()


def test_a_closed_assignment_without_its_date_keeps_nothing(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/s.db")
    try:
        assignments.create(db, assignments.Fields("A-1", "One", None, dt.date(2026, 1, 1)), ACTING)
        assignments.tag(db, "A-1", RecordingRef("d", "1"), tagged_on=dt.date(2026, 2, 1), actor="it", at=AT,
                        day=AT.date())
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE assignments SET status = 'closed', closed_on = NULL"))
        [(_, fact)] = governance.load(db).tags
        assert not fact.active and fact.closed_on == dt.date(2026, 1, 1)
    finally:
        db.dispose()
