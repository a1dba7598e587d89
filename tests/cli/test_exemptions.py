"""``teamsretention exemptions``: what an admin and the DPO see, what the store and the audit trail keep, and
what is refused (exit 2, the option named, nothing written). Graph is the in-memory fake."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from teamsretention import bootstrap
from teamsretention.cli import app
from teamsretention.store import Database, assignments, audit, exemptions

from ..fakes import FakeGateway


@pytest.fixture
def gw(monkeypatch):
    fake = FakeGateway()
    for uid in ("alice", "dpo", "carol", "bob"):
        fake.add_user(uid)
    fake.add_recording("alice", "r1", dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC))
    monkeypatch.setattr(bootstrap, "connect_gateway", lambda settings: fake)
    return fake


@pytest.fixture
def env(tmp_path):
    Database(f"sqlite:///{tmp_path}/teamsretention.db").dispose()  # the daemon's store: admin commands never create one
    return {"TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path),
            "TEAMSRETENTION_APPROVERS__DPO": '["dpo@contoso.example"]',
            "TEAMSRETENTION_APPROVERS__IT_ADMINS": '["carol@contoso.example"]'}


def invoke(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(app, ["exemptions", *args], env=env, catch_exceptions=False)


def stored(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/teamsretention.db")
    try:
        return exemptions.list_all(db), audit.entries(db)
    finally:
        db.dispose()


HOLD = ["request", "--kind", "legal_hold", "--review", "2099-01-01", "--reason", "Dispute with Falcon AB",
        "--legal-basis", "Litigation hold, case 17"]


def test_request_then_approve_is_recorded_with_actor_and_source(gw, env, tmp_path):
    result = invoke([*HOLD, "--organizer", "alice@contoso.example", "--actor", "carol@contoso.example"], env)
    assert result.exit_code == 0, result.output
    assert "Requested EX-1: legal_hold for organizer alice, pending" in result.output
    result = invoke(["approve", "EX-1", "--actor", "dpo@contoso.example", "--note", "Until the case closes"], env)
    assert result.exit_code == 0 and "EX-1 is now approved" in result.output
    [e], trail = stored(tmp_path)
    assert (e.status.value, e.decided_by, e.decision_note, e.requested_by_id) == (
        "approved", "dpo@contoso.example", "Until the case closes", "carol")
    events = [(a.kind.value, a.actor, a.detail["source"]) for a in trail]
    assert events == [("exemption_requested", "carol@contoso.example", "cli"),
                      ("exemption_approved", "dpo@contoso.example", "cli")]
    result = invoke(["revoke", "EX-1", "--actor", "carol@contoso.example"], env)  # her own request
    assert result.exit_code == 2 and "made the request" in result.output
    result = invoke(["revoke", "EX-1", "--actor", "dpo@contoso.example"], env)
    assert result.exit_code == 0 and "now revoked" in result.output
    assert stored(tmp_path)[1][-1].kind.value == "exemption_revoked"


def test_self_approval_is_refused(gw, env, tmp_path):
    invoke([*HOLD, "--recording", gw.web_url("drive-alice", "r1"), "--actor", "carol@contoso.example"], env)
    result = invoke(["approve", "EX-1", "--actor", "carol@contoso.example"], env)
    assert result.exit_code == 2
    assert "refused: carol@contoso.example made the request" in result.output and "unchanged" in result.output
    [e], trail = stored(tmp_path)
    assert e.status.value == "pending" and [a.kind.value for a in trail] == ["exemption_requested"]


def test_a_non_approver_and_an_approver_on_their_own_recordings_are_refused(gw, env, tmp_path):
    invoke([*HOLD, "--organizer", "dpo", "--actor", "alice@contoso.example"], env)
    result = invoke(["approve", "EX-1", "--actor", "bob@contoso.example"], env)
    assert result.exit_code == 2 and "neither the DPO nor an IT administrator" in result.output
    result = invoke(["approve", "EX-1", "--actor", "dpo@contoso.example"], env)
    assert result.exit_code == 2 and "organised the recordings it covers" in result.output
    assert stored(tmp_path)[0][0].status.value == "pending"
    result = invoke(["approve", "EX-1", "--actor", "carol@contoso.example"], env)
    assert result.exit_code == 0


def test_reject_needs_a_note_and_a_decided_request_cannot_be_decided_again(gw, env, tmp_path):
    invoke([*HOLD, "--organizer", "alice", "--actor", "alice@contoso.example"], env)
    result = invoke(["reject", "EX-1", "--actor", "dpo@contoso.example"], env)
    assert result.exit_code == 2 and "--note" in result.output
    assert invoke(["reject", "EX-1", "--actor", "dpo@contoso.example", "--note", "No basis"], env).exit_code == 0
    result = invoke(["approve", "EX-1", "--actor", "dpo@contoso.example"], env)
    assert result.exit_code == 2 and "exemption EX-1 is rejected: only a pending one can be approved" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "legal_hold", "--review", "1 June", "--organizer", "alice"], "--review: '1 June' is not a date"),
    (["--kind", "exception", "--organizer", "alice"], "--until: an exception needs an end date"),
    (["--kind", "legal_hold", "--organizer", "alice"], "--review: a legal hold needs a review date"),
    (["--kind", "exception", "--until", "2020-01-01", "--organizer", "alice"], "--until: 2020-01-01 is not after"),
    (["--kind", "forever", "--organizer", "alice"], "--kind: 'forever' is not one of"),
    (["--kind", "legal_hold", "--review", "2099-01-01", "--recording", "https://fake/drive-alice/nothing"],
     "--recording: 'https://fake/drive-alice/nothing' is no recording"),
    (["--kind", "legal_hold", "--review", "2099-01-01", "--assignment", "NOPE-1"],
     "--assignment: 'NOPE-1' is no known assignment code"),
    (["--kind", "legal_hold", "--review", "2099-01-01", "--organizer", "nobody@contoso.example"],
     "--organizer: 'nobody@contoso.example' is no user in Entra"),
    (["--kind", "legal_hold", "--review", "2099-01-01"], "give exactly one of --recording"),
])
def test_bad_input_names_the_option_exits_2_and_writes_nothing(gw, env, tmp_path, args, message):
    result = invoke(["request", *args, "--reason", "Dispute", "--legal-basis", "Contract §4",
                     "--actor", "carol@contoso.example"], env)
    assert result.exit_code == 2 and message in result.output, result.output
    assert stored(tmp_path) == ([], [])


@pytest.mark.parametrize(("missing", "message"), [("--reason", "--reason: a reason is required"),
                                                  ("--legal-basis", "--legal-basis: the legal basis is required")])
def test_a_missing_reason_or_legal_basis_is_refused(gw, env, tmp_path, missing, message):
    args = [*HOLD, "--organizer", "alice", "--actor", "carol@contoso.example"]
    args[args.index(missing) + 1] = "  "
    result = invoke(args, env)
    assert result.exit_code == 2 and message in result.output
    assert stored(tmp_path) == ([], [])


def test_an_unknown_actor_is_refused(gw, env, tmp_path):
    result = invoke([*HOLD, "--organizer", "alice", "--actor", "mallory@evil.example"], env)
    assert result.exit_code == 2 and "--actor: 'mallory@evil.example' is no user in Entra" in result.output
    assert stored(tmp_path) == ([], [])


def test_list_and_show_print_what_the_store_holds(gw, env, tmp_path):
    db = Database(f"sqlite:///{tmp_path}/teamsretention.db")
    assignments.create(db, assignments.Fields("ACME-1", "Acme", "", dt.date(2026, 1, 1)),
                       assignments.Acting("it", "cli", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.date(2026, 1, 1)))
    db.dispose()
    assert "No exemptions in the store." in invoke(["list"], env).output
    invoke(["request", "--kind", "exception", "--until", "2099-01-01", "--assignment", "ACME-1", "--reason",
            "Audit", "--legal-basis", "Bookkeeping Act", "--actor", "alice@contoso.example"], env)
    listed = invoke(["list"], env).output
    assert "EX-1" in listed and "assignment ACME-1" in listed and "until 2099-01-01" in listed
    [row] = json.loads(invoke(["list", "--json", "--status", "pending"], env).output)
    assert row["id"] == "EX-1" and row["legal_basis"] == "Bookkeeping Act" and row["source"] == "cli"
    assert json.loads(invoke(["show", "EX-1", "--json"], env).output)["requested_by"] == "alice@contoso.example"
    assert "legal basis: Bookkeeping Act" in invoke(["show", "EX-1"], env).output
    result = invoke(["show", "EX-9"], env)
    assert result.exit_code == 2 and "'EX-9': no such exemption" in result.output
    result = invoke(["list", "--status", "maybe"], env)
    assert result.exit_code == 2 and "--status: 'maybe'" in result.output
