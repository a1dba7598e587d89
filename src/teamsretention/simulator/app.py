"""The simulated Graph as a Starlette ASGI app.

Build the tenant first (``scenario.load_scenario``, ``build_demo_tenant``, ``build_bench_tenant``), then
``create_app(model)``. All state lives in the model passed in, because httpx's ``ASGITransport`` runs no
lifespan events: nothing may depend on startup hooks. ``app.state.sim`` is the model, for tests.

Graph paths live under ``/v1.0`` (routes_directory.py, routes_members.py, routes_teams.py, routes_drives.py,
routes_sites.py, routes_lists.py, routes_mail.py; JSON batching in routes_batch.py), one beta call under
``/beta`` (routes_beta.py); the simulator's own controls under ``/_simulator/`` (controls.py,
controls_lists.py). Any other ``/v1.0`` or ``/beta`` path answers Graph's 400.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.routing import Route

from . import (
    controls,
    controls_lists,
    routes_batch,
    routes_beta,
    routes_directory,
    routes_drives,
    routes_lists,
    routes_mail,
    routes_members,
    routes_sites,
    routes_teams,
    throttling,
)
from .endpoint import graph_endpoint
from .knobs import Knobs
from .model import TenantModel
from .reqlog import RU_SINGLE

__all__ = ["GRAPH_ROUTES", "Knobs", "create_app"]

# Every simulated /v1.0 call, in matching order (tests check each template against the v1.0 CSDL).
GRAPH_ROUTES: list[Route] = [
    *routes_directory.ROUTES,
    *routes_members.ROUTES,
    *routes_teams.ROUTES,
    *routes_drives.ROUTES,
    *routes_sites.ROUTES,
    *routes_lists.ROUTES,
    *routes_mail.ROUTES,
]


def create_app(model: TenantModel, *, knobs: Knobs | None = None,
               ru_clock: Callable[[], float] = time.monotonic) -> Starlette:
    """An app serving ``model``; ``knobs`` replaces the model's knobs when given. ``ru_clock``: the clock of
    the throttling model (knob ``ru_per_minute``), real time unless a test passes its own."""
    if knobs is not None:
        model.set_knobs(knobs)
    routes = [
        *controls.ROUTES,
        *controls_lists.ROUTES,
        *throttling.ROUTES,
        *GRAPH_ROUTES,
        # JSON batching: no entity path of the CSDL; its inner requests are served by GRAPH_ROUTES.
        *routes_batch.ROUTES,
        Route(
            "/v1.0/{rest:path}",
            graph_endpoint("unknown", RU_SINGLE)(routes_beta.unknown_segment),
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        ),
        *routes_beta.ROUTES,
    ]
    app = Starlette(routes=routes)
    app.state.sim = model
    app.state.ru_bucket = throttling.RuBucket(ru_clock)
    return app
