"""Requests whose bodies we read as JSON rather than as msgraph-sdk models, sent without kiota's request adapter.

They go through the same httpx client as every msgraph-sdk request, so kiota's middleware (its retry handler,
Graph's telemetry headers) and our throttle gate apply (redirects are not followed: see below), and they are
authenticated by the same provider (the bearer token goes only to the Graph host). What they skip is the adapter
around that: a ``RequestInformation``, tracing spans and parse-node factories for every request, about 0.3 ms of
CPU each (measured here), and the typed models, for which kiota builds a ~1,000-entry field-deserializer map per
entity (15-25 ms per driveItem or user). A large tenant's first cycle sends tens of thousands of these requests.

Graph's error answers become the same GraphError kiota's ODataError did (code, message, Retry-After, Location).
A 401 that carries a claims challenge (continuous access evaluation) is sent once more with a token for those
claims, as kiota's adapter does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx
import orjson
from kiota_abstractions.authentication import AuthenticationProvider
from kiota_abstractions.request_information import RequestInformation
from kiota_http.middleware import REQUEST_OPTIONS_KEY
from kiota_http.middleware.options import RedirectHandlerOption
from msgraph.graph_service_client import GraphServiceClient

from ..errors import ConfigError, GraphError
from .client import NO_RETRY
from .failures import error_from_response, translating
from .transform import MALFORMED

_CLAIMS = re.compile(r'claims="([^"]+)"')
# No request is redirected: Graph's JSON answers are never redirects (only file downloads are, and none is made
# here), and kiota's redirect handler turns a 302/303 (and a 301 on a POST) into a GET, whose 200 would read as
# "deleted" or "sent", follows a Location to any host, and raises a bare Exception for one it cannot follow. A
# redirect comes back as a GraphError with its status: fail closed. A request that may have been carried out
# when answered 503/504 (a create, a send, a delete) is not retried either.
_NO_REDIRECT = RedirectHandlerOption(should_redirect=False)
_RETRIED = {_NO_REDIRECT.get_key(): _NO_REDIRECT}
_SEND_ONCE = {NO_RETRY.get_key(): NO_RETRY, _NO_REDIRECT.get_key(): _NO_REDIRECT}


def _parse(raw: bytes) -> Any:
    """An answer's JSON, with orjson (a delta page in half the standard library's time). What orjson refuses and
    JSON still allows, such as a file name with a lone UTF-16 surrogate escape (``"\\ud800"``), is read by the
    standard library: one such name among a drive's documents must not leave the whole drive unread. What both
    refuse raises ValueError."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


@dataclass
class RawPage:
    """A collection or delta page read as plain JSON (the shape ``paging`` expects of a typed one)."""

    value: list[dict[str, Any]] = field(default_factory=list)
    odata_next_link: str | None = None
    odata_delta_link: str | None = None


def _transport(client: GraphServiceClient) -> tuple[httpx.AsyncClient, AuthenticationProvider]:
    """The httpx client (with its middleware) and the authentication provider msgraph-sdk's adapter was built
    with. kiota keeps both without a public accessor; a kiota release that moves them fails here, at start."""
    adapter = client.request_adapter
    http, auth = getattr(adapter, "_http_client", None), getattr(adapter, "_authentication_provider", None)
    if not isinstance(http, httpx.AsyncClient) or not isinstance(auth, AuthenticationProvider):
        raise ConfigError(f"the installed microsoft-kiota-http {_installed('microsoft-kiota-http')} (msgraph-sdk "
                          f"{_installed('msgraph-sdk')}) keeps its HTTP client where teamsretention cannot reach it, "
                          "so nothing was sent to Graph: install the versions pinned in deploy/requirements.lock "
                          "(pip install -r deploy/requirements.lock), or a teamsretention release that supports these")
    return http, auth


def _installed(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "(version unknown)"


class RawJson:
    def __init__(self, client: GraphServiceClient) -> None:
        self._http, self._auth = _transport(client)

    async def get_json(self, url: str, headers: dict[str, str] | None = None) -> dict[str, Any] | None:
        raw = await self._send("GET", url, {"Accept": "application/json", **(headers or {})}, None, retry=True)
        if not raw:
            return None
        try:
            body = _parse(raw)
        except ValueError as exc:
            raise GraphError(200, MALFORMED, "Graph answered with a body that is not JSON") from exc
        if not isinstance(body, dict):
            raise GraphError(200, MALFORMED, "Graph answered with JSON that is not an object")
        return body

    async def post_json(self, url: str, body: dict[str, Any], *, retry: bool = False) -> dict[str, Any] | None:
        """POST a JSON body, read the answer as JSON. Not retried by kiota unless ``retry``: a create answered
        503/504 may have been carried out, and a resend would then fail (409) or create a duplicate."""
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        raw = await self._send("POST", url, headers, json.dumps(body).encode(), retry=retry)
        if not raw:
            return None
        try:
            answer = _parse(raw)
        except ValueError as exc:
            raise GraphError(200, MALFORMED, "Graph answered with a body that is not JSON") from exc
        return answer if isinstance(answer, dict) else None

    async def get_page(self, url: str, headers: dict[str, str] | None = None) -> RawPage | None:
        """One page of a collection or delta feed, in the shape ``paging.follow_*`` expects."""
        body = await self.get_json(url, headers)
        if body is None:
            return None
        value = body.get("value")
        if not isinstance(value, list):
            raise GraphError(200, MALFORMED, "a collection page without a 'value' list")
        return RawPage(value, body.get("@odata.nextLink"), body.get("@odata.deltaLink"))

    async def act(self, method: str, url: str, headers: dict[str, str] | None = None) -> None:
        """A request without a body whose answer only says whether it was done (a DELETE, a permanentDelete):
        sent once, never retried or redirected (carried out and answered 503, a resend would read as "already
        gone"); any answer but a success (a redirect included) raises its GraphError."""
        await self._send(method, url, {"Accept": "application/json", **(headers or {})}, None, retry=False)

    async def post_for_answer(self, url: str, body: dict[str, Any]) -> httpx.Response:
        """POST a JSON body once (never retried by kiota) and hand back Graph's answer whatever its status: for
        a caller that must tell the documented success from any other (sendMail: 202 and nothing else)."""
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        with translating():
            return await self._exchange("POST", url, headers, json.dumps(body).encode(), retry=False)

    async def _send(self, method: str, url: str, headers: dict[str, str], content: bytes | None, *,
                    retry: bool) -> bytes | None:
        """The answer's body (None when empty); a GraphError for any answer that is not a success."""
        with translating():
            response = await self._exchange(method, url, headers, content, retry=retry)
        if not response.is_success:
            raise error_from_response(response)
        return response.content or None if response.status_code != 204 else None

    async def _exchange(self, method: str, url: str, headers: dict[str, str], content: bytes | None, *,
                        retry: bool) -> httpx.Response:
        response = await self._once(method, url, headers, content, retry, claims="")
        challenge = response.headers.get("WWW-Authenticate", "") if response.status_code == 401 else ""
        if challenge[:6].lower() == "bearer" and (claims := _CLAIMS.search(challenge)) is not None:
            response = await self._once(method, url, headers, content, retry, claims=claims.group(1))
        return response

    async def _once(self, method: str, url: str, headers: dict[str, str], content: bytes | None, retry: bool,
                    *, claims: str) -> httpx.Response:
        info = RequestInformation()
        info.url = url
        await self._auth.authenticate_request(info, {"claims": claims} if claims else {})
        authorization = info.headers.get("Authorization")
        if authorization:
            headers = {**headers, "Authorization": next(iter(authorization))}
        # The options key must be there: msgraph-core's transport runs the middleware (retries, the throttle gate)
        # only for requests that carry it.
        request = self._http.build_request(method, url, headers=headers, content=content,
                                           extensions={REQUEST_OPTIONS_KEY: dict(_RETRIED if retry else _SEND_ONCE)})
        return await self._http.send(request)
