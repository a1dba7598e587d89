"""A store made before exemptions had a legal basis and a source keeps its exemptions through the upgrade."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from teamsretention.domain import ExemptionStatus
from teamsretention.store import Database, exemptions


def test_an_exemption_of_an_older_store_reads_as_a_cli_one_after_the_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", os.fspath(Path(str(resources.files("teamsretention.store") / "migrations"))))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(sa.text("INSERT INTO exemptions (id, kind, status, target_kind, target_id, requested_on, "
                             "requested_by, reason) VALUES ('EX-1', 'legal_hold', 'approved', 'organizer', 'alice', "
                             "'2026-01-05', 'dpo', 'Litigation')"))
    engine.dispose()
    db = Database(url)
    try:
        [e] = exemptions.list_all(db)
        assert (e.status, e.source, e.legal_basis, e.list_item_id) == (ExemptionStatus.APPROVED, "cli", "", None)
    finally:
        db.dispose()
