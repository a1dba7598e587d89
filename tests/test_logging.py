"""Log output as an operator reads it: JSON lines off a terminal, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from teamsretention.errors import ConfigError
from teamsretention.logging import clear_secrets, configure_logging, redact_secrets, register_secret


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "apscheduler",
                                                         "azure.core.pipeline.policies.http_logging_policy")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in chatty.items():
        logging.getLogger(name).setLevel(old)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    clear_secrets()


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_when_not_on_a_terminal() -> None:
    out = io.StringIO()
    configure_logging("info", stream=out)
    structlog.contextvars.bind_contextvars(run_id="run-1")
    structlog.get_logger("teamsretention.service").info("cycle finished", deleted=3, warned=5)
    [line] = json_lines(out)
    assert line["event"] == "cycle finished" and line["level"] == "info"
    assert (line["deleted"], line["warned"], line["run_id"]) == (3, 5, "run-1")
    assert line["logger"] == "teamsretention.service" and line["timestamp"].endswith("Z")


def test_console_output_on_a_terminal() -> None:
    out = FakeTerminal()
    configure_logging("info", stream=out)
    structlog.get_logger("t").info("cycle finished", deleted=3)
    text = out.getvalue()
    assert "cycle finished" in text and "deleted" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_level_filters_debug_and_library_chatter() -> None:
    out = io.StringIO()
    configure_logging("info", stream=out)
    structlog.get_logger("t").debug("too detailed")
    logging.getLogger("httpx").info("HTTP Request: GET https://graph.microsoft.com/v1.0/users")
    logging.getLogger("azure.core").warning("token request failed")
    # azure-identity warns about a failed token request it also raises: the raised error is reported once, in
    # our words (graph.signin); its own line shows only at DEBUG.
    logging.getLogger("azure.identity.aio._internal.get_token_mixin").warning("ClientSecretCredential failed")
    assert [line["event"] for line in json_lines(out)] == ["token request failed"]
    debug = io.StringIO()
    configure_logging("debug", stream=debug)
    logging.getLogger("azure.identity.aio._internal.get_token_mixin").warning("ClientSecretCredential failed")
    assert [line["event"] for line in json_lines(debug)] == ["ClientSecretCredential failed"]


def test_reconfiguring_replaces_the_handler_instead_of_duplicating_lines() -> None:
    out_a, out_b = io.StringIO(), io.StringIO()
    configure_logging("info", stream=out_a)
    configure_logging("debug", json=True, stream=out_b)
    structlog.get_logger("t").debug("once")
    assert out_a.getvalue() == "" and [line["event"] for line in json_lines(out_b)] == ["once"]


def test_unknown_level_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="log level 'loud'"):
        configure_logging("loud", stream=io.StringIO())


def test_secrets_never_reach_a_log_line() -> None:
    out = io.StringIO()
    configure_logging("info", stream=out)
    register_secret("Zx9-client-secret-value")
    log = structlog.get_logger("teamsretention.graph")
    log.info("signing in", client_secret="plain-in-key", authorization="Bearer eyJ0eXAi",
             detail="server said Zx9-client-secret-value is expired",
             database="postgresql+psycopg://tr:db-pa55@db.contoso.com/tr",
             link="https://contoso.blob/x?sv=1&sig=abcdef&token=t0k3n",
             nested={"password": "n3sted", "items": ["Zx9-client-secret-value"]},
             client_secret_file="/run/secrets/cs", secret_set=True, token=None)
    logging.getLogger("azure.core").warning("bad secret Zx9-client-secret-value")
    try:
        raise RuntimeError("connect failed for postgresql://tr:db-pa55@db/tr")
    except RuntimeError:
        log.exception("store unreachable")

    text = out.getvalue()
    for secret in ("Zx9-client-secret-value", "plain-in-key", "eyJ0eXAi", "db-pa55", "abcdef", "t0k3n", "n3sted"):
        assert secret not in text
    first, foreign, failure = json_lines(out)
    assert first["client_secret"] == "***" and first["authorization"] == "***"
    assert first["detail"] == "server said *** is expired"
    assert first["database"] == "postgresql+psycopg://tr:***@db.contoso.com/tr"
    assert first["nested"] == {"password": "***", "items": ["***"]}
    # Paths to secrets, "is it set" flags and unset values stay readable for operators.
    assert first["client_secret_file"] == "/run/secrets/cs" and first["secret_set"] is True
    assert first["token"] is None
    assert foreign["event"] == "bad secret ***"
    assert "RuntimeError: connect failed for postgresql://tr:***@db/tr" in failure["exception"]


def test_redact_secrets_is_a_pure_processor() -> None:
    register_secret("abcd1234")
    event = {"event": "x abcd1234", "password": "p", "error": ValueError("abcd1234 rejected")}
    redacted = redact_secrets(None, "info", event)
    assert redacted == {"event": "x ***", "password": "***", "error": "ValueError: *** rejected"}
    assert event["event"] == "x abcd1234" and event["password"] == "p"  # input left alone


def test_short_registered_secrets_are_masked_only_as_whole_values() -> None:
    register_secret("ab")
    assert redact_secrets(None, "info", {"event": "about", "value": "ab"}) == {"event": "about", "value": "***"}


def test_default_stream_is_stderr_at_the_time_of_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    configure_logging("info", json=True)
    later = io.StringIO()  # a runner that swaps stderr after configuration (CliRunner, capsys) still gets lines
    monkeypatch.setattr("sys.stderr", later)
    structlog.get_logger("t").info("after the swap")
    assert [line["event"] for line in json_lines(later)] == ["after the swap"]


# --- [logging] personal_data ---------------------------------------------------------------------------

def log_a_deletion(personal_data: bool) -> tuple[str, list[dict[str, Any]]]:
    out = io.StringIO()
    configure_logging("info", stream=out, personal_data=personal_data)
    register_secret("Zx9-client-secret-value")
    log = structlog.get_logger("teamsretention.cycle.delete")
    log.info("recording.deleted", recording_id="b!d/01ITEM", recording="Salary talk-20260301_100000-Meeting "
             "Recording.mp4", organizer_id="u-1", organizer="Anna Berg", organizer_upn="anna@contoso.example",
             rule="base_due", client_secret="plain-in-key")
    log.warning("cycle.summary", problems=["digest to anna@contoso.example failed: 400 invalidRequest"],
                unsure=["Holiday clip.mp4 (no Teams timestamp)"], nested={"recipient": "bob@contoso.example", "n": 2},
                error="server said Zx9-client-secret-value is expired")
    logging.getLogger("httpx").warning("POST https://graph.example/v1.0/users/anna@contoso.example/sendMail")
    return out.getvalue(), json_lines(out)


def test_without_personal_data_lines_keep_ids_and_rules_but_no_names_titles_or_addresses() -> None:
    text, (deleted, summary, foreign) = log_a_deletion(personal_data=False)
    assert deleted == {**{k: deleted[k] for k in ("level", "logger", "timestamp")}, "event": "recording.deleted",
                       "recording_id": "b!d/01ITEM", "organizer_id": "u-1", "rule": "base_due",
                       "client_secret": "***"}
    assert summary["problems"] == ["digest to <address withheld> failed: 400 invalidRequest"]
    assert "unsure" not in summary and summary["nested"] == {"n": 2}
    assert foreign["event"] == "POST https://graph.example/v1.0/users/<address withheld>/sendMail"
    for personal in ("Anna", "anna@", "bob@", "Salary", "Holiday"):
        assert personal not in text
    for secret in ("Zx9-client-secret-value", "plain-in-key"):  # secrets stay masked in this mode too
        assert secret not in text


def test_with_personal_data_the_names_stay_and_secrets_still_do_not() -> None:
    text, (deleted, summary, _) = log_a_deletion(personal_data=True)
    assert (deleted["organizer"], deleted["organizer_upn"]) == ("Anna Berg", "anna@contoso.example")
    assert deleted["recording"].startswith("Salary talk") and summary["unsure"]
    assert summary["error"] == "server said *** is expired" and deleted["client_secret"] == "***"
    assert "Zx9-client-secret-value" not in text and "plain-in-key" not in text
