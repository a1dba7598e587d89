"""The [web] table: off by default, loopback unless the operator says otherwise, and every refusal names the
key and where its value came from, before anything is started or written."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from typer.testing import CliRunner

from teamsretention.cli import app
from teamsretention.cli.daemon import start_web
from teamsretention.errors import ConfigError
from teamsretention.settings import Settings, load_settings
from teamsretention.store import Database
from teamsretention.web import HealthServer


def test_the_endpoint_is_off_and_on_loopback_by_default() -> None:
    web = Settings().web
    assert (web.enabled, web.host, web.port, web.allow_remote) == (False, "127.0.0.1", 9464, False)


def test_a_non_loopback_host_is_refused_naming_the_key_and_its_file(tmp_path: Path) -> None:
    config = tmp_path / "teamsretention.toml"
    config.write_text('[web]\nenabled = true\nhost = "0.0.0.0"\n')
    with pytest.raises(ConfigError) as refused:
        load_settings(config, environ={})
    message = str(refused.value)
    assert message.startswith('web.host = "0.0.0.0" (from file ') and str(config) in message
    assert "web.allow_remote default" in message and "web.allow_remote = true" in message


def test_allow_remote_from_the_environment_lets_the_host_through(tmp_path: Path) -> None:
    config = tmp_path / "teamsretention.toml"
    config.write_text('[web]\nenabled = true\nhost = "0.0.0.0"\n')
    settings = load_settings(config, environ={"TEAMSRETENTION_WEB__ALLOW_REMOTE": "true"})
    assert settings.web.host == "0.0.0.0" and settings.web.allow_remote


@pytest.mark.parametrize(("key", "raw", "expected"), [
    ("PORT", "70000", "web.port = 70000 (from environment variable TEAMSRETENTION_WEB__PORT): must be a TCP port"),
    ("ALLOW_REMOTE", "yes", "web.allow_remote = yes (from environment variable TEAMSRETENTION_WEB__ALLOW_REMOTE)"),
])
def test_bad_values_name_the_key_and_the_variable(key: str, raw: str, expected: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(None, environ={f"TEAMSRETENTION_WEB__{key}": raw})
    assert expected in str(refused.value)


def test_run_refuses_a_remote_host_with_exit_2_and_touches_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {"XDG_STATE_HOME": str(state), "TEAMSRETENTION_WEB__ENABLED": "true",
           "TEAMSRETENTION_WEB__HOST": "192.0.2.10"}
    result = CliRunner().invoke(app, ["run"], env=env, catch_exceptions=False)
    assert result.exit_code == 2
    assert "web.host = 192.0.2.10 (from environment variable TEAMSRETENTION_WEB__HOST" in result.output
    assert "Traceback" not in result.output
    assert not state.exists()


def test_a_port_already_taken_is_a_configuration_error_naming_it(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/state.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as refused:
            HealthServer(db, host="127.0.0.1", port=port, clock=lambda: None,  # type: ignore[arg-type,return-value]
                         origin="web.port from file teamsretention.toml")
    db.dispose()
    assert f"127.0.0.1:{port} (web.port from file teamsretention.toml)" in str(refused.value)
    assert "web.enabled = false" in str(refused.value)


def test_the_daemon_starts_the_endpoint_only_when_enabled_and_names_a_taken_port(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/state.db")
    app_ = SimpleNamespace(db=db, gateway=object())
    assert start_web(Settings(), app_) is None  # type: ignore[arg-type]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings().with_overrides(web={"enabled": True, "port": port})
        with pytest.raises(ConfigError) as refused:
            start_web(settings, app_)  # type: ignore[arg-type]
    assert f"127.0.0.1:{port} (web.host from default, web.port from override)" in str(refused.value)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    server = start_web(Settings().with_overrides(web={"enabled": True, "port": free}), app_)  # type: ignore[arg-type]
    assert server is not None
    try:
        assert httpx.get(f"http://127.0.0.1:{free}/healthz").status_code == 200
    finally:
        server.stop()
        db.dispose()
