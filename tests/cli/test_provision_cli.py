"""``teamsretention provision`` as an admin runs it, against the simulator on loopback: the lists' URLs printed,
a second run that says nothing changed, a missing key or a mistyped column named with a non-zero exit, and no
state database created."""

from __future__ import annotations

import datetime as dt
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

[records_site]
path = "/sites/records"
display_name = "Records"
"""


@pytest.fixture
def sim():
    with serve(load_scenario(SCENARIO, epoch=dt.datetime.now(dt.UTC).replace(microsecond=0))) as running:
        yield running


def env_for(sim, state: Path, **extra: str) -> dict[str, str]:
    env = {"TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT": sim.base_url, "TEAMSRETENTION_GRAPH__AUTH": "none",
           "TEAMSRETENTION_STATE__DIRECTORY": str(state), "TEAMSRETENTION_LISTS__SITE": SITE}
    env.update(extra)
    return env


def invoke(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(app, args, env=env, catch_exceptions=False)


def test_provision_creates_both_lists_prints_their_urls_and_a_second_run_changes_nothing(sim, tmp_path):
    first = invoke(["provision"], env_for(sim, tmp_path / "state"))

    assert first.exit_code == 0, first.output
    assert f"Created list 'Assignments' with 5 columns: {SITE}/Lists/Assignments" in first.output
    assert f"{SITE}/Lists/Retention%20requests" in first.output
    assert sorted(x.display_name for x in sim.model.lists.values()) == ["Assignments", "Retention requests"]
    assert not (tmp_path / "state").exists()  # never creates a store

    second = invoke(["provision"], env_for(sim, tmp_path / "state"))

    assert second.exit_code == 0
    assert "Nothing changed: both lists already exist with every column." in second.output
    assert f"List 'Assignments' is up to date: {SITE}/Lists/Assignments" in second.output
    assert len(sim.model.lists) == 2


def test_provision_names_a_mistyped_column_and_exits_2(sim, tmp_path):
    sim.model.add_list(sim.model.records_site_id, "Assignments", [
        {"name": "AssignmentStatus", "displayName": "Status", "text": {}}])

    result = invoke(["provision"], env_for(sim, tmp_path))

    assert result.exit_code == 2
    assert ("list 'Assignments', column 'AssignmentStatus' ('Status'): it is a text column; it should be Choice"
            in result.stderr)
    assert "left as they are" in result.stderr
    assert "Retention requests" in result.stdout  # the other list was still created


def test_provision_without_a_site_names_the_key_before_any_graph_call(sim, tmp_path):
    env = env_for(sim, tmp_path)
    del env["TEAMSRETENTION_LISTS__SITE"]
    sim.model.requests.reset()

    result = invoke(["provision"], env)

    assert result.exit_code == 2
    assert "lists.site is not set" in result.stderr and "Traceback" not in result.output
    assert sim.model.requests.total_requests == 0


def test_provision_on_a_site_graph_does_not_know_names_the_variable(sim, tmp_path):
    result = invoke(["provision"], env_for(sim, tmp_path, TEAMSRETENTION_LISTS__SITE=SITE + "-old"))

    assert result.exit_code == 2
    assert f"lists.site = '{SITE}-old' (environment variable TEAMSRETENTION_LISTS__SITE)" in result.stderr
    assert sim.model.lists == {}


def test_provision_refused_by_graph_says_which_grant_is_missing(sim, tmp_path):
    sim.model.knobs.update({"fail_paths": [{"pattern": "/lists$", "status": 403, "method": "POST"}]})

    result = invoke(["provision"], env_for(sim, tmp_path))

    assert result.exit_code == 1
    assert "Graph refused (403 accessDenied" in result.stderr and "Sites.Selected" in result.stderr
    assert "fullcontrol" in result.stderr and "Traceback" not in result.output
    assert sim.model.lists == {}
