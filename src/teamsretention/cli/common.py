"""What every command shares: the Typer app, common options, loading settings, and errors as one line.

Exit codes (design §5): 0 ok; 1 the cycle did not fully succeed (or the state store failed at run time:
locked, damaged, unreachable); 2 bad usage or configuration, detected before any Graph call (also a state
store that is missing for a command that never creates one, or that cannot be used where it is configured);
3 a safety limit stopped deletions (some or all due deletions were held back).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from ..errors import ConfigError, StoreError, TeamsRetentionError
from ..logging import configure_logging
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


def load(config: Path | None) -> Settings:
    configure_logging()
    return load_settings(config)


def guard(fn: Callable[P, R]) -> Callable[P, R]:
    """Map our errors onto exit codes with a one-line message (never a traceback, never a secret)."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            raise fail(2, f"configuration error:\n{exc}") from None
        except StoreError as exc:  # the message names the store; exit 2 when it is configuration, 1 otherwise
            raise fail(exc.exit_code, str(exc)) from None
        except TeamsRetentionError as exc:
            raise fail(1, str(exc)) from None
    return wrapper


def echo_lines(lines: list[str], *, err: bool = False) -> None:
    for line in lines:
        typer.echo(line, err=err)
