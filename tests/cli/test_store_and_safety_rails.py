"""Which store a command acts on, the safety rails around deletions, and a store that cannot be used, as an
operator sees them: what is printed, the exit code, what ends up on disk and in the audit trail.

Commands that reach Graph run against the simulator served on loopback (a real socket, real msgraph-sdk).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest

from teamsretention.cycle.run import LOCK_TTL, lock_holder
from teamsretention.domain import RunMode
from teamsretention.simulator.scenario import load_scenario
from teamsretention.simulator.server import serve
from teamsretention.store import Database, audit, control

from .test_cli import SCENARIO, invoke, policy_today, sim_env

BACKLOG = """
[tenant]
domain = "contoso.example"
seed = 7

[[users]]
key = "anna"
display_name = "Anna Berg"

[[users]]
key = "retention"
display_name = "Recording governance"
has_onedrive = false

[[recordings]]
key = "oldest"
organizer = "anna"
subject = "Oldest review"
age_days = 50

[[recordings]]
key = "middle"
organizer = "anna"
subject = "Middle review"
age_days = 45

[[recordings]]
key = "newest"
organizer = "anna"
subject = "Newest review"
age_days = 40

[[recordings]]
key = "young"
organizer = "anna"
subject = "Standup"
age_days = 2
"""


@pytest.fixture
def sim():
    epoch = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with serve(load_scenario(SCENARIO, epoch=epoch)) as running:
        yield running


@pytest.fixture
def backlog():
    epoch = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with serve(load_scenario(BACKLOG, epoch=epoch)) as running:
        yield running


def plan_text(output: str) -> str:
    """What plan printed, from its header on (a log line may come first)."""
    return output[output.index("Plan for "):]


def day(n: int) -> str:
    return (policy_today() + dt.timedelta(days=n)).isoformat()


def trail(state) -> list:
    db = Database(f"sqlite:///{state}/teamsretention.db", create=False)
    try:
        return audit.entries(db)
    finally:
        db.dispose()


# --- 9.1: commands that are not cycles never create a store ---------------------------------------------
def test_pause_without_a_store_creates_nothing_and_names_where_it_looked(tmp_path):
    state = tmp_path / "state"
    result = invoke(["pause", "--reason", "stop now"], {"TEAMSRETENTION_STATE__DIRECTORY": str(state)})
    assert result.exit_code == 2
    assert result.output == (
        f"teamsretention: no state store at {state}/teamsretention.db (state.directory from environment variable "
        "TEAMSRETENTION_STATE__DIRECTORY). This command uses an existing store and never creates one: check that "
        "it runs with the daemon's configuration (the same --config file and TEAMSRETENTION_* variables as the "
        "service; the systemd unit in deploy/ keeps its store in /var/lib/teamsretention); the first "
        "`teamsretention plan` or `teamsretention run` creates it.\n")
    assert not state.exists() and list(tmp_path.iterdir()) == []


def test_resume_without_a_store_names_the_default_directory_and_the_config_file(tmp_path):
    xdg = tmp_path / "xdg"
    result = invoke(["resume"], {"XDG_STATE_HOME": str(xdg)})
    assert result.exit_code == 2
    assert f"no state store at {xdg}/teamsretention/teamsretention.db (the default state directory: " in result.output
    assert not xdg.exists()
    config = tmp_path / "teamsretention.toml"
    config.write_text(f'[state]\ndirectory = "{tmp_path / "srv"}"\n')
    result = invoke(["pause", "--reason", "x", "--config", str(config)], {})
    assert result.exit_code == 2 and f"(state.directory from file {config})" in result.output
    assert not (tmp_path / "srv").exists()


def test_plan_creates_the_store_then_pause_and_plan_name_it(sim, tmp_path):
    env = sim_env(sim, tmp_path)
    result = invoke(["plan"], env)
    assert result.exit_code == 0
    assert plan_text(result.output).startswith(f"Plan for today's cycle, {policy_today()} (state store {tmp_path}/teamsretention.db)")
    assert invoke(["pause", "--reason", "DPO review", "--actor", "dpo@contoso.example"], env).exit_code == 0
    result = invoke(["plan"], env)
    assert "Deletions are PAUSED since " in result.output and "by dpo@contoso.example: DPO review. No cycle deletes " \
        "anything until `teamsretention resume`" in result.output
    result = invoke(["run", "--once"], env)
    assert f"  state store: {tmp_path}/teamsretention.db" in result.output


# --- 9.2: --allow-deletions N lets a backlog through in batches, oldest due first --------------------------
def test_allow_deletions_lets_the_oldest_through_and_keeps_the_rest_due(backlog, tmp_path):
    env = sim_env(backlog, tmp_path, TEAMSRETENTION_POLICY__ENFORCE="true",
                  TEAMSRETENTION_POLICY__MAX_DELETIONS_PER_CYCLE="1")
    for n in (0, 6):  # the warnings 7 and 1 days before the announced date
        assert invoke(["run", "--once", "--at", day(n)], env).exit_code == 0
    stopped = invoke(["run", "--once", "--at", day(7)], env)
    assert stopped.exit_code == 3 and backlog.model.recycle_bin == {}
    assert "3 planned deletions exceed policy.max_deletions_per_cycle = 1" in stopped.output

    batch = invoke(["run", "--once", "--at", day(7), "--allow-deletions", "2", "--reason", "backlog after the audit",
                    "--actor", "it@contoso.example"], env)
    assert batch.exit_code == 3, batch.output
    deleted = sorted(item.name.split("-")[0] for item in backlog.model.recycle_bin.values())
    assert deleted == ["Middle review", "Oldest review"]  # the oldest first; "Newest review" stays due
    assert "deleted 2" in batch.output and "held back by --allow-deletions: 1 due deletions stay due" in batch.output
    assert ("Deletion batch: --allow-deletions 2 (by it@contoso.example: backlog after the audit) let 2 of 3 due "
            "deletions through, the oldest due first; 1 stay due") in batch.output
    entries = trail(tmp_path)
    (override,) = [a for a in entries if a.kind == "deletion_limit_override"]
    assert override.actor == "it@contoso.example" and "backlog after the audit" in override.reason
    (held,) = [a for a in entries if a.kind == "deletions_held_back"]
    assert held.actor == "it@contoso.example" and held.detail["held_back"] == 1 and len(held.detail["recordings"]) == 1

    rest = invoke(["run", "--once", "--at", day(8), "--allow-deletions", "5", "--reason", "the rest"], env)
    assert rest.exit_code == 0, rest.output  # everything due fitted in the batch
    assert len(backlog.model.recycle_bin) == 3
    (last,) = [a for a in trail(tmp_path) if a.kind == "deletion_limit_override" and "the rest" in a.reason]
    assert last.actor  # the OS user when --actor is not given, never a made-up "admin"


def test_allow_deletions_needs_a_reason_and_the_reason_needs_allow_deletions(sim, tmp_path):
    env = sim_env(sim, tmp_path, TEAMSRETENTION_POLICY__ENFORCE="true")
    result = invoke(["run", "--once", "--allow-deletions", "5"], env)
    assert result.exit_code == 2 and "--allow-deletions 5: --reason is required" in result.output
    result = invoke(["run", "--once", "--reason", "why"], env)
    assert result.exit_code == 2 and "--reason and --actor go with --allow-deletions" in result.output
    assert not (tmp_path / "teamsretention.db").exists() and sim.model.mail_log == []


# --- 9.3: plan --at T shows the cycle of T, with the limit and the pause applied -----------------------------
def test_plan_at_names_its_cycle_and_says_the_limit_would_stop_deletions(backlog, tmp_path):
    env = sim_env(backlog, tmp_path, TEAMSRETENTION_POLICY__MAX_DELETIONS_PER_CYCLE="2")
    result = invoke(["plan", "--at", day(10)], env)
    assert result.exit_code == 0, result.output
    assert plan_text(result.output).startswith(f"Plan for the cycle of {day(10)} 06:00 Europe/Stockholm (state store ")
    assert f"projected from today ({policy_today()})" in result.output
    assert (f"Safety limit: from the cycle of {day(7)} on, deletions would be stopped (the cycle of {day(10)}: 3 "
            "planned deletions exceed policy.max_deletions_per_cycle = 2); that cycle would delete nothing and exit 3"
            ) in result.output
    assert "policy.enforce = false: cycles send no mail and delete nothing" in result.output
    data = json.loads(invoke(["plan", "--json", "--at", day(10)], env).stdout)
    assert data["deletions"]["stopped_by_limit"] and data["deletions"]["cycle_date"] == day(10)
    assert data["at"].startswith(day(10))
    ok = invoke(["plan", "--at", day(7)], sim_env(backlog, tmp_path))
    assert f"The cycle of {day(7)} would delete 3 recording(s): within the safety limits." in ok.output
    assert "Safety limit" not in ok.output


# --- 9.4 and 9.8: a store that cannot be used -------------------------------------------------------------
def test_a_damaged_store_stops_every_command_before_any_graph_call(sim, tmp_path):
    env = sim_env(sim, tmp_path)
    assert invoke(["plan"], env).exit_code == 0
    path = tmp_path / "teamsretention.db"
    path.write_bytes(b"garbage, not SQLite" * 512)
    sim.model.requests.reset()
    for args in (["plan"], ["run", "--once"], ["pause", "--reason", "x"]):
        result = invoke(args, env)
        assert result.exit_code == 1, args
        assert result.output.startswith(f"teamsretention: state store {path} is damaged (")
        assert f"mv {path} {path}.damaged" in result.output and len(result.output.splitlines()) == 1
    assert sim.model.requests.total_requests == 0


def test_a_busy_cycle_lock_says_who_holds_it_and_since_when(sim, tmp_path):
    env = sim_env(sim, tmp_path)
    assert invoke(["plan"], env).exit_code == 0
    db = Database(f"sqlite:///{tmp_path}/teamsretention.db")
    holder = lock_holder(RunMode.ENFORCE)
    since = dt.datetime.now(dt.UTC)
    assert control.acquire_lock(db, holder, since, LOCK_TTL)
    db.dispose()
    result = invoke(["run", "--once"], env)
    assert result.exit_code == 1
    assert (f"teamsretention: state store {tmp_path}/teamsretention.db: another cycle holds the cycle lock (a "
            f"enforce cycle on host {os.uname().nodename}, process {os.getpid()} [") in result.output
    assert f"since {since:%Y-%m-%d %H:%M}" in result.output and "the lock expires at" in result.output


def test_a_state_directory_that_is_a_file_is_configuration(sim, tmp_path):
    (tmp_path / "state").write_text("")
    result = invoke(["plan"], sim_env(sim, tmp_path / "state"))
    assert result.exit_code == 2
    assert result.output == (f"teamsretention: state directory {tmp_path}/state (state.directory from environment "
                             f"variable TEAMSRETENTION_STATE__DIRECTORY): cannot be created, {tmp_path}/state is a "
                             "file, not a directory; point state.directory elsewhere\n")


# --- issue 11.1: the store and secrets are private -----------------------------------------------------------
def test_a_cycle_creates_a_private_state_directory_and_database(sim, tmp_path):
    state = tmp_path / "new" / "state"
    assert invoke(["run", "--once"], sim_env(sim, state)).exit_code == 0
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for f in state.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_a_secret_file_other_users_can_read_is_refused(sim, tmp_path):
    secret = tmp_path / "client-secret"
    secret.write_text("s3cr3t-from-file\n")
    secret.chmod(0o644)
    result = invoke(["plan"], sim_env(sim, tmp_path / "state", TEAMSRETENTION_GRAPH__CLIENT_SECRET_FILE=str(secret)))
    assert result.exit_code == 2
    assert (f"graph.client_secret_file = {secret} (from environment variable TEAMSRETENTION_GRAPH__CLIENT_SECRET_FILE)"
            f": file '{secret}' holds a secret and other users can access it (mode 0644); it is not used: make it "
            f"readable by its owner only, `chmod 600 {secret}`") in result.output
    assert "s3cr3t-from-file" not in result.output and not (tmp_path / "state").exists()
