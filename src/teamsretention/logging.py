"""Structured logs for operators: JSON lines when not on a terminal, a console renderer when on one.

structlog and the standard library (azure-identity, httpx, APScheduler) end in the same handler, and
every line passes :func:`redact_secrets` last, just before rendering, so a secret never reaches output:
values of secret-sounding keys are masked, passwords in URLs are masked, and any text containing a
value given to :func:`register_secret` (the client secret, a database password) is masked.

Personal data (``[logging] personal_data``): call sites put names, titles and mail addresses only under
the keys in :data:`PERSONAL_KEYS` (``recording``, ``organizer``, ``recipient``, ...), next to the ids
(``recording_id``, ``organizer_id``). With ``personal_data = false`` :class:`PersonalDataFilter` drops
those keys and replaces any mail address left in free text, so a line carries ids and rule codes only.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.stdlib import ProcessorFormatter

from .errors import ConfigError

MASK = "***"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL}
# Keys whose values are secrets whatever they hold (matched anywhere in the key, any case).
_SECRET_KEY = re.compile(r"secret|passw(or)?d|pwd|token|authorization|api_?key|credential|cookie", re.IGNORECASE)
# ...except keys naming where a secret is kept: operators need those paths in the logs.
_NOT_SECRET_KEY = re.compile(r"(_file|_path|_env)$", re.IGNORECASE)
# scheme://user:password@host -> scheme://user:***@host (database URLs, proxies).
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^\s:/@]*:)(?P<pw>[^\s@/]+)(?P<at>@)", re.IGNORECASE)
# ...?password=x&access_token=y: query parameters that carry credentials (SAS signatures included).
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&](?:password|passwd|secret|client_secret|access_token|refresh_token|token|sig|code)=)"
    r"(?P<value>[^&#\s]+)", re.IGNORECASE)
# Registered secrets shorter than this are masked only where a whole value equals them: replacing
# short strings inside every message would mangle logs without protecting anything real.
_MIN_SUBSTRING_SECRET = 4
_SECRETS: set[str] = set()
# Libraries that log every request at INFO: useful only when debugging.
_CHATTY_LOGGERS = ("httpx", "httpcore", "azure.core.pipeline.policies.http_logging_policy", "apscheduler",
                   "alembic")
# Libraries that log a WARNING for a failure they also raise: the raised error is reported once, in our words
# (a failed sign-in: graph.signin); their own line shows only at DEBUG.
_RAISING_LOGGERS = ("azure.identity",)
FORMATS = ("auto", "console", "json")
# Where log lines carry personal data: names, titles, mail addresses (never ids). Call sites use these keys.
PERSONAL_KEYS = frozenset({
    "recording", "recordings", "recording_name", "title", "subject", "location", "unsure",
    "organizer", "organizer_name", "organizer_upn", "organizer_mail", "display_name", "upn", "mail",
    "recipient", "recipients", "owner", "owners", "requested_by", "actor",
})
WITHHELD_ADDRESS = "<address withheld>"
_MAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in a log line from now on (None and "" are ignored)."""
    if value:
        _SECRETS.add(value)


def clear_secrets() -> None:
    """Forget every registered secret (for tests and for re-configuration)."""
    _SECRETS.clear()


def _scrub_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if text == secret:
            return MASK
        if len(secret) >= _MIN_SUBSTRING_SECRET and secret in text:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['at']}", text)
    return _QUERY_SECRET.sub(lambda m: f"{m['head']}{MASK}", text)


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return _scrub_text(value, secrets)
    if isinstance(value, dict):
        return {key: _scrub_item(key, item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, BaseException):
        # Rendered with repr() otherwise, message included: an error may quote a connection string.
        return _scrub_text(f"{type(value).__name__}: {value}", secrets)
    return value


def _scrub_item(key: Any, value: Any, secrets: list[str]) -> Any:
    if (isinstance(key, str) and _SECRET_KEY.search(key) and not _NOT_SECRET_KEY.search(key)
            and value not in (None, "") and not isinstance(value, bool)):
        return MASK  # None, "" and booleans stay: "not set" tells an operator something, safely
    return _scrub(value, secrets)


def redact(text: str) -> str:
    """``text`` with every registered secret and every URL password masked (for error details shown on demand)."""
    return _scrub_text(text, sorted(_SECRETS, key=len, reverse=True))


def redact_secrets(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """structlog processor: a copy of ``event_dict`` with every secret masked. Leaves the input alone."""
    secrets = sorted(_SECRETS, key=len, reverse=True)  # longest first: a secret may contain another
    return {key: _scrub_item(key, value, secrets) for key, value in event_dict.items()}


class PersonalDataFilter:
    """structlog processor. ``keep=True`` passes lines through; ``keep=False`` drops every key in
    :data:`PERSONAL_KEYS` (also inside nested tables) and replaces mail addresses in any remaining text (a
    Graph error that quotes a mailbox, a problem naming a recipient), leaving ids, rule codes and counts."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
        if self.keep:
            return event_dict
        return {key: _impersonal(value) for key, value in event_dict.items() if key not in PERSONAL_KEYS}


def _impersonal(value: Any) -> Any:
    if isinstance(value, str):
        return _MAIL_ADDRESS.sub(WITHHELD_ADDRESS, value)
    if isinstance(value, dict):
        return {key: _impersonal(item) for key, item in value.items() if key not in PERSONAL_KEYS}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_impersonal(item) for item in value]
    if isinstance(value, BaseException):
        return _impersonal(f"{type(value).__name__}: {value}")
    return value


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each line, not at configuration time.

    Test runners (pytest, typer's CliRunner) swap ``sys.stderr`` and close the old one: a handler
    holding on to it would fail with "I/O operation on closed file" later.
    """

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # StreamHandler.__init__ and setStream assign it; there is nothing to keep


def _parse_level(level: str) -> int:
    try:
        return _LEVELS[level.lower()]
    except KeyError:
        raise ConfigError(f"log level {level!r} is not one of {', '.join(_LEVELS)}") from None


def json_for_format(log_format: str) -> bool | None:
    """``[logging] format`` as :func:`configure_logging`'s ``json``: auto (None), console, json."""
    if log_format not in FORMATS:
        raise ConfigError(f"log format {log_format!r} is not one of {', '.join(FORMATS)}")
    return None if log_format == "auto" else log_format == "json"


def configure_logging(level: str = "info", json: bool | None = None, stream: TextIO | None = None, *,
                      personal_data: bool = True) -> None:
    """Send structlog and standard-library logs to ``stream`` (default stderr) at ``level``.

    ``json=None`` picks JSON lines unless ``stream`` is a terminal. ``personal_data=False`` keeps names,
    titles and mail addresses out of every line (see :class:`PersonalDataFilter`). Safe to call again: the
    handler installed by the previous call is replaced, handlers installed by others are left alone.
    """
    numeric = _parse_level(level)
    out = stream if stream is not None else sys.stderr
    if json is None:
        json = not (hasattr(out, "isatty") and out.isatty())
    renderer: Any = (structlog.processors.JSONRenderer() if json
                     else structlog.dev.ConsoleRenderer(colors=out.isatty()))
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    shared: list[Any] = [structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, timestamper]

    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderrHandler()
    handler.set_name("teamsretention")
    handler.setFormatter(ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            ProcessorFormatter.remove_processors_meta,
            # Tracebacks become text before redaction, so an exception message cannot slip past it.
            structlog.processors.format_exc_info,
            PersonalDataFilter(keep=personal_data),
            redact_secrets,
            renderer,
        ],
    ))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "teamsretention"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(numeric if numeric <= logging.DEBUG else logging.WARNING)
    for name in _RAISING_LOGGERS:
        logging.getLogger(name).setLevel(numeric if numeric <= logging.DEBUG else logging.ERROR)

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,  # run_id, recording_id bound by the cycle
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,  # tests and the CLI configure more than once per process
    )
