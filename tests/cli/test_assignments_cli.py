"""``teamsretention assignments ...``, ``tag`` and ``untag`` as an admin uses them: messages, exit codes, the
audit trail, and nothing changed by bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import json

import pytest
from typer.testing import CliRunner

from teamsretention import bootstrap
from teamsretention.cli import app
from teamsretention.domain import RecordingRef
from teamsretention.store import Database, assignments, audit, recordings
from teamsretention.store.recordings import StoredRecording
from teamsretention.workflows import assignments as workflow

from ..fakes import FakeGateway

ADMIN = "admin@contoso.example"


def invoke(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(app, args, env=env, catch_exceptions=False)


@pytest.fixture
def env(tmp_path):
    return {"TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path)}


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/teamsretention.db")
    yield database
    database.dispose()


def trail(db: Database) -> list[tuple[str, str, str | None]]:
    return [(a.kind.value, a.actor, a.detail.get("source")) for a in audit.entries(db)]


def a_recording(db: Database, item: str = "r1") -> StoredRecording:
    now = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    rec = StoredRecording(0, "drive-alice", item, "Kickoff-20261101_100000-Meeting Recording.mp4", now, now.date(),
                          now, now, organizer_id="alice")
    recordings.save(db, new=[rec])
    return next(r for r in recordings.list_all(db) if r.item_id == item)


def test_add_close_reopen_list_and_show_are_audited_with_actor_and_source(env, db):
    r = invoke(["assignments", "add", "ACME-0042", "--title", "Kickoff", "--client", "ACME", "--opened",
                "2026-10-01", "--actor", ADMIN], env)
    assert r.exit_code == 0, r.output
    assert "Assignment ACME-0042 (Kickoff) added to sqlite:///" in r.output and "active since 2026-10-01" in r.output
    r = invoke(["assignments", "close", "ACME-0042", "--on", "2026-11-02", "--actor", ADMIN], env)
    assert r.exit_code == 0 and "closed on 2026-11-02" in r.output and "warned before anything is deleted" in r.output
    r = invoke(["assignments", "close", "ACME-0042", "--actor", ADMIN], env)
    assert r.exit_code == 0 and "already closed on 2026-11-02; nothing changed" in r.output
    assert invoke(["assignments", "reopen", "ACME-0042"], env).exit_code == 0  # --actor defaults to the OS user
    listed = json.loads(invoke(["assignments", "list", "--json"], env).output)
    assert listed == [{"code": "ACME-0042", "title": "Kickoff", "client": "ACME", "status": "active",
                       "opened_on": "2026-10-01", "closed_on": None, "source": "cli", "list_item_id": None,
                       "created_by": ADMIN, "tagged": 0}]
    shown = invoke(["assignments", "show", "ACME-0042"], env).output
    assert "Assignment ACME-0042: Kickoff for ACME" in shown and "created by admin@contoso.example" in shown
    assert trail(db) == [("assignment_recorded", ADMIN, "cli"), ("assignment_closed", ADMIN, "cli"),
                         ("assignment_reopened", getpass.getuser(), "cli")]


def test_bad_input_names_the_field_exits_2_and_changes_nothing(env, db):
    r = invoke(["assignments", "add", "ACME-1", "--title", "X", "--opened", "2026-02-30"], env)
    assert r.exit_code == 2 and "--opened: '2026-02-30' is not a date (YYYY-MM-DD)" in r.output
    r = invoke(["assignments", "close", "NOPE-1"], env)
    assert r.exit_code == 2 and "CODE: no assignment 'NOPE-1' in the store" in r.output
    assert "Traceback" not in r.output
    assert assignments.list_all(db) == [] and audit.entries(db) == []


def test_csv_import_is_all_or_nothing_and_names_line_column_and_value(env, db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("code,title,client,status,opened_on,closed_on\n"
                   "ACME-1,First,ACME,active,2026-01-01,\n"
                   "ACME-2,Second,ACME,active,2026-13-01,\n"
                   "ACME-3,Third,ACME,finished,2026-01-01,\n", encoding="utf-8")
    r = invoke(["assignments", "import", str(bad), "--actor", ADMIN], env)
    assert r.exit_code == 2
    assert f"{bad} line 3, column opened_on: '2026-13-01' is not a date (YYYY-MM-DD)" in r.output
    assert f"{bad} line 4, column status: 'finished' is not active or closed" in r.output
    assert "nothing was imported" in r.output
    assert assignments.list_all(db) == [] and audit.entries(db) == []
    good = tmp_path / "good.csv"
    good.write_text("code;title;client;status;opened_on;closed_on\n"
                    "ACME-1;First;ACME;active;2026-01-01;\n"
                    "ACME-2;Second;;closed;2026-01-01;2026-06-30\n", encoding="utf-8")
    r = invoke(["assignments", "import", str(good), "--actor", ADMIN], env)
    assert r.exit_code == 0 and "2 assignment(s) created or changed" in r.output
    assert [(a.code, a.status.value, a.closed_on, a.source) for a in assignments.list_all(db)] == [
        ("ACME-1", "active", None, "csv"), ("ACME-2", "closed", dt.date(2026, 6, 30), "csv")]
    assert trail(db) == [("assignment_recorded", ADMIN, "csv"), ("assignment_recorded", ADMIN, "csv"),
                         ("assignment_closed", ADMIN, "csv")]
    again = invoke(["assignments", "import", str(good), "--actor", ADMIN], env)
    assert again.exit_code == 0 and "already held every row" in again.output


def test_the_list_owns_its_assignments_but_cli_ones_stay_editable(env, db):
    at = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    acting = assignments.Acting("Anna Admin 0a1b", "list", at, at.date())
    assignments.put(db, [(assignments.Fields("LIST-1", "From the list", None, dt.date(2026, 1, 1),
                                             list_item_id="7"), acting)])
    listed = {**env, "TEAMSRETENTION_LISTS__SITE": "https://contoso.sharepoint.com/sites/records"}
    r = invoke(["assignments", "close", "LIST-1", "--actor", ADMIN], listed)
    assert r.exit_code == 2
    assert ("assignment LIST-1 is owned by item 7 of the Assignments list in "
            "https://contoso.sharepoint.com/sites/records: the list is the source of truth, edit it there") in r.output
    assert assignments.get(db, "LIST-1").status.value == "active"
    assert invoke(["assignments", "add", "CLI-1", "--title", "Mine", "--actor", ADMIN], listed).exit_code == 0
    assert invoke(["assignments", "close", "CLI-1", "--actor", ADMIN], listed).exit_code == 0


def test_tag_and_untag_by_id_are_audited_and_refuse_unknown_or_closed_codes(env, db):
    rec = a_recording(db)
    assert invoke(["assignments", "add", "ACME-1", "--title", "One", "--actor", ADMIN], env).exit_code == 0
    r = invoke(["tag", str(rec.id), "--assignment", "ACME-1", "--actor", ADMIN], env)
    assert r.exit_code == 0 and f"(recording {rec.id}) tagged to ACME-1" in r.output
    r = invoke(["tag", str(rec.id), "--assignment", "NOPE-9", "--actor", ADMIN], env)
    assert r.exit_code == 2 and "--assignment: no assignment 'NOPE-9' in the store" in r.output
    r = invoke(["tag", "999", "--assignment", "ACME-1", "--actor", ADMIN], env)
    assert r.exit_code == 2 and "RECORDING: no recording with id 999 in the store" in r.output
    r = invoke(["untag", str(rec.id), "--assignment", "ACME-1", "--actor", ADMIN], env)
    assert r.exit_code == 0 and "untagged from ACME-1" in r.output
    invoke(["assignments", "close", "ACME-1", "--actor", ADMIN], env)
    r = invoke(["tag", str(rec.id), "--assignment", "ACME-1", "--actor", ADMIN], env)
    assert r.exit_code == 2 and "a tag to it would keep nothing (reopen it first)" in r.output
    kinds = [(k, actor, source) for k, actor, source in trail(db) if k in ("tagged", "untagged")]
    assert kinds == [("tagged", ADMIN, "cli"), ("untagged", ADMIN, "cli")]
    [tagged] = audit.entries(db, kind=audit.AuditKind.TAGGED)
    assert tagged.recording_key == RecordingRef("drive-alice", "r1").key


def test_tag_by_web_url_resolves_through_shares_and_an_unknown_url_is_an_error(env, db, monkeypatch):
    rec = a_recording(db)
    fake = FakeGateway()
    fake.add_user("alice")
    fake.add_recording("alice", "r1", dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC))
    monkeypatch.setattr(bootstrap, "connect_gateway", lambda settings: fake)
    invoke(["assignments", "add", "ACME-1", "--title", "One", "--actor", ADMIN], env)
    r = invoke(["tag", fake.web_url("drive-alice", "r1"), "--assignment", "ACME-1", "--actor", ADMIN], env)
    assert r.exit_code == 0 and f"(recording {rec.id}) tagged to ACME-1" in r.output
    unknown = "https://fake/drive-alice/nothing-here"
    r = invoke(["tag", unknown, "--assignment", "ACME-1", "--actor", ADMIN], env)
    assert r.exit_code == 2 and f"RECORDING {unknown}: Graph's shares API finds no item behind this link" in r.output
    assert len(assignments.tags_of(db, rec.ref)) == 1


def test_workflow_find_recording_refuses_a_link_to_something_not_tracked(db):
    fake = FakeGateway()
    fake.add_user("alice")
    fake.add_recording("alice", "other", dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC))
    admin = workflow.Admin(db, ADMIN, dt.datetime(2026, 11, 2, tzinfo=dt.UTC), dt.date(2026, 11, 2))
    with pytest.raises(Exception, match="no recording teamsretention tracks"):
        asyncio.run(workflow.find_recording(admin, fake.web_url("drive-alice", "other"), fake))
