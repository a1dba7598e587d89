"""Requests whose bodies we read as JSON rather than as msgraph-sdk models.

They still go through msgraph-sdk's request adapter, so authentication, kiota's retry handler and our
throttle gate apply, and Graph's error bodies are still parsed into ODataError. Only the success body
skips the typed models: kiota builds a ~1,000-entry field-deserializer map for every entity it parses
(about 15-25 ms per driveItem or user, measured here), which made a 40-day demo take two minutes and
would cost tens of minutes of CPU on a 2,000-user tenant's first scan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.graph_service_client import GraphServiceClient

from ..errors import GraphError
from .client import NO_RETRY
from .failures import translating
from .transform import MALFORMED

# Graph's error bodies are still parsed into ODataError (code, message, Retry-After, Location).
_ERRORS: dict[str, Any] = {"XXX": ODataError}


@dataclass
class RawPage:
    """A collection or delta page read as plain JSON (the shape ``paging`` expects of a typed one)."""

    value: list[dict[str, Any]] = field(default_factory=list)
    odata_next_link: str | None = None
    odata_delta_link: str | None = None


class RawJson:
    def __init__(self, client: GraphServiceClient) -> None:
        self._adapter = client.request_adapter

    async def get_json(self, url: str, headers: dict[str, str] | None = None) -> dict[str, Any] | None:
        info = RequestInformation(Method.GET)
        info.url = url
        info.headers.try_add("Accept", "application/json")
        for name, value in (headers or {}).items():
            info.headers.try_add(name, value)
        with translating():
            # kiota annotates send_primitive_async as returning None; for "bytes" it returns the body.
            raw: bytes | None = await self._adapter.send_primitive_async(  # type: ignore[func-returns-value]
                info, "bytes", _ERRORS)
        if not raw:
            return None
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise GraphError(200, MALFORMED, "Graph answered with a body that is not JSON") from exc
        if not isinstance(body, dict):
            raise GraphError(200, MALFORMED, "Graph answered with JSON that is not an object")
        return body

    async def post_json(self, url: str, body: dict[str, Any], *, retry: bool = False) -> dict[str, Any] | None:
        """POST a JSON body, read the answer as JSON. Not retried by kiota unless ``retry``: a create answered
        503/504 may have been carried out, and a resend would then fail (409) or create a duplicate."""
        info = RequestInformation(Method.POST)
        info.url = url
        info.headers.try_add("Accept", "application/json")
        info.headers.try_add("Content-Type", "application/json")
        info.content = json.dumps(body).encode()
        if not retry:
            info.add_request_options([NO_RETRY])
        with translating():
            raw: bytes | None = await self._adapter.send_primitive_async(  # type: ignore[func-returns-value]
                info, "bytes", _ERRORS)
        if not raw:
            return None
        try:
            answer = json.loads(raw)
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
