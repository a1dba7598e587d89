"""``teamsretention check`` as an admin runs it before the first cycle, against the simulator on loopback: every
line ✓ with the full permissions; a removed permission named with its fix; an unusable store or state directory
named by its path; ``--json``; and no store created, nothing written to the tenant."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamsretention.cli import app
from teamsretention.simulator.scenario import load_scenario
from teamsretention.simulator.server import serve

SITE = "https://contoso.sharepoint.com/sites/records"
SCENARIO = """
[tenant]
domain = "contoso.example"
seed = 5

[[users]]
key = "anna"
display_name = "Anna Berg"

[[users]]
key = "dpo"
display_name = "Data Protection"

[[teams]]
key = "sales"
display_name = "Sales"
members = ["anna"]
owners = ["anna"]
channels = [{ name = "General" }]

[[recordings]]
key = "r1"
organizer = "anna"
subject = "Weekly sync"
age_days = 3

[records_site]
path = "/sites/records"
display_name = "Records"
"""
SENDER = "dpo@contoso.example"
WRITES = {"POST", "PATCH", "PUT", "DELETE"}


@pytest.fixture
def sim():
    with serve(load_scenario(SCENARIO, epoch=dt.datetime.now(dt.UTC).replace(microsecond=0))) as running:
        yield running


def env_for(sim, state: Path, **extra: str) -> dict[str, str]:
    env = {"TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT": sim.base_url, "TEAMSRETENTION_GRAPH__AUTH": "none",
           "TEAMSRETENTION_STATE__DIRECTORY": str(state), "TEAMSRETENTION_POLICY__ENFORCE": "true",
           "TEAMSRETENTION_NOTIFICATIONS__SENDER": SENDER, "TEAMSRETENTION_SCHEDULE__TIMEZONE": "Europe/Stockholm",
           "TEAMSRETENTION_SCHEDULE__CRON": "0 6 * * 1-5"}
    env.update(extra)
    return env


def invoke(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(app, args, env=env, catch_exceptions=False)


def provision_lists(sim, tmp_path: Path) -> None:
    assert invoke(["provision"], env_for(sim, tmp_path / "state", TEAMSRETENTION_LISTS__SITE=SITE)).exit_code == 0


def writes(sim) -> list[str]:
    """Every write Graph was asked for. A JSON batch's POST is an envelope: the simulator logs each request inside
    it with its own method, so a write inside a batch is listed, and a batch of reads writes nothing."""
    return [f"{r['method']} {r['path']}" for r in sim.model.requests.recent
            if r["method"] in WRITES and r["path"].rstrip("/").rsplit("/", 1)[-1] != "$batch"]


def test_full_permissions_every_line_holds_and_nothing_is_written_or_created(sim, tmp_path):
    provision_lists(sim, tmp_path)
    sim.model.requests.reset()

    result = invoke(["check"], env_for(sim, tmp_path / "state", TEAMSRETENTION_LISTS__SITE=SITE))

    assert result.exit_code == 0, result.output
    assert "✗" not in result.output
    for line in ("✓ User.Read.All", "✓ Files.ReadWrite.All", "✓ Mail.Send", "✓ Sites.Selected",
                 "✓ listed users", "✓ read the OneDrive of anna@contoso.example",
                 "✓ read the channel site of team Sales", "✓ read the retention label of",
                 "✓ read list 'Assignments' with its 5 columns", "✓ read list 'Retention requests'",
                 f"✓ notifications.sender {SENDER} exists and has a mailbox",
                 "not created yet; the first plan or run creates it",
                 "schedule.timezone Europe/Stockholm and schedule.cron '0 6 * * 1-5' are valid"):
        assert line in result.output, line
    assert "Mail.Send in the token is tenant-wide" in result.output and "New-ManagementScope" in result.output
    assert "Everything required holds" in result.output
    assert writes(sim) == []
    assert sim.model.mail_log == []
    assert not (tmp_path / "state").exists()


def test_without_mail_send_the_line_names_it_and_the_exchange_rbac_commands_and_exits_1(sim, tmp_path):
    sim.model.knobs.app_roles = [r for r in sim.model.knobs.app_roles if r != "Mail.Send"]

    result = invoke(["check"], env_for(sim, tmp_path / "state"))

    assert result.exit_code == 1
    assert "✗ Mail.Send missing: mail: send digests from notifications.sender dpo@contoso.example" in result.output
    assert "Application permissions -> Mail.Send, then Grant admin consent" in result.output
    assert "--send-test-mail ADDRESS" in result.output
    for command in ("New-ServicePrincipal", "New-ManagementScope", 'New-ManagementRoleAssignment -App <client-id> '
                    '-Role "Application Mail.Send"'):
        assert command in result.output
    assert "1 check(s) failed" in result.output
    assert writes(sim) == []


def test_a_test_mail_is_the_one_write_and_proves_mail_send_granted_through_exchange(sim, tmp_path):
    sim.model.knobs.app_roles = [r for r in sim.model.knobs.app_roles if r != "Mail.Send"]

    result = invoke(["check", "--send-test-mail", "anna@contoso.example"], env_for(sim, tmp_path / "state"))

    assert result.exit_code == 0, result.output
    assert f"✓ test mail from {SENDER} to anna@contoso.example was accepted" in result.output
    assert "not in the token, but the test mail was accepted" in result.output
    assert [w.split(" ")[0] + " " + w.split("/")[-1] for w in writes(sim)] == ["POST sendMail"]
    assert len(sim.model.mail_log) == 1


def test_plan_only_needs_files_read_and_names_the_least_privilege_for_deleting(sim, tmp_path):
    sim.model.knobs.app_roles = ["User.Read.All", "GroupMember.Read.All", "Channel.ReadBasic.All", "Files.Read.All"]

    result = invoke(["check"], env_for(sim, tmp_path / "state", TEAMSRETENTION_POLICY__ENFORCE="false",
                                       TEAMSRETENTION_NOTIFICATIONS__SENDER=""))

    assert result.exit_code == 0, result.output
    assert "✓ Files.Read.All: inventory: read drives with delta" in result.output

    enforced = invoke(["check"], env_for(sim, tmp_path / "state"))

    assert enforced.exit_code == 1
    assert "✗ Files.ReadWrite.All missing: deletion" in enforced.output


def test_an_unreachable_database_is_named_without_its_password(sim, tmp_path):
    url = "postgresql+psycopg://teams:s3cret@127.0.0.1:1/teamsretention"

    result = invoke(["check"], env_for(sim, tmp_path / "state", TEAMSRETENTION_DATABASE__URL=url))

    assert result.exit_code == 1
    assert "✗ state store postgresql+psycopg://teams:***@127.0.0.1:1/teamsretention" in result.output
    assert "cannot be read" in result.output and "s3cret" not in result.output


def test_a_state_directory_that_cannot_be_created_is_named(sim, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    result = invoke(["check"], env_for(sim, blocker / "state"))

    assert result.exit_code == 1
    assert f"✗ state directory {blocker / 'state'}" in result.output
    assert f"{blocker} is not a directory" in result.output


def test_an_existing_store_is_reported_migrated_and_left_as_it_was(sim, tmp_path):
    state = tmp_path / "state"
    assert invoke(["plan"], env_for(sim, state, TEAMSRETENTION_POLICY__ENFORCE="false")).exit_code == 0
    before = {p.name: p.stat().st_mtime_ns for p in state.iterdir()}

    result = invoke(["check"], env_for(sim, state))

    assert result.exit_code == 0, result.output
    assert f"✓ state store {state / 'teamsretention.db'}" in result.output
    assert "is reachable and migrated" in result.output
    assert {p.name: p.stat().st_mtime_ns for p in state.iterdir()} == before


def test_json_names_each_check_its_status_and_fix_and_the_next_three_cycles(sim, tmp_path):
    sim.model.knobs.app_roles = [r for r in sim.model.knobs.app_roles if r != "Mail.Send"]

    result = invoke(["check", "--json"], env_for(sim, tmp_path / "state"))

    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["exitCode"] == 1
    assert "Mail.Send" not in data["roles"] and "Files.ReadWrite.All" in data["roles"]
    failed = [c for c in data["checks"] if c["status"] == "fail"]
    assert [c["area"] for c in failed] == ["permissions"]
    assert "New-ManagementRoleAssignment" in failed[0]["fix"]
    assert len(data["nextCycles"]) == 3
    moments = [dt.datetime.fromisoformat(m) for m in data["nextCycles"]]
    assert all(m.hour == 6 and m.weekday() < 5 for m in moments) and moments == sorted(moments)


def test_a_read_graph_refuses_is_named_with_the_permission_behind_it(sim, tmp_path):
    sim.model.knobs.update({"fail_paths": [{"pattern": r"/teams/[^/]+/channels$", "status": 403}]})

    result = invoke(["check"], env_for(sim, tmp_path / "state"))

    assert result.exit_code == 1
    assert "✗ reading the channel sites of team Sales failed: Graph answered 403" in result.output
    assert "fix: grant Files.Read.All and Channel.ReadBasic.All" in result.output
    assert "✓ read the retention label of" in result.output  # the other reads are still tried


def test_a_missing_list_or_a_mistyped_column_is_named_and_provision_is_the_fix(sim, tmp_path):
    sim.model.add_list(sim.model.records_site_id, "Assignments", [
        {"name": "AssignmentStatus", "displayName": "Status", "text": {}}])

    result = invoke(["check"], env_for(sim, tmp_path / "state", TEAMSRETENTION_LISTS__SITE=SITE))

    assert result.exit_code == 1
    assert "✗ list 'Assignments'" in result.output
    assert "AssignmentStatus: it is a text column; it should be Choice" in result.output
    assert "OpenedOn: missing" in result.output
    assert "run `teamsretention provision`" in result.output
    assert f"✗ list 'Retention requests' does not exist in {SITE}" in result.output
    assert writes(sim) == []


def test_paused_deletions_are_a_warning_naming_who_paused_and_since_when_and_resume(sim, tmp_path):
    state = tmp_path / "state"
    assert invoke(["plan"], env_for(sim, state, TEAMSRETENTION_POLICY__ENFORCE="false")).exit_code == 0
    assert invoke(["pause", "--reason", "legal review of Q3", "--by", "it-admin"], env_for(sim, state)).exit_code == 0
    before = {p.name: p.stat().st_mtime_ns for p in state.iterdir()}

    result = invoke(["check"], env_for(sim, state))

    assert result.exit_code == 0, result.output  # a warning: everything required still holds
    store = state / "teamsretention.db"
    assert (f"! deletions are paused in the state store {store} since" in result.output
            and "by it-admin: legal review of Q3; warnings still go out, nothing due is deleted" in result.output)
    assert "note: `teamsretention resume` allows deletions again" in result.output
    assert f"· the last cycle on the state store {store}: run 1, plan for" in result.output
    assert {p.name: p.stat().st_mtime_ns for p in state.iterdir()} == before  # nothing written, no journal made

    assert invoke(["resume", "--by", "it-admin"], env_for(sim, state)).exit_code == 0
    resumed = invoke(["check"], env_for(sim, state))
    assert f"· deletions are not paused in the state store {store}" in resumed.output
    assert "deletions are paused" not in resumed.output


def test_a_pause_another_process_has_not_checkpointed_yet_is_seen(sim, tmp_path):
    """The daemon keeps the store open: a pause just made sits in its WAL file, not yet in the database file."""
    from teamsretention.store import control
    from teamsretention.store.database import Database

    state = tmp_path / "state"
    assert invoke(["plan"], env_for(sim, state, TEAMSRETENTION_POLICY__ENFORCE="false")).exit_code == 0
    store = state / "teamsretention.db"
    daemon = Database(f"sqlite:///{store}")
    try:
        control.lock_state(daemon)  # the daemon's connection, open
        assert control.set_paused(daemon, True, reason="incident 4711", by="oncall",
                                  now=dt.datetime.now(dt.UTC))
        assert (state / "teamsretention.db-wal").stat().st_size > 0

        result = invoke(["check"], env_for(sim, state))
    finally:
        daemon.dispose()

    assert "! deletions are paused" in result.output and "by oncall: incident 4711" in result.output


def take_lock(store: Path, moment: dt.datetime) -> None:
    """A cycle of host vm1 takes the store's cycle lock at ``moment``, for five minutes."""
    from teamsretention.store import control
    from teamsretention.store.database import Database

    db = Database(f"sqlite:///{store}")
    try:
        assert control.acquire_lock(db, "an enforce cycle on host vm1, process 42 [ab12cd34]", moment,
                                    dt.timedelta(minutes=5))
    finally:
        db.dispose()


def test_the_cycle_lock_names_a_running_cycle_and_a_lease_left_behind(sim, tmp_path):
    state = tmp_path / "state"
    assert invoke(["plan"], env_for(sim, state, TEAMSRETENTION_POLICY__ENFORCE="false")).exit_code == 0
    store = state / "teamsretention.db"
    now = dt.datetime.now(dt.UTC)
    take_lock(store, now)

    running = invoke(["check"], env_for(sim, state))

    assert running.exit_code == 0, running.output
    assert (f"· a cycle holds the cycle lock of the state store {store}: an enforce cycle on host vm1, process 42 "
            f"[ab12cd34], since {now:%Y-%m-%d %H:%M} UTC") in running.output

    hour_ago = now - dt.timedelta(hours=1)
    take_lock(store, hour_ago)  # the holder died an hour ago: its lease ran out

    left = invoke(["check"], env_for(sim, state))

    assert left.exit_code == 0, left.output
    assert (f"! the cycle lock of the state store {store} is still held by an enforce cycle on host vm1, process 42 "
            f"[ab12cd34], whose lease ran out at {hour_ago + dt.timedelta(minutes=5):%Y-%m-%d %H:%M} UTC") in left.output
    assert "the next cycle takes the lock over" in left.output


def test_a_last_cycle_that_did_not_end_well_is_a_warning_with_its_message(sim, tmp_path):
    state = tmp_path / "state"
    sim.model.knobs.update({"fail_paths": [{"pattern": r"/drives/[^/]+/root/delta", "status": 503}]})
    planned = invoke(["plan"], env_for(sim, state, TEAMSRETENTION_POLICY__ENFORCE="false"))
    assert planned.exit_code != 0
    sim.model.knobs.update({"fail_paths": []})

    result = invoke(["check", "--json"], env_for(sim, state))

    data = json.loads(result.output)
    last = [c for c in data["checks"] if c["what"].startswith("the last cycle on the state store")]
    assert len(last) == 1 and last[0]["status"] == "warn", data["checks"]
    assert ", plan for " in last[0]["what"] and ", incomplete, finished " in last[0]["what"]
    assert "incomplete: no warnings or deletions for it this cycle" in last[0]["what"]  # the run's own message
    assert "wait for a complete read" in last[0]["fix"]


def test_a_cycle_whose_process_died_is_named_as_not_finished(sim, tmp_path):
    from teamsretention.domain import RunMode
    from teamsretention.store import runs
    from teamsretention.store.database import Database

    state = tmp_path / "state"
    assert invoke(["plan"], env_for(sim, state, TEAMSRETENTION_POLICY__ENFORCE="false")).exit_code == 0
    db = Database(f"sqlite:///{state / 'teamsretention.db'}")
    now = dt.datetime.now(dt.UTC)
    try:  # a run started and never finished, its lock released by no one and long expired
        runs.start(db, mode=RunMode.ENFORCE, at=now, cycle_date=now.date(), started_at=now, config={}, holder="h")
    finally:
        db.dispose()

    result = invoke(["check"], env_for(sim, state))

    assert "! the last cycle on the state store" in result.output
    assert ", enforce for " in result.output and ", running, started " in result.output
    assert "no cycle holds the lock: it stopped without finishing" in result.output


def test_a_wal_file_a_stopped_process_left_is_read_without_creating_anything_beside_the_store(sim, tmp_path):
    import shutil

    from teamsretention.store import control
    from teamsretention.store.database import Database

    live = tmp_path / "live"
    assert invoke(["plan"], env_for(sim, live, TEAMSRETENTION_POLICY__ENFORCE="false")).exit_code == 0
    daemon = Database(f"sqlite:///{live / 'teamsretention.db'}")
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    try:  # the daemon's files as a crash leaves them: the database and its WAL, holding a pause, no -shm
        control.lock_state(daemon)
        assert control.set_paused(daemon, True, reason="incident 4711", by="oncall", now=dt.datetime.now(dt.UTC))
        for name in ("teamsretention.db", "teamsretention.db-wal"):
            shutil.copy2(live / name, state / name)
    finally:
        daemon.dispose()
    (state / "teamsretention.db").chmod(0o600)
    before = {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in state.iterdir()}

    result = invoke(["check"], env_for(sim, state))

    assert "! deletions are paused" in result.output and "by oncall: incident 4711" in result.output
    assert {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in state.iterdir()} == before
