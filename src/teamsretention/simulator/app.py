"""The simulated Graph as a Starlette ASGI app.

Build the tenant first (``scenario.load_scenario``, ``build_demo_tenant``, ``build_bench_tenant``), then
``create_app(model)``. All state lives in the model passed in, because httpx's ``ASGITransport`` runs no
lifespan events: nothing may depend on startup hooks. ``app.state.sim`` is the model, for tests.

Graph paths live under ``/v1.0`` (routes_directory.py, routes_drives.py, routes_mail.py); the simulator's own
controls under ``/_simulator/`` (controls.py). Any other ``/v1.0`` path answers Graph's 400.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import controls, routes_directory, routes_drives, routes_mail
from .endpoint import Ctx, GraphFault, graph_endpoint
from .knobs import Knobs
from .model import TenantModel
from .reqlog import RU_SINGLE

__all__ = ["Knobs", "create_app"]


async def _unknown_segment(request: Request, ctx: Ctx) -> Response:
    raise GraphFault(400, "BadRequest", f"Resource not found for the segment '{request.url.path}'.")


def create_app(model: TenantModel, *, knobs: Knobs | None = None) -> Starlette:
    """An app serving ``model``; ``knobs`` replaces the model's knobs when given."""
    if knobs is not None:
        model.set_knobs(knobs)
    routes = [
        *controls.ROUTES,
        *routes_directory.ROUTES,
        *routes_drives.ROUTES,
        *routes_mail.ROUTES,
        Route(
            "/v1.0/{rest:path}",
            graph_endpoint("unknown", RU_SINGLE)(_unknown_segment),
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        ),
    ]
    app = Starlette(routes=routes)
    app.state.sim = model
    return app
