"""What `run --once` tells an operator: every deletion, refused deletion and digest, by name and organizer, as
text and as JSON; what a dry run would do; and the logging switches (level, format, --verbose/--quiet).

Against the simulator served on loopback (a real socket, real msgraph-sdk), one store per test.
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

[knobs]
locked_items = { "vendor" = { until_day = 60 } }
failing_mail_recipients = { "bob@contoso.example" = 400 }

[[users]]
key = "anna"
display_name = "Anna Berg"
preferred_language = "sv-SE"

[[users]]
key = "bob"
display_name = "Bob Smith"
preferred_language = "en-US"

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
key = "vendor"
organizer = "anna"
subject = "Vendor call"
age_days = 40

[[recordings]]
key = "young"
organizer = "anna"
subject = "Standup"
age_days = 3

[[recordings]]
key = "budget"
organizer = "bob"
subject = "Budget talk"
age_days = 40
"""


@pytest.fixture
def sim():
    epoch = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with serve(load_scenario(SCENARIO, epoch=epoch)) as running:
        yield running


def today_plus(days: int) -> str:
    return (local_date(dt.datetime.now(dt.UTC), "Europe/Stockholm") + dt.timedelta(days=days)).isoformat()


def invoke(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(app, args, env=env, catch_exceptions=False)


def env_for(sim, state: Path, **extra: str) -> dict[str, str]:
    env = {"TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT": sim.base_url, "TEAMSRETENTION_GRAPH__AUTH": "none",
           "TEAMSRETENTION_STATE__DIRECTORY": str(state),
           "TEAMSRETENTION_NOTIFICATIONS__SENDER": "retention@contoso.example",
           "TEAMSRETENTION_LOGGING__FORMAT": "json"}
    env.update(extra)
    return env


def log_events(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_a_dry_run_says_what_it_would_warn_and_delete_and_sends_nothing(sim, tmp_path):
    result = invoke(["run", "--once"], env_for(sim, tmp_path))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "dry_run: policy.enforce = false, nothing was sent or deleted" in out
    assert "would warn 3 recordings in 2 digests, would delete 0" in out
    assert "warned 0" not in out
    assert "would be sent to anna@contoso.example (Anna Berg): 2 recordings to warn about" in out
    assert "would be sent to bob@contoso.example (Bob Smith): 1 recording to warn about" in out
    assert sim.model.mail_log == []
    # A second dry run the same day records nothing new, and says so instead of "would warn 0".
    again = invoke(["run", "--once"], env_for(sim, tmp_path)).stdout
    assert "would warn 3 recordings in 2 digests" in again
    assert "already recorded (dry run) by an earlier run today" in again


def test_an_enforcing_run_lists_each_digest_sent_or_failed(sim, tmp_path):
    result = invoke(["run", "--once"], env_for(sim, tmp_path, TEAMSRETENTION_POLICY__ENFORCE="true"))
    assert result.exit_code == 1, result.output  # bob's digest failed
    out = result.stdout
    assert "warned 2 recordings, 1 digest sent, deleted 0, blocked 0, send failures 1" in out
    assert "sent to anna@contoso.example (Anna Berg): 2 recordings warned" in out
    failed = next(line for line in out.splitlines() if "FAILED to bob@contoso.example" in line)
    assert "(Bob Smith): 1 recording not warned: 400" in failed
    assert len(sim.model.mail_log) == 1


def test_deletions_and_refusals_are_listed_with_name_organizer_rule_and_next_attempt(sim, tmp_path):
    env = env_for(sim, tmp_path, TEAMSRETENTION_POLICY__ENFORCE="true")
    assert invoke(["run", "--once"], env).exit_code == 1  # warnings out (bob's fails)
    assert invoke(["run", "--once", "--at", today_plus(6)], env).exit_code == 1  # the 1-day warnings
    result = invoke(["run", "--once", "--at", today_plus(7)], env)
    out = result.stdout
    assert "deleted 1, blocked 1" in out, result.output
    deleted = next(line for line in out.splitlines() if "Quarterly review" in line)
    assert "organizer Anna Berg <anna@contoso.example>" in deleted and "rule notice_floor" in deleted
    restore = dt.date.fromisoformat(today_plus(7)) + dt.timedelta(days=93)
    assert f"to the recycle bin, restorable until {restore}" in deleted
    blocked = next(line for line in out.splitlines() if "Vendor call" in line)
    assert "organizer Anna Berg <anna@contoso.example>" in blocked
    assert "refused this cycle: 423 resourceLocked" in blocked and "locked" in blocked.split("resourceLocked")[1]
    assert f"1 attempt so far, next attempt on {today_plus(8)}" in blocked
    assert any(item_id for (_, item_id) in sim.model.recycle_bin)


def test_run_json_carries_the_same_as_data_with_stable_keys(sim, tmp_path):
    env = env_for(sim, tmp_path, TEAMSRETENTION_POLICY__ENFORCE="true")
    invoke(["run", "--once"], env)
    invoke(["run", "--once", "--at", today_plus(6)], env)
    result = invoke(["run", "--once", "--json", "--at", today_plus(7)], env)
    data = json.loads(result.stdout)  # stdout is one JSON document, problems included
    assert set(data) == {"summary", "deletions", "blocked", "digests"}
    assert data["summary"]["deleted"] == 1 and data["summary"]["exit_code"] == result.exit_code
    (deletion,) = data["deletions"]
    assert set(deletion) == {"recording_id", "name", "organizer", "rule", "mode", "restore_until"}
    assert deletion["name"].startswith("Quarterly review") and deletion["mode"] == "recycle"
    assert deletion["organizer"] == {"id": deletion["organizer"]["id"], "name": "Anna Berg",
                                     "upn": "anna@contoso.example"}
    (refused,) = data["blocked"]
    assert set(refused) == {"recording_id", "name", "organizer", "rule", "status", "code", "message", "attempts",
                            "attempted_this_cycle", "next_attempt_on"}
    assert (refused["status"], refused["code"], refused["attempts"]) == (423, "resourceLocked", 1)
    assert refused["next_attempt_on"] == today_plus(8) and refused["attempted_this_cycle"] is True
    # The next day: the receipt goes out with the digest, and the refusal is tried again.
    later = json.loads(invoke(["run", "--once", "--json", "--at", today_plus(8)], env).stdout)
    anna = next(d for d in later["digests"] if d["organizer"]["name"] == "Anna Berg")
    assert set(anna) == {"organizer", "recipient", "fallback", "warned", "receipts", "status", "error",
                         "earlier_today"}
    assert (anna["status"], anna["receipts"], anna["recipient"]) == ("sent", 1, "anna@contoso.example")
    assert later["blocked"][0]["attempts"] == 2


def test_json_without_once_is_refused(tmp_path):
    result = invoke(["run", "--json"], {"TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path)})
    assert result.exit_code == 2 and "--json go with --once" in result.output
    assert not (tmp_path / "teamsretention.db").exists()


# --- logging ------------------------------------------------------------------------------------------

def test_each_cycle_logs_its_summary_once_and_per_recording_lines_name_recording_and_organizer(sim, tmp_path):
    env = env_for(sim, tmp_path, TEAMSRETENTION_POLICY__ENFORCE="true")
    result = invoke(["run", "--once"], env)
    events = log_events(result.stderr)
    assert [e["event"] for e in events].count("cycle.summary") == 1
    sent = next(e for e in events if e["event"] == "digest.sent")
    assert (sent["organizer"], sent["organizer_upn"], sent["recipient"], sent["warned"]) == (
        "Anna Berg", "anna@contoso.example", "anna@contoso.example", 2)
    assert sent["organizer_id"] and sent["level"] == "info"
    failed = next(e for e in events if e["event"] == "digest.failed")
    assert failed["organizer"] == "Bob Smith" and failed["level"] == "warning" and "400" in failed["error"]


def test_log_level_setting_and_verbose_quiet_flags(sim, tmp_path):
    env = env_for(sim, tmp_path)
    verbose = invoke(["--verbose", "run", "--once"], {**env, "TEAMSRETENTION_LOGGING__LEVEL": "error"})
    events = log_events(verbose.stderr)  # the flag wins over logging.level
    decision = next(e for e in events if e["event"] == "recording.decision" and "Quarterly" in e["recording"])
    assert decision["level"] == "debug" and decision["organizer"] == "Anna Berg"
    assert decision["recording_id"] and decision["organizer_id"] and decision["rule"] == "notice_floor"
    quiet = invoke(["--quiet", "run", "--once"], env)
    assert quiet.exit_code == 0 and log_events(quiet.stderr) == []  # info lines gone...
    assert "would warn 3 recordings" in quiet.stdout  # ...the command's own output stays
    configured = invoke(["run", "--once"], {**env, "TEAMSRETENTION_LOGGING__LEVEL": "warning"})
    assert configured.exit_code == 0 and log_events(configured.stderr) == []
    assert log_events(invoke(["run", "--once"], env).stderr)  # info, the default


def test_verbose_and_quiet_together_is_a_usage_error(tmp_path):
    result = invoke(["--verbose", "--quiet", "plan"], {"TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path)})
    assert result.exit_code == 2 and "--verbose and --quiet" in result.output
    assert not (tmp_path / "teamsretention.db").exists()


def test_on_a_console_run_once_prints_its_report_once_and_a_bad_level_names_key_and_source(sim, tmp_path):
    # The console layout (what a terminal gets with format = "auto"): the report is printed, and info lines
    # that would repeat it are not logged unless a level asks for them.
    console = invoke(["run", "--once"], env_for(sim, tmp_path, TEAMSRETENTION_LOGGING__FORMAT="console"))
    assert "would warn 3 recordings" in console.stdout and console.stderr == ""
    info = invoke(["run", "--once"], env_for(sim, tmp_path, TEAMSRETENTION_LOGGING__FORMAT="console",
                                             TEAMSRETENTION_LOGGING__LEVEL="info"))
    assert info.stderr.count("cycle.summary") == 1 and log_events(info.stderr) == []  # console, not JSON
    bad = invoke(["plan"], env_for(sim, tmp_path / "b", TEAMSRETENTION_LOGGING__LEVEL="loud"))
    assert bad.exit_code == 2
    assert "logging.level" in bad.output and "TEAMSRETENTION_LOGGING__LEVEL" in bad.output
    assert "debug" in bad.output  # the choices
