"""What every simulated Graph call shares: fault injection, Graph error bodies, the request log.

Handlers raise :class:`GraphFault` for any error answer; :func:`graph_endpoint` turns it into Graph's
error body (``{"error": {"code", "message", "innerError": {...}}}``), adds ``Retry-After`` to 429/503
and records the request with its resource-unit cost. With the knob ``ru_per_minute`` each request is charged
to the app's per-minute bucket first (throttling.py): one that does not fit answers 429 without being served.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .model import TenantModel
from .throttling import RuBucket
from .wire import error_body

DEFAULT_CODES = {
    400: ("invalidRequest", "Invalid request."),
    401: ("InvalidAuthenticationToken", "Access token is empty."),
    403: (
        "accessDenied",
        "Access denied. You do not have permission to perform this action or access this resource.",
    ),
    404: ("itemNotFound", "The resource could not be found."),
    409: ("nameAlreadyExists", "The specified item name already exists."),
    410: ("resyncRequired", "Resync required."),
    412: ("resourceModified", "ETag does not match current item's value."),
    423: ("resourceLocked", "The resource you are attempting to access is locked."),
    429: ("TooManyRequests", "Please retry again later."),
    500: ("generalException", "An unspecified error has occurred."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("UnknownError", "Gateway timeout."),
}


class GraphFault(Exception):
    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        default_code, default_message = DEFAULT_CODES.get(status, ("generalException", "Error."))
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.retry_after = retry_after
        self.headers = dict(headers or {})
        super().__init__(f"{status} {self.code}")


@dataclass(slots=True)
class Ctx:
    """Per-request context a handler may refine: the cost kind, its resource units and the drive."""

    sim: TenantModel
    kind: str
    ru: int
    drive_id: str | None = None


Handler = Callable[[Request, Ctx], Awaitable[Response]]


def base_url(request: Request) -> str:
    """Links are absolute and built from the request's own scheme, host and port."""
    return str(request.base_url).rstrip("/")


def json_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def graph_endpoint(kind: str, ru: int) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            sim: TenantModel = request.app.state.sim
            ctx = Ctx(sim, kind, ru, request.path_params.get("drive_id"))
            bucket: RuBucket = request.app.state.ru_bucket
            budget = sim.knobs.ru_per_minute
            try:
                if budget > 0 and ru > 0:
                    charge = bucket.charge(ru, budget)
                    if charge.throttled:
                        raise GraphFault(429, retry_after=charge.retry_after)
                inject_faults(ctx, request)
                response = await handler(request, ctx)
                if budget > 0 and ctx.ru != ru:
                    bucket.adjust(ctx.ru - ru)  # the handler knows better (a delta with a token: 1 RU)
            except GraphFault as fault:
                response = error_response(request, sim, fault)
            if budget > 0:
                response.headers.update(bucket.rate_limit_headers(budget))
            sim.requests.record(
                method=request.method,
                path=request.url.path,
                status=response.status_code,
                kind=ctx.kind,
                ru=ctx.ru,
                drive_id=ctx.drive_id,
                at=sim.now,
            )
            return response

        endpoint.__name__ = handler.__name__
        return endpoint

    return wrap


def inject_faults(ctx: Ctx, request: Request) -> None:
    knobs = ctx.sim.knobs
    path = request.url.path
    for rule in knobs.fail_paths:
        if not rule.matches(request.method, path):
            continue
        if rule.count is not None:
            if rule.count <= 0:
                continue
            rule.count -= 1
        elif rule.share is not None and ctx.sim.fault_rng.random() >= rule.share:
            continue
        retry = rule.retry_after if rule.retry_after is not None else knobs.throttle_retry_after
        raise GraphFault(rule.status, retry_after=retry if rule.status in (429, 503) else None)
    if knobs.throttle_share > 0 and ctx.sim.fault_rng.random() < knobs.throttle_share:
        raise GraphFault(429, retry_after=knobs.throttle_retry_after)


def error_response(request: Request, sim: TenantModel, fault: GraphFault) -> JSONResponse:
    sim.error_counter += 1
    request_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"sim-{sim.error_counter}"))
    body = error_body(
        fault.code,
        fault.message,
        now=sim.now,
        request_id=request_id,
        client_request_id=request.headers.get("client-request-id"),
    )
    headers = dict(fault.headers)
    if fault.status == 429:
        # As in Microsoft's throttling sample: innerError also carries code, status and message.
        body["error"]["innerError"].update({"code": "429", "status": "429", "message": "Please retry after"})
    if fault.retry_after is not None and fault.status in (429, 503):
        headers["Retry-After"] = f"{fault.retry_after:g}"
    return JSONResponse(body, status_code=fault.status, headers=headers)
