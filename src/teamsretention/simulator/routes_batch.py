"""Simulated Graph JSON batching: ``POST /v1.0/$batch`` (concepts/json-batching.md).

The body is ``{"requests": [{"id", "method", "url", "headers"?, "body"?}, ...]}``: at most 20 requests with
unique ids, else the whole batch answers 400. Each inner request is served by this same app as if it had been
sent alone (its own fault injection, its own line and resource units in the request log), and the answer is
``{"responses": [{"id", "status", "headers", "body"}, ...]}`` with outer status 200: Graph reads each inner
``status`` (a throttled inner request answers 429 inside a 200). The batch itself costs no resource units:
Graph bills each request in it. ``dependsOn`` is not supported (the product does not use it).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .endpoint import Ctx, GraphFault, graph_endpoint, json_response

MAX_REQUESTS = 20
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# Headers of an inner answer worth handing back (Graph sends its own set; these are what clients read).
_KEPT_HEADERS = ("content-type", "retry-after", "location", "etag", "ratelimit-limit", "ratelimit-remaining",
                 "ratelimit-reset")


async def batch(request: Request, ctx: Ctx) -> Response:
    requests = _requests(await request.body())
    responses = [await _serve(request, inner) for inner in requests]
    return json_response({"responses": responses})


def _requests(raw: bytes) -> list[dict[str, Any]]:
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        raise GraphFault(400, "BadRequest", "Invalid batch payload: the body is not JSON.") from exc
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise GraphFault(400, "BadRequest", "Invalid batch payload: a 'requests' array is required.")
    if len(requests) > MAX_REQUESTS:
        raise GraphFault(400, "BadRequest", f"Invalid batch payload: at most {MAX_REQUESTS} requests are allowed "
                         f"in one batch, this one has {len(requests)}.")
    ids: set[str] = set()
    for inner in requests:
        if not isinstance(inner, dict):
            raise GraphFault(400, "BadRequest", "Invalid batch payload: each request must be an object.")
        rid, method, url = inner.get("id"), inner.get("method"), inner.get("url")
        if not isinstance(rid, str) or not rid or not isinstance(method, str) or not isinstance(url, str) or not url:
            raise GraphFault(400, "BadRequest", "Invalid batch payload: each request needs an id, a method and a url.")
        if rid in ids:
            raise GraphFault(400, "BadRequest", f"Invalid batch payload: the request id {rid!r} is not unique.")
        if method.upper() not in METHODS:
            raise GraphFault(400, "BadRequest", f"Invalid batch payload: method {method!r} is not supported.")
        if "dependsOn" in inner:
            raise GraphFault(400, "BadRequest", "dependsOn is not supported by the simulator.")
        ids.add(rid)
    return requests


async def _serve(outer: Request, inner: dict[str, Any]) -> dict[str, Any]:
    """One inner request through the app itself, answered in the batch's response shape."""
    url: str = inner["url"]
    if url.startswith(("http://", "https://")):
        return _inner_error(inner["id"], 400, "BadRequest", "A batch request's url is relative to the version.")
    path, _, query = url.lstrip("/").partition("?")
    if path.split("/", 1)[0].lower() == "$batch":
        return _inner_error(inner["id"], 400, "BadRequest", "A batch cannot contain a batch.")
    headers = [(k.lower().encode(), str(v).encode()) for k, v in (inner.get("headers") or {}).items()]
    auth = outer.headers.get("authorization")
    if auth:
        headers.append((b"authorization", auth.encode()))
    body = json.dumps(inner["body"]).encode() if "body" in inner else b""
    if body and not any(k == b"content-type" for k, _ in headers):
        headers.append((b"content-type", b"application/json"))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": inner["method"].upper(),
        "scheme": outer.url.scheme, "server": outer.scope.get("server"), "client": outer.scope.get("client"),
        "root_path": "", "path": "/v1.0/" + unquote(path), "raw_path": ("/v1.0/" + path).encode(),
        "query_string": query.encode(), "headers": headers,
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status, answer_headers, chunks = 500, [], []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, answer_headers
        if message["type"] == "http.response.start":
            status, answer_headers = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await outer.app(scope, receive, send)
    kept = {k.decode().title(): v.decode() for k, v in answer_headers if k.decode().lower() in _KEPT_HEADERS}
    response: dict[str, Any] = {"id": inner["id"], "status": status, "headers": kept}
    raw = b"".join(chunks)
    if raw:
        try:
            response["body"] = json.loads(raw)
        except ValueError:
            response["body"] = raw.decode(errors="replace")
    return response


def _inner_error(rid: str, status: int, code: str, message: str) -> dict[str, Any]:
    return {"id": rid, "status": status, "headers": {"Content-Type": "application/json"},
            "body": {"error": {"code": code, "message": message}}}


ROUTES = [Route("/v1.0/$batch", graph_endpoint("batch", 0)(batch), methods=["POST"])]
