"""Command line: parse, wire, run. Exit codes (design §5): 0 ok; 1 the cycle did not fully succeed;
2 bad usage or configuration, detected before any Graph call; 3 a safety limit stopped deletions."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .errors import ConfigError, StoreError, TeamsRetentionError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Governs Microsoft Teams meeting recordings through Microsoft Graph.")
simulator_app = typer.Typer(no_args_is_help=True, help="The built-in Graph tenant simulator.")
app.add_typer(simulator_app, name="simulator")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML configuration file "
                                                "(default: $TEAMSRETENTION_CONFIG, else built-in defaults).")]
AtOpt = Annotated[str | None, typer.Option("--at", help="An ISO date (that day's scheduled cycle time) or an ISO "
                                           "datetime with an offset or Z.")]


def _fail(code: int, message: str) -> typer.Exit:
    typer.echo(f"teamsretention: {message}", err=True)
    return typer.Exit(code)


def _load(config: Path | None) -> Any:
    from .logging import configure_logging
    from .settings import load_settings

    configure_logging()
    return load_settings(config)


def _guard(fn: Any) -> Any:
    """Map our errors onto exit codes with a one-line message (never a traceback, never a secret)."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            raise _fail(2, f"configuration error:\n{exc}") from None
        except StoreError as exc:
            raise _fail(1, f"state database: {exc}") from None
        except TeamsRetentionError as exc:
            raise _fail(1, str(exc)) from None
    return wrapper


@app.command()
@_guard
def run(config: ConfigOpt = None,
        once: Annotated[bool, typer.Option("--once", help="Run one cycle now and exit.")] = False,
        at: AtOpt = None,
        allow_deletions: Annotated[int | None, typer.Option(
            "--allow-deletions", min=0, help="With --once: allow up to N deletions this cycle (audited).")] = None,
        ) -> None:
    """Run the daemon (one cycle per schedule), or one cycle with --once."""
    settings = _load(config)
    if not once:
        if at or allow_deletions is not None:
            raise ConfigError("--at and --allow-deletions go with --once")
        from .daemon import run_daemon

        raise typer.Exit(asyncio.run(run_daemon(settings)))
    from .runner import run_once

    report = asyncio.run(run_once(settings, at=at, allow_deletions=allow_deletions))
    from .render_cli import print_cycle

    print_cycle(report)
    raise typer.Exit(report.exit_code)


@app.command()
@_guard
def plan(config: ConfigOpt = None, at: AtOpt = None,
         as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
         show_all: Annotated[bool, typer.Option("--all", help="Also list recordings that are simply kept.")]
         = False) -> None:
    """Show what the next cycle would do (or the cycle at --at), changing nothing in the tenant."""
    settings = _load(config)
    from .render_cli import print_plan
    from .runner import run_plan

    report = asyncio.run(run_plan(settings, at=at, keep_all=show_all or as_json))
    print_plan(report, as_json=as_json)
    raise typer.Exit(1 if report.exit_code == 1 else 0)


@app.command()
@_guard
def pause(reason: Annotated[str, typer.Option("--reason", help="Why deletions are paused (audited).")],
          config: ConfigOpt = None,
          by: Annotated[str, typer.Option("--by", help="Who pauses (audited).")] = "") -> None:
    """Stop deletions (warnings continue) until `resume`, without restarting the daemon."""
    from .runner import set_pause

    settings = _load(config)
    changed = set_pause(settings, True, reason=reason, by=by)
    typer.echo("Deletions paused." if changed else "Deletions were already paused.")


@app.command()
@_guard
def resume(config: ConfigOpt = None,
           by: Annotated[str, typer.Option("--by", help="Who resumes (audited).")] = "") -> None:
    """Allow deletions again after `pause`."""
    from .runner import set_pause

    settings = _load(config)
    changed = set_pause(settings, False, reason=None, by=by)
    typer.echo("Deletions resumed." if changed else "Deletions were not paused.")


@app.command()
@_guard
def demo(days: Annotated[int, typer.Option(min=1, max=120, help="Days to simulate.")] = 40,
         state_dir: Annotated[Path | None, typer.Option(
             "--state-dir", help="Keep the demo's database, audit trail and mails here (default: a temporary "
             "directory).")] = None) -> None:
    """Govern the built-in simulated tenant for 40 days, one cycle a day, and summarise."""
    from .demo import run_demo

    raise typer.Exit(run_demo(days=days, state_dir=state_dir))


@simulator_app.command("serve")
@_guard
def simulator_serve(
        scenario: Annotated[Path | None, typer.Option("--scenario", help="Scenario file (TOML); default: the "
                                                      "demo tenant.")] = None,
        port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8765,
        host: Annotated[str, typer.Option("--host", help="Loopback address only.")] = "127.0.0.1") -> None:
    """Serve a simulated Graph tenant on loopback until interrupted."""
    from .demo import serve_simulator

    serve_simulator(scenario=scenario, host=host, port=port)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def dumps(data: Any) -> str:
    return json.dumps(data, default=_json_default, indent=2, ensure_ascii=False)
