"""Migration 0008 names every governance list item by its list: the items, exemptions and assignments of a store
written before it keep what they were, now of the list the store last read, on SQLite and on PostgreSQL; where
the store kept no list id, the next list read gets them, and a list read later with another id owns none."""

from __future__ import annotations

import datetime as dt
import json
import os
from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from teamsretention.domain import ExemptionStatus
from teamsretention.store import Database, exemptions
from teamsretention.store import assignments as assignment_store

AT = dt.datetime(2026, 3, 5, 5, tzinfo=dt.UTC)


def _config(conn) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", os.fspath(Path(str(resources.files("teamsretention.store") / "migrations"))))
    cfg.attributes["connection"] = conn
    return cfg


def _old_store(url: str, *, known_lists: bool, links: bool = False) -> None:
    """A store at 0007 with a list-made exemption, its item, and a list-owned assignment."""
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0007")
        conn.execute(text(
            "INSERT INTO exemptions (id, kind, status, target_kind, target_id, requested_on, requested_by, reason, "
            "legal_basis, source, list_item_id) VALUES ('EX-1', 'exception', 'approved', 'recording', "
            "'drive-alice/r1', '2026-03-01', 'Alice alice', 'Dispute', 'Act', 'list', '1')"))
        conn.execute(text("INSERT INTO request_items (item_id, exemption_id, status_seen, version_seen) "
                          "VALUES ('1', 'EX-1', 'Approved', '2.0')"))
        conn.execute(text("INSERT INTO assignments (id, name, status, opened_on, created_by, source, list_item_id) "
                          "VALUES ('ACME-1', 'Acme', 'active', '2026-02-01', 'carol', 'list', '1')"))
        if known_lists:
            conn.execute(text("INSERT INTO sync_state (key, value) VALUES ('requests_list', :r), "
                              "('list:assignments', :a)"),
                         {"r": json.dumps({"site": "s", "name": "Retention requests", "site_id": "site-1",
                                           "list_id": "list-old-r"}),
                          "a": json.dumps({"site": "s", "list": "Assignments", "list_id": "list-old-a"})})
        elif links:  # the list could not be found last time: its state was cleared, its last delta link kept
            link = "https://graph.microsoft.com/v1.0/sites/site-1/lists/{}/items/delta?token=abc"
            conn.execute(text("INSERT INTO sync_state (key, value) VALUES ('requests_list_delta', :r), "
                              "('list:assignments', :a)"),
                         {"r": link.format("list-old-r"),
                          "a": json.dumps({"site": "s", "list": "Assignments", "site_id": None, "list_id": None,
                                           "delta": link.format("list-old-a")})})
    engine.dispose()


def _check(url: str) -> None:
    _old_store(url, known_lists=True)
    db = Database(url)  # migrates to the head
    try:
        item = exemptions.request_item(db, "list-old-r", "1")
        assert item is not None and (item.exemption_id, item.status_seen, item.version_seen) == ("EX-1", "Approved",
                                                                                                  "2.0")
        assert exemptions.request_item(db, "list-new", "1") is None  # a new list's item 1 is another item
        [e] = exemptions.list_all(db)
        assert (e.status, e.list_id, e.list_item_id) == (ExemptionStatus.APPROVED, "list-old-r", "1")
        [a] = assignment_store.list_all(db)
        assert (a.list_id, a.list_item_id) == ("list-old-a", "1")
        # a new list's item 1 owning another assignment is no clash with the earlier list's item 1
        assignment_store.put(db, [(assignment_store.Fields("BETA-2", "Beta", None, dt.date(2026, 3, 1), None, "1",
                                                           "list-new"),
                                   assignment_store.Acting("carol", "list", AT, AT.date()))])
        assert {(a.code, a.list_id) for a in assignment_store.list_all(db)} == {("ACME-1", "list-old-a"),
                                                                                ("BETA-2", "list-new")}
        etag = '"{86EB4C8E-D20D-46B9-AD41-23B8868DDA8A},12"'  # a list item's eTag as Graph sends it: 42 characters
        exemptions.note_item(db, exemptions.ItemMark("list-new", "7", version_seen=etag), [])
        assert exemptions.request_item(db, "list-new", "7").version_seen == etag
        assert exemptions.items_of_other_lists(db, "list-new") == 1  # the earlier list's one item, left as it was
        assert exemptions.request_item(db, "list-old-r", "1") is not None
    finally:
        db.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:  # and back: a store with one list's items goes down to 0007 whole
        conn.execute(text("DELETE FROM assignments WHERE id = 'BETA-2'"))
        conn.execute(text("DELETE FROM request_items WHERE item_id = '7'"))
        command.downgrade(_config(conn), "0007")
        assert conn.execute(text("SELECT item_id, exemption_id FROM request_items")).all() == [("1", "EX-1")]
    engine.dispose()


def test_list_items_of_an_older_store_are_named_by_the_list_it_read_on_sqlite(tmp_path):
    _check(f"sqlite:///{tmp_path}/old.db")


@pytest.mark.postgres
def test_list_items_of_an_older_store_are_named_by_the_list_it_read_on_postgresql(postgres_url):
    _check(postgres_url)


def test_where_the_state_was_cleared_the_last_delta_link_names_the_list(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    _old_store(url, known_lists=False, links=True)
    db = Database(url)
    try:
        assert exemptions.request_item(db, "list-old-r", "1") is not None
        [e] = exemptions.list_all(db)
        [a] = assignment_store.list_all(db)
        assert (e.list_id, a.list_id) == ("list-old-r", "list-old-a")
    finally:
        db.dispose()


def test_where_nothing_names_the_list_the_items_belong_to_no_list_until_one_is_shown_to_be_theirs(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    _old_store(url, known_lists=False)
    db = Database(url)
    try:
        assert exemptions.request_item(db, "", "1") is not None  # of a list not known
        assert exemptions.items_of_other_lists(db, "list-r") == 1
        assert assignment_store.owned_by_other_lists(db, "list-a") == 1
        exemptions.adopt_item(db, "list-r", "1")  # the cycle found it to be the same item
        assert exemptions.request_item(db, "list-r", "1") is not None
        [e] = exemptions.list_all(db)
        assert e.list_id == "list-r" and exemptions.items_of_other_lists(db, "list-r") == 0
    finally:
        db.dispose()
