"""Simulated shares and sites: resolve an item's webUrl to the item and its site, a site to its drive.

- ``GET /shares/{shareId}/driveItem``: ``shareId`` is ``u!`` + the unpadded base64url of a webUrl
  (shares-get, "Encoding sharing URLs"). Hosts compare case-insensitively and paths after percent-decoding.
  The item comes in the plain-GET shape (``parentReference`` with driveId, id and path). A drive root comes
  without ``parentReference``, as Microsoft's only root driveItem example (driveitem-get, the root of a
  OneDrive) has none; knob ``shares_root_parent_reference`` adds {driveId, driveType}.
- ``GET /shares/{shareId}/site``: the site holding the item.
- ``GET /sites/{siteId}`` and ``GET /sites/{siteId}/drive``: a site and its default document library.

An unknown share, a deleted item and anything on a replaced OneDrive answer 404 itemNotFound.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .endpoint import Ctx, GraphFault, base_url, graph_endpoint, json_response
from .model import SimItem, SimSite
from .reqlog import RU_SINGLE
from .sites import decode_share_id
from .wire import drive_json, item_json, site_json

NOT_FOUND = "The resource could not be found."


def _shared_item(ctx: Ctx, share_id: str) -> SimItem:
    url = decode_share_id(share_id)
    item = ctx.sim.find_by_web_url(url) if url else None
    if item is None:
        raise GraphFault(404, "itemNotFound", NOT_FOUND)
    ctx.drive_id = item.drive_id
    return item


def _site(ctx: Ctx, site_id: str) -> SimSite:
    site = ctx.sim.find_site(site_id)
    if site is None:
        raise GraphFault(404, "itemNotFound", NOT_FOUND)
    return site


async def get_shared_item(request: Request, ctx: Ctx) -> Response:
    sim = ctx.sim
    share_id = request.path_params["share_id"]
    item = _shared_item(ctx, share_id)
    body = item_json(item, sim, in_delta=False, media_facets=sim.knobs.media_facets)
    if item.parent_id is None and not sim.knobs.shares_root_parent_reference:
        body.pop("parentReference", None)
    context = f"{base_url(request)}/v1.0/$metadata#shares('{share_id}')/driveItem/$entity"
    return json_response({"@odata.context": context, **body})


async def get_shared_site(request: Request, ctx: Ctx) -> Response:
    share_id = request.path_params["share_id"]
    item = _shared_item(ctx, share_id)
    site = _site(ctx, ctx.sim.drives[item.drive_id].site_id)
    context = f"{base_url(request)}/v1.0/$metadata#shares('{share_id}')/site/$entity"
    return json_response({"@odata.context": context, **site_json(site)})


async def get_site(request: Request, ctx: Ctx) -> Response:
    site = _site(ctx, request.path_params["site_id"])
    return json_response({"@odata.context": f"{base_url(request)}/v1.0/$metadata#sites/$entity", **site_json(site)})


async def get_site_drive(request: Request, ctx: Ctx) -> Response:
    site = _site(ctx, request.path_params["site_id"])
    drive = ctx.sim.drives[site.drive_id]
    ctx.drive_id = drive.id
    context = f"{base_url(request)}/v1.0/$metadata#sites('{site.id}')/drive/$entity"
    return json_response({"@odata.context": context, **drive_json(drive, ctx.sim)})


ROUTES = [
    Route(
        "/v1.0/shares/{share_id}/driveItem",
        graph_endpoint("share.driveItem", RU_SINGLE)(get_shared_item),
        methods=["GET"],
    ),
    Route(
        "/v1.0/shares/{share_id}/site",
        graph_endpoint("share.site", RU_SINGLE)(get_shared_site),
        methods=["GET"],
    ),
    Route("/v1.0/sites/{site_id}", graph_endpoint("site.get", RU_SINGLE)(get_site), methods=["GET"]),
    Route(
        "/v1.0/sites/{site_id}/drive",
        graph_endpoint("site.drive", RU_SINGLE)(get_site_drive),
        methods=["GET"],
    ),
]
