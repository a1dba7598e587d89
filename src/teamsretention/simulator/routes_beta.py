"""The one simulated ``/beta`` call: ``GET /beta/drives/{d}/items/{i}``, for the facets only beta documents.

The beta driveItem page lists ``source`` (driveItemSource) and ``media`` (media.mediaSource); v1.0 does not.
The answer is the v1.0 item plus, for a Teams recording, ``source.application = "teams"`` and
``media.mediaSource.contentCategory = "meeting"`` (knob ``beta_media_facets``, on by default). Any other
``/beta`` path answers Graph's 400, as unknown ``/v1.0`` paths do.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .endpoint import Ctx, GraphFault, base_url, graph_endpoint, json_response
from .reqlog import RU_SINGLE
from .routes_drives import live_item
from .wire import item_json


async def get_beta_item(request: Request, ctx: Ctx) -> Response:
    item = live_item(ctx, request.path_params["drive_id"], request.path_params["item_id"])
    body = item_json(item, ctx.sim, in_delta=False, media_facets=ctx.sim.knobs.beta_media_facets)
    return json_response({"@odata.context": f"{base_url(request)}/beta/$metadata#driveItem/$entity", **body})


async def unknown_segment(request: Request, ctx: Ctx) -> Response:
    raise GraphFault(400, "BadRequest", f"Resource not found for the segment '{request.url.path}'.")


ROUTES = [
    Route(
        "/beta/drives/{drive_id}/items/{item_id}",
        graph_endpoint("beta.item.get", RU_SINGLE)(get_beta_item),
        methods=["GET"],
    ),
    Route(
        "/beta/{rest:path}",
        graph_endpoint("unknown", RU_SINGLE)(unknown_segment),
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    ),
]
