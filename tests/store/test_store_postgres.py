"""The same store and cycle on PostgreSQL (for shared or highly available deployments)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from teamsretention.store import Database, audit, control

from ..cycle.test_cycle import DAY0, World, at, created
from .test_evidence import assert_parts_are_their_digested_text


@pytest.mark.postgres
def test_full_timeline_on_postgresql(tmp_path, postgres_url):
    w = World(tmp_path, url=postgres_url)
    w.gw.add_user("alice")
    w.gw.add_recording("alice", "r1", created(-20))
    try:
        w.days(0, 11)
        assert [(a.cycle_date - DAY0).days for a in w.audit("warned", "r1")] == [3, 9]
        assert w.deleted_ids() == ["r1"]
        assert w.audit("deleted", "r1")[0].cycle_date == DAY0 + dt.timedelta(days=10)
        assert_parts_are_their_digested_text(w.db)
    finally:
        w.db.dispose()


@pytest.mark.postgres
def test_audit_is_append_only_on_postgresql(postgres_url):
    db = Database(postgres_url)
    try:
        control.set_paused(db, True, reason="legal review", by="dpo@contoso.example", now=at(0))
        for statement in ("UPDATE audit SET actor = 'rewritten'", "DELETE FROM audit"):
            with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
                s.execute(text(statement))
        assert [a.reason for a in audit.entries(db)] == ["legal review"]
    finally:
        db.dispose()


@pytest.mark.postgres
def test_cycle_lock_is_shared_between_processes_on_postgresql(postgres_url):
    first, second = Database(postgres_url), Database(postgres_url)
    ttl = dt.timedelta(minutes=30)
    assert control.acquire_lock(first, "host-a", at(0), ttl)
    assert not control.acquire_lock(second, "host-b", at(0), ttl)
    assert control.acquire_lock(second, "host-b", at(0) + dt.timedelta(hours=1), ttl)  # host-a's lock expired
    first.dispose()
    second.dispose()


@pytest.mark.postgres
def test_a_command_that_never_creates_a_store_refuses_an_unmigrated_database(postgres_url):
    from teamsretention.errors import StoreNotFound

    with pytest.raises(StoreNotFound) as refused:
        Database(postgres_url, create=False, origin="database.url from environment variable X")
    message = str(refused.value)
    assert "holds no teamsretention tables" in message and "database.url from environment variable X" in message
    assert "first `teamsretention plan`" in message
    Database(postgres_url).dispose()  # a cycle creates it
    Database(postgres_url, create=False).dispose()  # from then on every command finds it
