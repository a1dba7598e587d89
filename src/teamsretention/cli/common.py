"""What every command shares: the Typer app, common options, loading settings, and errors as one line.

Exit codes (design §5): 0 ok; 1 the cycle did not fully succeed; 2 bad usage or configuration, detected
before any Graph call; 3 a safety limit stopped deletions.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from ..errors import ConfigError, StoreError, TeamsRetentionError
from ..logging import configure_logging, json_for_format
from ..settings import Settings, load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Governs Microsoft Teams meeting recordings through Microsoft Graph.")
simulator_app = typer.Typer(no_args_is_help=True, help="The built-in Graph tenant simulator.")
app.add_typer(simulator_app, name="simulator")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML configuration file "
                                                "(default: $TEAMSRETENTION_CONFIG, else built-in defaults).")]
AtOpt = Annotated[str | None, typer.Option("--at", help="An ISO date (that day's scheduled cycle time) or an ISO "
                                           "datetime with an offset or Z.")]

P = ParamSpec("P")
R = TypeVar("R")


def fail(code: int, message: str) -> typer.Exit:
    typer.echo(f"teamsretention: {message}", err=True)
    return typer.Exit(code)


# --verbose / --quiet of this invocation: the log level they set for every command, over [logging] level.
_log_level_flag: str | None = None


@app.callback()
def _global_options(
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at debug level (over logging.level).")]
        = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings and errors only (over "
                                            "logging.level); the command's own output still prints.")] = False,
        ) -> None:
    """Governs Microsoft Teams meeting recordings through Microsoft Graph."""
    global _log_level_flag
    if verbose and quiet:
        raise fail(2, "--verbose and --quiet contradict each other: give one of them")
    _log_level_flag = "debug" if verbose else "warning" if quiet else None


def log_level(configured: str) -> str:
    """The level this invocation logs at: --verbose / --quiet, else ``configured``."""
    return _log_level_flag or configured


def load(config: Path | None, *, prints_report: bool = False) -> Settings:
    """Settings, and logging configured from them. ``prints_report``: the command prints what the cycle did
    (``run --once``, ``plan``), so on a terminal its info lines would only repeat it: unless a level is set,
    it logs warnings and errors there (JSON lines off a terminal keep info)."""
    configure_logging(log_level("info"))
    settings = load_settings(config)
    logs = settings.logging
    json = json_for_format(logs.format)
    on_terminal = json is False or (json is None and sys.stderr.isatty())
    default = "warning" if prints_report and on_terminal else "info"
    configure_logging(log_level(logs.level or default), json, personal_data=logs.personal_data)
    return settings


def guard(fn: Callable[P, R]) -> Callable[P, R]:
    """Map our errors onto exit codes with a one-line message (never a traceback, never a secret)."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            raise fail(2, f"configuration error:\n{exc}") from None
        except StoreError as exc:
            raise fail(1, f"state database: {exc}") from None
        except TeamsRetentionError as exc:
            raise fail(1, str(exc)) from None
    return wrapper


def echo_lines(lines: list[str], *, err: bool = False) -> None:
    for line in lines:
        typer.echo(line, err=err)
