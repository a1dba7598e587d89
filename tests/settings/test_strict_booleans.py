"""Switches are true or false, nothing else, in the file (TOML booleans) and in the environment ("true" / "false",
any case): ``enforce = "yes"`` must not turn deletions on. Each refusal names the key and where it came from."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamsretention.cli import app
from teamsretention.errors import ConfigError
from teamsretention.settings import SECTIONS, load_settings
from tests.output import assert_no_traceback

SWITCHES = sorted(f"{section}.{key}" for section, model in SECTIONS.items()
                  for key, field in model.model_fields.items() if field.annotation is bool)


def test_the_switches_are_the_ones_we_expect():
    # A new boolean setting is strict too, without anything to add: the check lives in the sections' base class.
    assert {"policy.enforce", "scope.onedrive", "scope.channel_sites", "recognition.confirm_with_beta"} <= set(SWITCHES)


@pytest.mark.parametrize("written", ['"yes"', '"true"', '"no"', "1", "0", '"on"'])
@pytest.mark.parametrize("dotted", SWITCHES)
def test_the_file_takes_only_toml_booleans(tmp_path: Path, dotted: str, written: str) -> None:
    section, key = dotted.split(".")
    path = tmp_path / "teamsretention.toml"
    path.write_text(f"[{section}]\n{key} = {written}\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})

    assert str(caught.value) == (f"{dotted} = {written} (from file {path}): must be true or false (a TOML boolean, "
                                 "without quotes)")


@pytest.mark.parametrize("value", ["yes", "no", "1", "0", "on", "off", "y", "enabled", ""])
def test_the_environment_takes_only_true_or_false(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={"TEAMSRETENTION_POLICY__ENFORCE": value})

    assert str(caught.value) == (f"policy.enforce = {value} (from environment variable "
                                 "TEAMSRETENTION_POLICY__ENFORCE): must be true or false")


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("TRUE", True), (" False ", False), ("false", False)])
def test_true_and_false_in_any_case_are_read(value: str, expected: bool) -> None:
    settings = load_settings(None, environ={"TEAMSRETENTION_POLICY__ENFORCE": value,
                                            "TEAMSRETENTION_SCOPE__CHANNEL_SITES": value})
    assert settings.policy.enforce is expected and settings.scope.channel_sites is expected


def test_toml_booleans_are_read(tmp_path: Path) -> None:
    path = tmp_path / "teamsretention.toml"
    path.write_text("[policy]\nenforce = true\n[scope]\nonedrive = false\n")
    settings = load_settings(path, environ={})
    assert settings.policy.enforce is True and settings.scope.onedrive is False


def test_a_refused_switch_stops_the_command_before_anything_happens(tmp_path: Path) -> None:
    config = tmp_path / "teamsretention.toml"
    config.write_text('[policy]\nenforce = "yes"\n')
    state = tmp_path / "state"
    env = {"TEAMSRETENTION_STATE__DIRECTORY": str(state), "TEAMSRETENTION_SCOPE__ONEDRIVE": "on"}

    result = CliRunner().invoke(app, ["run", "--once", "--config", str(config)], env=env, catch_exceptions=False)

    assert result.exit_code == 2
    assert_no_traceback(result)
    assert f'policy.enforce = "yes" (from file {config}): must be true or false' in result.stderr
    assert ("scope.onedrive = on (from environment variable TEAMSRETENTION_SCOPE__ONEDRIVE): must be true or "
            "false") in result.stderr
    assert not state.exists()  # no store, no run, no Graph call
