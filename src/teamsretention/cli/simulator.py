"""``simulator serve``: a simulated Graph tenant on loopback, for trying teamsretention without a tenant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError, TeamsRetentionError
from ..settings.schedule import scheduled_time_on
from ..simulator import build_demo_tenant, load_scenario
from ..simulator.server import LOOPBACK_HOSTS, ListenError, RunningSimulator, serve_forever
from .common import guard, simulator_app

TIMEZONE = "Europe/Stockholm"


@simulator_app.command("serve")
@guard
def simulator_serve(
        scenario: Annotated[Path | None, typer.Option(
            "--scenario", metavar="FILE", help="Scenario file (TOML); default: the demo tenant.")] = None,
        port: Annotated[int, typer.Option(
            "--port", min=0, max=65535, metavar="PORT", help="TCP port to listen on (0: any free port).")] = 8765,
        host: Annotated[str, typer.Option(
            "--host", metavar="HOST", help="Loopback address only.")] = "127.0.0.1") -> None:
    """Serve a simulated Graph tenant on loopback until interrupted."""
    if scenario is not None and scenario.is_dir():
        raise ConfigError(f"--scenario {scenario}: is a directory, not a scenario file (TOML)")
    if host not in LOOPBACK_HOSTS:
        raise ConfigError(f"--host {host}: the simulator only listens on loopback, not on {host!r} "
                          f"(use one of {', '.join(sorted(LOOPBACK_HOSTS))})")
    if scenario is not None and not scenario.exists():
        raise ConfigError(f"--scenario {scenario}: no such file")
    epoch = scheduled_time_on(dt.date.today(), "0 6 * * *", TIMEZONE)
    try:
        model = load_scenario(scenario, epoch=epoch) if scenario else build_demo_tenant(epoch)
    except OSError as exc:
        raise ConfigError(f"--scenario {scenario}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc

    def banner(sim: RunningSimulator) -> None:
        typer.echo(f"Simulated Graph tenant on {sim.graph_url} (controls under /_simulator/).")
        typer.echo("Point teamsretention at it with:\n"
                   f"  TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT={sim.base_url} TEAMSRETENTION_GRAPH__AUTH=none "
                   "teamsretention plan")

    try:
        serve_forever(model, host=host, port=port, on_ready=banner)
    except ValueError as exc:  # not a loopback host
        raise ConfigError(f"--host {host}: {exc}") from None
    except ListenError as exc:
        raise TeamsRetentionError(f"simulator: {exc}") from None
