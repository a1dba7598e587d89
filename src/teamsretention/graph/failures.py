"""Turn msgraph-sdk / kiota / httpx / azure-identity exceptions into :mod:`teamsretention.errors`.

Graph's error code and message travel with the error (the audit trail records them); request headers
never do, so the bearer token cannot leak through an error. ``Retry-After`` and ``Location`` are kept:
the caller needs them for throttling and delta resync.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
from azure.core.exceptions import ClientAuthenticationError
from kiota_abstractions.api_error import APIError
from kiota_http._exceptions import RedirectError
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from ..errors import GraphError, TransientGraphError, graph_error_for
from .throttle import parse_retry_after

_MAX_MESSAGE = 400


def translate_error(exc: BaseException) -> GraphError:
    """The GraphError for an exception raised while talking to Graph."""
    if isinstance(exc, GraphError):
        return exc
    if isinstance(exc, APIError):
        status = exc.response_status_code or 0
        code, message = "", ""
        if isinstance(exc, ODataError) and exc.error is not None:
            code = exc.error.code or ""
            message = exc.error.message or ""
        if not message:
            # APIError's own text ("The server returned an unexpected status code ...") when the body
            # was empty or not Graph's error shape.
            message = exc.message or ""
        headers = exc.response_headers or {}
        return graph_error_for(
            status, code, _shorten(message),
            retry_after=parse_retry_after(_header(headers, "Retry-After"), now=dt.datetime.now(dt.UTC)),
            location=_header(headers, "Location"),
        )
    if isinstance(exc, ClientAuthenticationError):
        # azure-identity's message carries the AADSTS code (wrong secret, missing consent) and never the
        # secret itself; keep only its first line.
        first = (str(exc.message or exc).strip().splitlines() or [""])[0]
        return GraphError(401, "authenticationFailed", _shorten(first))
    if isinstance(exc, RedirectError):  # kiota's redirect handler gave up (too many hops)
        return GraphError(0, "redirectFailed", _shorten(str(exc)) or "Graph's redirects could not be followed")
    if isinstance(exc, httpx.TimeoutException):
        return TransientGraphError(0, "timeout", f"no answer in time from {_where(exc)} ({type(exc).__name__})")
    if isinstance(exc, httpx.TransportError):
        reason = _shorten(str(exc)) or type(exc).__name__
        return TransientGraphError(0, "networkError", f"could not reach {_where(exc)} ({reason})")
    return GraphError(0, type(exc).__name__, _shorten(str(exc)))


def error_from_response(response: httpx.Response) -> GraphError:
    """The GraphError for an answer that is not a success, read as kiota reads Graph's error body (its
    ``error.code`` and ``error.message``), with the answer's Retry-After and Location. An answer without
    Graph's error body (a proxy's HTML page, nothing at all) says so, with the content type it had, under the
    code ``unexpectedStatus``."""
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message:
        kind = response.headers.get("Content-Type", "").split(";")[0].strip()
        message = (f"the answer carried no Graph error ({kind or 'no content type'}, "
                   f"{len(response.content)} bytes)") if response.content else "the answer had no body"
    headers = response.headers
    return graph_error_for(
        response.status_code, code if isinstance(code, str) and code else "unexpectedStatus", _shorten(message),
        retry_after=parse_retry_after(headers.get("Retry-After"), now=dt.datetime.now(dt.UTC)),
        location=headers.get("Location"))


@contextmanager
def translating() -> Iterator[None]:
    """``with translating(): await ...`` — re-raise any Graph-side failure as a GraphError."""
    try:
        yield
    except (APIError, ClientAuthenticationError, RedirectError, httpx.HTTPError) as exc:
        raise translate_error(exc) from exc


def _where(exc: httpx.RequestError) -> str:
    """The URL a request went to, without its query (a delta token or a $skiptoken is no use to an operator)."""
    try:
        url = exc.request.url
    except RuntimeError:  # an httpx error raised outside a request
        return "Graph"
    return str(url.copy_with(query=None, fragment=None))


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    if isinstance(headers, httpx.Headers):
        value: str | None = headers.get(name)
        return value
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
