"""What the operator reads from the command line: a refused sender mailbox, `simulator serve` starting (or not),
`--config` given a directory, and `--help` without type noise. No traceback anywhere."""

from __future__ import annotations

import datetime as dt
import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from teamsretention.cli import app
from teamsretention.cli import simulator as simulator_cli
from teamsretention.simulator import server
from teamsretention.simulator.scenario import load_scenario
from teamsretention.simulator.server import serve
from tests.output import assert_no_traceback, one_line_error

SCENARIO = """
[tenant]
domain = "contoso.example"
seed = 5

[[users]]
key = "anna"
display_name = "Anna Berg"

[[users]]
key = "bob"
display_name = "Bob Smith"

[[recordings]]
key = "a"
organizer = "anna"
subject = "Quarterly review"
age_days = 25

[[recordings]]
key = "b"
organizer = "bob"
subject = "Planning"
age_days = 25
"""


def invoke(args: list[str], env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(app, args, env=env or {}, catch_exceptions=False)
    assert_no_traceback(result)
    return result


def test_a_wrong_sender_mailbox_is_one_message_naming_the_setting(tmp_path):
    epoch = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with serve(load_scenario(SCENARIO, epoch=epoch)) as sim:
        env = {"TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT": sim.base_url, "TEAMSRETENTION_GRAPH__AUTH": "none",
               "TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path), "TEAMSRETENTION_POLICY__ENFORCE": "true",
               "TEAMSRETENTION_NOTIFICATIONS__SENDER": "retention@contoso.example"}  # no such user in the tenant
        result = invoke(["run", "--once"], env)
        assert sim.model.mail_log == [] and sim.model.requests.by_kind["mail.send"] == 1

    assert result.exit_code == 1
    # one problem, about the sender (stderr, beside the JSON log lines); the digest it stopped says why, once
    problems = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith("!")]
    assert len(problems) == 1, result.output
    assert problems[0].startswith("! notifications.sender = retention@contoso.example: Graph refused to send from "
                                  "this mailbox (404 ErrorInvalidUser")
    assert "1 more digests (1 recordings) were not attempted" in problems[0]
    assert "FAILED to anna@contoso.example (Anna Berg): 1 recording not warned: the sender mailbox was refused " \
           "(see notifications.sender)" in result.stdout
    assert "ErrorInvalidUser" not in result.stdout and "bob@contoso.example" not in result.output
    assert "warned 0 recordings, 0 digests sent" in result.stdout


# --- simulator serve -------------------------------------------------------------------------------------------

def test_simulator_serve_prints_its_banner_only_once_it_is_listening(monkeypatch):
    shown: dict[str, Any] = {}

    def serve_then_stop(model: Any, **kwargs: Any) -> None:
        banner = kwargs.pop("on_ready")

        def ready(sim: Any) -> None:
            port = int(sim.base_url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=5):  # accepting before the banner
                shown["port"] = port
            banner(sim)
            signal.raise_signal(signal.SIGTERM)  # what systemd or Ctrl-C would do

        server.serve_forever(model, on_ready=ready, **kwargs)

    monkeypatch.setattr(simulator_cli, "serve_forever", serve_then_stop)
    result = invoke(["simulator", "serve", "--port", "0"])

    assert result.exit_code == 0
    assert shown["port"] != 0
    assert f"Simulated Graph tenant on http://127.0.0.1:{shown['port']}/v1.0" in result.stdout  # the real port
    assert f"TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT=http://127.0.0.1:{shown['port']} " in result.stdout


def test_simulator_serve_on_a_port_in_use_is_exit_1_naming_host_and_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(["simulator", "serve", "--port", str(port)])

    assert result.exit_code == 1  # 3 is kept for a safety limit stopping deletions
    assert one_line_error(result) == (f"teamsretention: simulator: cannot listen on 127.0.0.1:{port}: the port is "
                                      "already in use (another simulator or program listens there: stop it, or "
                                      "choose another with --port)")
    assert "Simulated Graph tenant" not in result.output


def test_simulator_serve_refuses_a_directory_as_scenario(tmp_path):
    result = invoke(["simulator", "serve", "--scenario", str(tmp_path)])
    assert result.exit_code == 2
    assert f"--scenario {tmp_path}: is a directory, not a scenario file" in result.stderr
    assert "Simulated Graph tenant" not in result.output


# --- --config given a directory, for every command that takes it ------------------------------------------------

CONFIG_COMMANDS = [["run", "--once"], ["run"], ["plan"], ["pause", "--reason", "check"], ["resume"]]


@pytest.mark.parametrize("command", CONFIG_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_config_given_a_directory_says_it_is_a_directory(tmp_path, command):
    folder = tmp_path / "etc"
    folder.mkdir()
    state = tmp_path / "state"

    by_flag = invoke([*command, "--config", str(folder)], {"TEAMSRETENTION_STATE__DIRECTORY": str(state)})
    by_variable = invoke(command, {"TEAMSRETENTION_CONFIG": str(folder), "TEAMSRETENTION_STATE__DIRECTORY": str(state)})

    for result, named_by in ((by_flag, ""), (by_variable, " (named by TEAMSRETENTION_CONFIG)")):
        assert result.exit_code == 2
        assert f"configuration file {folder}{named_by} is a directory, not a file" in result.stderr
    assert not state.exists()  # nothing created


def test_every_command_that_reads_settings_takes_config():
    commands = all_commands()
    lacks_config = {name for name, cmd in commands.items()
                    if not hasattr(cmd, "commands") and not any("--config" in p.opts for p in cmd.params)}
    assert lacks_config == {"demo", "simulator serve"}  # they bring their own tenant and settings
    assert {"run", "plan", "pause", "resume", "tag", "exemptions approve", "assignments add"} <= set(commands)


# --- --help -----------------------------------------------------------------------------------------------------

def all_commands() -> dict[str, Any]:
    """Every command and group of the CLI by its path ("" is teamsretention itself)."""
    found: dict[str, Any] = {}

    def walk(cmd: Any, path: str) -> None:
        found[path] = cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    return found


@pytest.mark.parametrize("command", sorted(all_commands()), ids=lambda c: c or "teamsretention")
def test_help_shows_flags_without_type_noise(command):
    result = invoke([*command.split(), "--help"])

    assert result.exit_code == 0
    for noise in ("<bool>", "BOOLEAN", "<str>", "<path>", "TEXT"):
        assert noise not in result.stdout, result.stdout
    assert "--help" in result.stdout and "Show this message and exit." in result.stdout


def help_row(text: str, option: str) -> list[str]:
    return next(line.split() for line in text.splitlines() if line.strip().startswith(option))


def test_flags_read_as_flags_and_options_name_their_value():
    run_help = invoke(["run", "--help"]).stdout
    assert help_row(run_help, "--once")[:2] == ["--once", "Run"]  # a flag: its help follows, no value
    assert help_row(run_help, "--allow-deletions")[:2] == ["--allow-deletions", "N"]
    assert help_row(run_help, "--at")[:2] == ["--at", "WHEN"]
    assert help_row(run_help, "-c, --config")[:3] == ["-c,", "--config", "FILE"]
    plan_help = invoke(["plan", "--help"]).stdout
    assert help_row(plan_help, "--json")[:2] == ["--json", "Machine-readable"]
    assert help_row(plan_help, "--all")[:2] == ["--all", "Also"]
    assert help_row(invoke(["--help"]).stdout, "--debug")[:2] == ["--debug", "Show"]


def test_the_package_states_its_licence_as_an_spdx_expression():
    import tomllib

    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"  # a string, not the table setuptools warns about
    assert project["license-files"] == ["LICENSE"]
    assert (root / "LICENSE").read_text().startswith("MIT License")
