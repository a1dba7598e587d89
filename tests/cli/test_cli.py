"""The command line as an admin uses it: exit codes, messages, and what ends up in the state directory.

Commands that reach Graph run against the simulator served on loopback (a real socket, real msgraph-sdk).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamsretention.cli import app
from teamsretention.domain import local_date
from teamsretention.simulator.scenario import load_scenario
from teamsretention.simulator.server import serve

SCENARIO = """
[tenant]
domain = "contoso.example"
seed = 5

[[users]]
key = "anna"
display_name = "Anna Berg"
preferred_language = "sv-SE"

[[users]]
key = "retention"
display_name = "Recording governance"
has_onedrive = false

[[recordings]]
key = "old"
organizer = "anna"
subject = "Quarterly review"
age_days = 40

[[recordings]]
key = "young"
organizer = "anna"
subject = "Standup"
age_days = 3
"""


@pytest.fixture
def sim():
    epoch = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with serve(load_scenario(SCENARIO, epoch=epoch)) as running:
        yield running


def policy_today() -> dt.date:
    """Today in the default policy time zone (Europe/Stockholm), which is not the machine's date near midnight."""
    return local_date(dt.datetime.now(dt.UTC), "Europe/Stockholm")


def invoke(args: list[str], env: dict[str, str]) -> object:
    runner = CliRunner()
    return runner.invoke(app, args, env=env, catch_exceptions=False)


def sim_env(sim, state: Path, **extra: str) -> dict[str, str]:
    env = {"TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT": sim.base_url, "TEAMSRETENTION_GRAPH__AUTH": "none",
           "TEAMSRETENTION_STATE__DIRECTORY": str(state),
           "TEAMSRETENTION_NOTIFICATIONS__SENDER": "retention@contoso.example"}
    env.update(extra)
    return env


def test_plan_lists_what_would_happen_and_changes_nothing_in_the_tenant(sim, tmp_path):
    result = invoke(["plan"], sim_env(sim, tmp_path))
    assert result.exit_code == 0, result.output
    assert "would warn" in result.output and "Quarterly review" in result.output
    assert "Standup" not in result.output  # simply kept: only with --all
    assert sim.model.mail_log == [] and sim.model.recycle_bin == {}


def test_plan_json_lists_every_recording_with_rule_and_reason(sim, tmp_path):
    result = invoke(["plan", "--json"], sim_env(sim, tmp_path))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    by_name = {r["recording"].split("-")[0]: r for r in data["recordings"]}
    assert by_name["Quarterly review"]["action"] == "warn" and by_name["Quarterly review"]["rule"]
    assert by_name["Standup"]["action"] == "keep" and by_name["Standup"]["rule"] == "young"
    assert data["summary"]["tracked"] == 2


def test_plan_at_a_later_date_assumes_warnings_go_out_on_schedule(sim, tmp_path):
    later = (policy_today() + dt.timedelta(days=10)).isoformat()
    result = invoke(["plan", "--json", "--at", later], sim_env(sim, tmp_path))
    data = json.loads(result.stdout)
    old = next(r for r in data["recordings"] if r["recording"].startswith("Quarterly review"))
    assert old["action"] == "delete" and old["deleted_on"] == (policy_today() + dt.timedelta(days=7)).isoformat()


def test_run_once_with_enforce_false_sends_nothing_and_audits_would_be_warnings(sim, tmp_path):
    result = invoke(["run", "--once"], sim_env(sim, tmp_path))
    assert result.exit_code == 0, result.output
    assert "dry_run" in result.output
    assert sim.model.mail_log == []


def test_run_once_enforcing_sends_the_digest(sim, tmp_path):
    result = invoke(["run", "--once"], sim_env(sim, tmp_path, TEAMSRETENTION_POLICY__ENFORCE="true"))
    assert result.exit_code == 0, result.output
    assert len(sim.model.mail_log) == 1


def test_bad_configuration_exits_2_naming_key_and_source_before_any_graph_call(sim, tmp_path):
    sim.model.requests.reset()
    env = sim_env(sim, tmp_path, TEAMSRETENTION_POLICY__MINIMUM_NOTICE_DAYS="9")
    result = invoke(["run", "--once"], env)
    assert result.exit_code == 2
    assert "policy.minimum_notice_days" in result.output
    assert "TEAMSRETENTION_POLICY__MINIMUM_NOTICE_DAYS" in result.output
    assert sim.model.requests.total_requests == 0
    assert not (tmp_path / "teamsretention.db").exists()


def test_unknown_variable_and_missing_file_are_errors(tmp_path):
    result = invoke(["plan"], {"TEAMSRETENTION_POLCY__ENFORCE": "true"})
    assert result.exit_code == 2 and "TEAMSRETENTION_POLCY__ENFORCE" in result.output
    result = invoke(["plan", "--config", str(tmp_path / "nope.toml")], {})
    assert result.exit_code == 2 and "nope.toml" in result.output


def test_auth_none_is_refused_for_a_real_endpoint(tmp_path):
    env = {"TEAMSRETENTION_GRAPH__AUTH": "none", "TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path)}
    result = invoke(["plan"], env)
    assert result.exit_code == 2 and "graph.auth" in result.output


def test_run_at_refuses_naive_datetimes_and_real_endpoints(sim, tmp_path):
    result = invoke(["run", "--once", "--at", "2026-12-01T06:00:00"], sim_env(sim, tmp_path))
    assert result.exit_code == 2 and "offset" in result.output
    env = {"TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path), "TEAMSRETENTION_TENANT__TENANT_ID": "t",
           "TEAMSRETENTION_TENANT__CLIENT_ID": "c", "TEAMSRETENTION_GRAPH__CLIENT_SECRET": "s3cr3t-value"}
    result = invoke(["run", "--once", "--at", "2026-12-01"], env)
    assert result.exit_code == 2 and "loopback" in result.output
    assert "s3cr3t-value" not in result.output


def test_pause_and_resume_are_audited(tmp_path):
    from teamsretention.store import Database, audit

    Database(f"sqlite:///{tmp_path}/teamsretention.db").dispose()  # the store a first cycle created
    env = {"TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path)}
    result = invoke(["pause", "--reason", "DPO review of March", "--by", "dpo@contoso.example"], env)
    assert result.exit_code == 0
    assert result.output.startswith(f"Deletions paused in the state store {tmp_path}/teamsretention.db.")
    result = invoke(["resume", "--actor", "admin@contoso.example"], env)
    assert result.exit_code == 0 and f"Deletions resumed in the state store {tmp_path}/teamsretention.db" in result.output
    db = Database(f"sqlite:///{tmp_path}/teamsretention.db")
    entries = [(a.kind, a.actor, a.reason) for a in audit.entries(db)]
    db.dispose()
    assert entries == [("paused", "dpo@contoso.example", "DPO review of March"),
                       ("resumed", "admin@contoso.example", "")]


def test_run_at_never_goes_back_before_the_last_recorded_run(sim, tmp_path):
    env = sim_env(sim, tmp_path)
    later = (policy_today() + dt.timedelta(days=3)).isoformat()
    earlier = (policy_today() + dt.timedelta(days=1)).isoformat()
    assert invoke(["run", "--once", "--at", later], env).exit_code == 0
    result = invoke(["run", "--once", "--at", earlier], env)
    assert result.exit_code == 2 and "last recorded run" in result.output


def test_each_run_stores_its_configuration_without_secrets(sim, tmp_path):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("file-s3cret\n")
    secret_file.chmod(0o600)
    env = sim_env(sim, tmp_path, TEAMSRETENTION_GRAPH__CLIENT_SECRET_FILE=str(secret_file))
    assert invoke(["run", "--once"], env).exit_code == 0
    from teamsretention.store import Database, runs

    db = Database(f"sqlite:///{tmp_path}/teamsretention.db")
    (run,) = runs.list_all(db)
    config = run.config
    db.dispose()
    assert config["graph"]["graph_endpoint"] == sim.base_url
    assert "file-s3cret" not in json.dumps(config)


def test_daemon_exits_0_on_sigterm(sim, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, **sim_env(sim, tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "teamsretention", "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        seen = ""
        assert proc.stdout is not None
        while "daemon.started" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.readline()
        assert "daemon.started" in seen
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stdout:
            proc.stdout.close()


def test_demo_tells_the_whole_story_and_exits_0(tmp_path):
    result = invoke(["demo", "--days", "40", "--state-dir", str(tmp_path)], {})
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("\n 40  ") == 1 or "40  2026-04-10" in out  # one line per simulated day
    assert "legal hold EX-1" in out and "rule legal_hold" in out
    # Issue 7's story, through the CLI's workflows and the two lists (read back through Graph by the cycle)
    assert "provision: Created list 'Assignments' with 5 columns: https://contoso.sharepoint.com/sites/records/" in out
    assert "then approves it: exit 2, refused: it-support@contoso.example made the request" in out  # self-approval
    assert "set EX-3 to Approved in the list (item 2): ignored, Erik Lind" in out  # an outsider's approval
    assert "is neither the DPO nor an IT administrator" in out
    story = {line.split(":")[0].strip(): line for line in out.splitlines() if line.startswith("    ")}
    listed = next(v for k, v in story.items() if k.startswith("exception requested in the list"))
    assert "rule exemption" in listed and listed.count("warned 2026-03-") == 2  # warned before its end, then deleted
    tagged = next(v for k, v in story.items() if k.startswith("tagged to A-FALCON in the requests list"))
    assert "warned 2026-03-17, warned 2026-03-23, deleted 2026-03-24" in tagged  # closed 03-17, then notice
    assert "DPO digests (weekly" in out and "to dpo@contoso.example: 2026-03-02, 2026-03-09" in out
    assert "every warning and deletion names its rule in the audit trail: yes" in out
    assert "(Legal - Contracts 10y)" in out  # kept by a retention label
    # It says what it runs with, the safety limit it raises to fit its tenant included, with the values.
    assert "Settings (the demo's own; no configuration file or TEAMSRETENTION_* variable is read):" in out
    assert "policy: enforce = true" in out and f"state: {tmp_path}" in out
    assert "safety limits, raised to fit this tenant:" in out
    assert "policy.max_deletion_share = 0.8 (default 0.25: " in out
    assert "policy.max_deletions_per_cycle = 200 (the default)" in out
    # The columns say what they count: warnings apart from deletion receipts, kept apart from warned.
    header = next(line for line in out.splitlines() if line.startswith("day  date"))
    assert header.split()[2:] == ["warned", "digests", "receipts", "deleted", "blocked", "kept,", "nothing", "due",
                                  "notes"]
    assert "receipts = deleted recordings" in out and "kept, nothing due = recordings kept" in out
    rows = [line.split() for line in out.splitlines() if line[:3].strip().isdigit() and "-" in line[5:15]]
    assert len(rows) == 40 and sum(int(r[4]) for r in rows) > 0  # receipts went out
    recordings = int(out.split(" recordings aged")[0].split()[-1])
    assert int(rows[0][2]) + int(rows[0][7]) == recordings  # day 1: each recording warned or kept, never both
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    deleted = [a for a in audit if a["event"] == "deleted"]
    actors = {(a["event"], a["actor"].split(" ")[0], a["source"]) for a in audit if a["event"] in {
        "exemption_approved", "decision_ignored", "assignment_recorded", "assignment_closed", "tagged"}}
    assert actors == {("exemption_approved", "dpo@contoso.example", "cli"), ("exemption_approved", "Data", "list"),
                      ("decision_ignored", "Erik", "list"), ("assignment_recorded", "IT", "list"),
                      ("assignment_closed", "IT", "list"), ("tagged", "Ida", "list"),
                      ("tagged", "it-support@contoso.example", "cli")}
    assert deleted and all(a["rule"] for a in deleted)
    assert any(p.suffix == ".html" for p in (tmp_path / "mails").iterdir())
    # what the demo keeps is personal data: for its user only
    assert (tmp_path / "audit.jsonl").stat().st_mode & 0o777 == 0o600
    assert {p.stat().st_mode & 0o777 for p in (tmp_path / "mails").iterdir()} == {0o600}
    assert (tmp_path / "mails").stat().st_mode & 0o777 == 0o700
