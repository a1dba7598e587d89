"""An inventory that failed never reads like a tenant with nothing to do: the first line says so and names the
Graph endpoint, the exit code is 1, and the run on record says the inventory failed.

Against a loopback port nothing listens on (a real refused connection) and against the simulator with its
``/users/delta`` answering 503.
"""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from teamsretention.cli import app
from teamsretention.simulator.knobs import FailRule
from teamsretention.simulator.scenario import load_scenario
from teamsretention.simulator.server import serve
from teamsretention.store import Database, runs
from tests.output import assert_no_traceback

SCENARIO = """
[tenant]
domain = "contoso.example"
seed = 5

[[users]]
key = "anna"
display_name = "Anna Berg"

[[recordings]]
key = "old"
organizer = "anna"
subject = "Quarterly review"
age_days = 40
"""


@pytest.fixture
def sim():
    with serve(load_scenario(SCENARIO, epoch=dt.datetime.now(dt.UTC).replace(microsecond=0))) as running:
        yield running


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def invoke(args: list[str], endpoint: str, state: Path) -> Any:
    env = {"TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT": endpoint, "TEAMSRETENTION_GRAPH__AUTH": "none",
           "TEAMSRETENTION_STATE__DIRECTORY": str(state)}
    result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    assert_no_traceback(result)
    assert "nothing to do" not in result.output.lower()
    return result


def last_run(state: Path) -> Any:
    db = Database(f"sqlite:///{state}/teamsretention.db")
    try:
        return runs.list_all(db)[-1]
    finally:
        db.dispose()


@pytest.mark.parametrize("command", [["plan"], ["run", "--once"]])
def test_an_unreachable_graph_endpoint_says_so_first_and_names_it(tmp_path, command):
    port = closed_port()
    endpoint = f"http://127.0.0.1:{port}"

    result = invoke(command, endpoint, tmp_path)

    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"INVENTORY FAILED: Graph at {endpoint}/v1.0 could not be read (users: ")
    assert f"could not reach {endpoint}/v1.0/users/delta" in first
    assert "Nothing to warn about or delete" not in result.output
    assert "not a picture of the tenant" in first and "run again" in first
    run = last_run(tmp_path)
    assert run.stats["inventory"] == "failed" and run.exit_code == 1 and run.stats["tracked"] == 0


def test_the_users_feed_failing_on_a_first_cycle_is_a_failed_inventory(sim, tmp_path):
    sim.model.knobs.fail_paths = [FailRule(pattern=r"/users/delta", status=503)]

    result = invoke(["plan"], sim.base_url, tmp_path)

    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"INVENTORY FAILED: Graph at {sim.base_url}/v1.0 could not be read (users: Graph "
                            "answered 503")
    assert "No recordings could be listed: the inventory failed" in result.stdout
    assert "0 recordings tracked (inventory failed: not the whole tenant)" in result.stdout
    assert "Nothing to warn about or delete" not in result.output
    assert sim.model.mail_log == [] and sim.model.recycle_bin == {}


def test_the_users_feed_failing_later_is_an_incomplete_inventory_said_before_the_plan(sim, tmp_path):
    assert invoke(["plan"], sim.base_url, tmp_path).exit_code == 0  # the drives are known from here on
    sim.model.knobs.fail_paths = [FailRule(pattern=r"/users/delta", status=503)]

    result = invoke(["plan"], sim.base_url, tmp_path)

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"INVENTORY INCOMPLETE against Graph at {sim.base_url}/v1.0: the directory could "
                               "not be fully read (users: Graph answered 503")
    assert lines[1].startswith("Plan for ")
    assert any("would warn" in line and "Quarterly review" in line for line in lines)  # what was read is planned
    assert "(inventory incomplete: not the whole tenant)" in result.stdout
    assert last_run(tmp_path).stats["inventory"] == "incomplete"
