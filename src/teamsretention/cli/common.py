"""What every command shares: the Typer app, common options, loading settings, and errors as one line.

Exit codes (design §5): 0 ok; 1 the cycle did not fully succeed (also when Ctrl-C or SIGTERM stopped it; or
the state store failed at run time: locked, damaged, unreachable); 2 bad usage or configuration, detected
before any Graph call (also a state store that is missing for a command that never creates one, or that
cannot be used where it is configured);
3 a safety limit stopped deletions (some or all due deletions were held back).
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from ..errors import ConfigError, SignInError, StoreError, TeamsRetentionError
from ..logging import configure_logging, json_for_format, redact
from ..settings import Settings, load_settings

# rich_markup_mode=None: click's plain help. Typer's rich help labels every flag (even --help) with "<bool>",
# as if it took a value; the plain one lists flags bare and options with their metavar.
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_enable=False,
                  help="Governs Microsoft Teams meeting recordings through Microsoft Graph.")
simulator_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False,
                            help="The built-in Graph tenant simulator.")
app.add_typer(simulator_app, name="simulator")

def _argument_type(self: typer.core.TyperArgument, ctx: Any) -> str | None:
    """An argument with a metavar (CODE, RECORDING, ID) is named by it; typer would add ``<str>`` after it."""
    assert _typer_argument_type is not None  # only installed where typer has the hook
    return None if self.metavar else _typer_argument_type(self, ctx)


# typer has no switch for the type label of an argument in help; the test of every command's help guards this.
_typer_argument_type = getattr(typer.core.TyperArgument, "display_type_rich", None)
if _typer_argument_type is not None:  # typer >= 0.29, as pyproject requires
    typer.core.TyperArgument.display_type_rich = _argument_type  # type: ignore[method-assign,assignment]

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", metavar="FILE", help="TOML configuration file "
                                                "(default: $TEAMSRETENTION_CONFIG, else built-in defaults).")]
AtOpt = Annotated[str | None, typer.Option("--at", metavar="WHEN", help="An ISO date (that day's scheduled cycle "
                                           "time) or an ISO datetime with an offset or Z.")]


class _Options:
    debug = False  # --debug: errors show what the libraries said, logs go down to DEBUG
    quiet = False  # --quiet: also no live progress display


options = _Options()
P = ParamSpec("P")
R = TypeVar("R")


def fail(code: int, message: str) -> typer.Exit:
    typer.echo(f"teamsretention: {message}", err=True)
    return typer.Exit(code)


# --verbose / --quiet of this invocation: the log level they set for every command, over [logging] level.
_log_level_flag: str | None = None


@app.callback()
def _global_options(
        debug: Annotated[bool, typer.Option(
            "--debug", help="Show the detail behind an error (the identity library's answer, the traceback of an "
            "unexpected failure) and log at DEBUG level.")] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at debug level (over logging.level).")]
        = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings and errors only (over "
                                            "logging.level) and show no live progress; the command's own output "
                                            "still prints.")] = False,
        ) -> None:
    """Governs Microsoft Teams meeting recordings through Microsoft Graph."""
    global _log_level_flag
    options.debug, options.quiet = debug, quiet
    if verbose and quiet:
        raise fail(2, "--verbose and --quiet contradict each other: give one of them")
    _log_level_flag = "debug" if verbose else "warning" if quiet else None


def log_level(configured: str) -> str:
    """The level this invocation logs at: --verbose / --quiet, else ``configured``."""
    return _log_level_flag or ("debug" if options.debug else configured)


def load(config: Path | None, *, prints_report: bool = False) -> Settings:
    """Settings, and logging configured from them. ``prints_report``: the command prints what the cycle did
    (``run --once``, ``plan``), so on a terminal its info lines would only repeat it: unless a level is set,
    it logs warnings and errors there (JSON lines off a terminal keep info)."""
    configure_logging(log_level("debug" if options.debug else "info"))
    settings = load_settings(config)
    logs = settings.logging
    json = json_for_format(logs.format)
    on_terminal = json is False or (json is None and sys.stderr.isatty())
    default = "warning" if prints_report and on_terminal else "info"
    configure_logging(log_level(logs.level or default), json, personal_data=logs.personal_data)
    return settings


def _detail(text: str) -> None:
    """With --debug: what lies behind a one-line error, secrets masked."""
    if options.debug and text:
        for line in redact(text).rstrip().splitlines():
            typer.echo(f"  | {line}", err=True)


def guard(fn: Callable[P, R]) -> Callable[P, R]:
    """Map our errors onto exit codes with a one-line message (never a traceback, never a secret). ``--debug``
    adds the detail behind it."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            raise fail(2, f"configuration error:\n{exc}") from None
        except StoreError as exc:  # the message names the store; exit 2 when it is configuration, 1 otherwise
            raise fail(exc.exit_code, str(exc)) from None
        except SignInError as exc:
            hint = "" if options.debug else " (--debug shows the identity library's full answer)"
            error = fail(1, f"{exc}{hint}")
            _detail(exc.detail)
            raise error from None
        except TeamsRetentionError as exc:
            raise fail(1, str(exc)) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # exit codes and usage errors: typer prints and exits as it should
        except Exception as exc:  # noqa: BLE001 - a failure we did not foresee is still one line, not a traceback
            hint = "" if options.debug else "; run again with --debug for the traceback and report it"
            error = fail(1, f"unexpected error: {type(exc).__name__}: {redact(str(exc))}{hint}")
            _detail("".join(traceback.format_exception(exc)))
            raise error from None
    return wrapper


def echo_lines(lines: list[str], *, err: bool = False) -> None:
    for line in lines:
        typer.echo(line, err=err)
