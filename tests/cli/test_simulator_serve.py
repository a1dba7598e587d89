"""`simulator serve` listens on loopback unless told otherwise, and refuses any address that is not
loopback: a simulated tenant (with `auth = none`) must never be reachable from the network."""

from __future__ import annotations

from types import SimpleNamespace

from typer.testing import CliRunner

from teamsretention.cli import app
from teamsretention.cli import simulator as simulator_cli


def test_simulator_serve_binds_to_loopback_by_default(monkeypatch):
    bound: list[tuple[str, int]] = []

    def listening(model, host, port, on_ready):  # the banner comes once the socket listens
        bound.append((host, port))
        on_ready(SimpleNamespace(base_url=f"http://{host}:{port}", graph_url=f"http://{host}:{port}/v1.0"))

    monkeypatch.setattr(simulator_cli, "serve_forever", listening)
    result = CliRunner().invoke(app, ["simulator", "serve"])
    assert result.exit_code == 0, result.output
    assert bound == [("127.0.0.1", 8765)]
    assert "Simulated Graph tenant on http://127.0.0.1:8765/v1.0" in result.output


def test_simulator_serve_refuses_a_non_loopback_address():
    result = CliRunner().invoke(app, ["simulator", "serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2
    assert "only listens on loopback, not on '0.0.0.0'" in result.output
    assert "--host 0.0.0.0" in result.output and "Simulated Graph tenant on" not in result.output
    assert "Traceback" not in result.output
