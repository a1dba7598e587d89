"""A store already at the newest migration is opened without Alembic (it is about 10 MiB of a process that only
opens a current store: the daemon after its first start, every command); one behind is still migrated."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from teamsretention.store import Database
from teamsretention.store.database import SCHEMA_HEAD
from teamsretention.store.inspection import inspect_store

OPEN_AND_REPORT = """
import sys
from teamsretention.store import Database
db = Database(sys.argv[1])
print("alembic loaded" if "alembic" in sys.modules else "alembic not loaded")
db.dispose()
"""


def _scripts_head() -> str | None:
    return ScriptDirectory(str(Path(str(resources.files("teamsretention.store") / "migrations")))).get_current_head()


def test_the_schema_head_constant_is_the_newest_migration():
    assert _scripts_head() == SCHEMA_HEAD, "a migration was added: set store.database.SCHEMA_HEAD to its revision"


def _open_in_a_new_process(url: str) -> str:
    done = subprocess.run([sys.executable, "-c", OPEN_AND_REPORT, url], capture_output=True, text=True, timeout=120,
                          check=True)
    return done.stdout.strip()


def test_a_current_store_is_opened_without_alembic_and_an_older_one_is_migrated(tmp_path):
    url = f"sqlite:///{tmp_path}/state.db"
    assert _open_in_a_new_process(url) == "alembic loaded"  # a new store: created by the migrations
    assert _open_in_a_new_process(url) == "alembic not loaded"  # at the head: nothing to do
    config = Config()  # as a store written by the previous release would be
    config.set_main_option("script_location", str(Path(str(resources.files("teamsretention.store") / "migrations"))))
    config.set_main_option("sqlalchemy.url", url)
    command.downgrade(config, "0006")
    assert inspect_store(url).revision == "0006" and not inspect_store(url).current
    assert _open_in_a_new_process(url) == "alembic loaded"
    status = inspect_store(url)
    assert status.current and status.revision == SCHEMA_HEAD
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'ix_recordings_review'")).scalar()
    engine.dispose()
    Database(url).dispose()  # and in this process too
