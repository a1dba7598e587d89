"""The [ha] table: a lease that standbys can take over in minutes by default, bounds that name the key and
where its value came from, and `run --now` only for the daemon."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamsretention.cli import app
from teamsretention.errors import ConfigError
from teamsretention.settings import Settings, load_settings


def test_the_defaults_are_a_five_minute_lease_and_a_retry_every_minute() -> None:
    ha = Settings().ha
    assert (ha.lease_seconds, ha.standby_retry_seconds) == (300, 60)


@pytest.mark.parametrize(("toml", "expected"), [
    ("lease_seconds = 1", "ha.lease_seconds = 1 (from file "),
    ("lease_seconds = 86400", "must be from 3 to 7200 seconds"),
    ("standby_retry_seconds = 0", "ha.standby_retry_seconds = 0 (from file "),
])
def test_values_out_of_range_name_the_key_and_the_file(tmp_path: Path, toml: str, expected: str) -> None:
    config = tmp_path / "teamsretention.toml"
    config.write_text(f"[ha]\n{toml}\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(config, environ={})
    assert expected in str(refused.value) and str(config) in str(refused.value)


def test_the_lease_comes_from_the_environment_too() -> None:
    settings = load_settings(None, environ={"TEAMSRETENTION_HA__LEASE_SECONDS": "30"})
    assert settings.ha.lease_seconds == 30


def test_now_goes_with_the_daemon_not_with_once(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--once", "--now"], env={"XDG_STATE_HOME": str(tmp_path / "state")})
    assert result.exit_code == 2
    assert "--now goes with the daemon" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "state").exists()
