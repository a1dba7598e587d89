"""Simulated Graph drive endpoints: drive delta, item read with its retention label, delete.

A drive that was replaced (event ``replace_onedrive``) answers 404 itemNotFound to every request on its id,
delta included, as a deleted OneDrive does.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .delta import loop_link, page_number, read_page, read_token, start_position
from .endpoint import Ctx, GraphFault, base_url, graph_endpoint, json_response
from .model import SimDrive, SimItem
from .reqlog import RU_LIST, RU_SINGLE
from .wire import ctag, drive_json, encode_token, etag, item_json, label_json

MAX_TOP = 1000  # the most items a delta page holds whatever $top asks (OneDrive's hard limit)

NOT_FOUND = "The resource could not be found."


def _drive(ctx: Ctx, request: Request) -> SimDrive:
    return live_drive(ctx, request.path_params["drive_id"])


def live_drive(ctx: Ctx, drive_id: str) -> SimDrive:
    drive = ctx.sim.drives.get(drive_id)
    if drive is None or drive.removed:
        raise GraphFault(404, "itemNotFound", NOT_FOUND)
    return drive


def _live_item(ctx: Ctx, request: Request) -> SimItem:
    return live_item(ctx, request.path_params["drive_id"], request.path_params["item_id"])


def live_item(ctx: Ctx, drive_id: str, item_id: str) -> SimItem:
    item = live_drive(ctx, drive_id).items.get(item_id)
    if item is None or item.deleted:
        raise GraphFault(404, "itemNotFound", NOT_FOUND)
    return item


async def get_drive(request: Request, ctx: Ctx) -> Response:
    return json_response(drive_json(_drive(ctx, request), ctx.sim))


async def drive_delta(request: Request, ctx: Ctx) -> Response:
    sim = ctx.sim
    drive = _drive(ctx, request)
    base = base_url(request)
    here = f"{base}/v1.0/drives/{drive.id}/root/delta"
    position, _ = read_token(sim, drive.id, request.query_params.get("token"), here)
    if position is None or position.mode == "F":
        ctx.kind, ctx.ru = "drive.delta", RU_LIST
    else:
        ctx.kind, ctx.ru = "drive.delta.token", RU_SINGLE
    media, with_ctag = sim.knobs.media_facets, sim.knobs.delta_ctag
    top = _top(request)
    keep = f"&$top={top}" if top is not None and sim.knobs.delta_links_keep_top else ""
    page = read_page(
        order=drive.order,
        log=drive.log,
        lookup=drive.items.__getitem__,
        is_gone=lambda i: i.deleted,
        render=lambda item: item_json(item, sim, in_delta=True, media_facets=media, delta_ctag=with_ctag),
        position=position or start_position(drive.log),
        limit=min(top, MAX_TOP) if top is not None and sim.knobs.delta_honours_top else sim.knobs.page_size,
        repeat_items=sim.knobs.repeat_items,
    )
    body: dict[str, Any] = {
        "@odata.context": f"{base}/v1.0/$metadata#Collection(driveItem)",
        "value": page.values,
    }
    if page.next is not None:
        number = page_number(position)
        nxt = page.next
        tok = encode_token(drive.id, sim.token_generation, nxt.mode, nxt.seq, nxt.cursor, page=number + 1)
        body["@odata.nextLink"] = loop_link(sim, request, drive.id, number, f"{here}?token={tok}{keep}")
    else:
        assert page.delta is not None
        tok = encode_token(drive.id, sim.token_generation, "D", page.delta.seq, 0)
        body["@odata.deltaLink"] = f"{here}?token={tok}{keep}"
    return json_response(body)


def _top(request: Request) -> int | None:
    """``$top`` of a delta request (None when not asked); not a positive integer: 400, as Graph answers."""
    value = request.query_params.get("$top")
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise GraphFault(400, "BadRequest", f"Invalid value '{value}' for query option $top.")
    return int(value)


async def get_item(request: Request, ctx: Ctx) -> Response:
    item = _live_item(ctx, request)
    body = item_json(item, ctx.sim, in_delta=False, media_facets=ctx.sim.knobs.media_facets)
    expand = (request.query_params.get("$expand") or "").lower()
    if "retentionlabel" in expand:
        label = label_json(item, unlabelled=ctx.sim.knobs.unlabelled_label)
        if label is not None:
            body["retentionLabel"] = label
    return json_response({"@odata.context": f"{base_url(request)}/v1.0/$metadata#driveItem/$entity", **body})


async def get_retention_label(request: Request, ctx: Ctx) -> Response:
    item = _live_item(ctx, request)
    label = label_json(item, unlabelled=ctx.sim.knobs.unlabelled_label)
    if label is None:
        raise GraphFault(404, "itemNotFound", NOT_FOUND)
    context = f"{base_url(request)}/v1.0/$metadata#drives('{item.drive_id}')/items('{item.id}')/retentionLabel/$entity"
    return json_response({"@odata.context": context, **label})


async def delete_item(request: Request, ctx: Ctx) -> Response:
    _check_deletable(ctx, request, if_match=request.headers.get("if-match"))
    ctx.sim.delete_item(_live_item(ctx, request), by="app")
    return Response(status_code=204)


async def permanent_delete(request: Request, ctx: Ctx) -> Response:
    # permanentDelete documents no If-Match: a header sent anyway is ignored, as Graph does.
    _check_deletable(ctx, request, if_match=None)
    ctx.sim.delete_item(_live_item(ctx, request), by="app", permanent=True)
    return Response(status_code=204)


def _check_deletable(ctx: Ctx, request: Request, *, if_match: str | None) -> None:
    knobs = ctx.sim.knobs
    if knobs.deny_all_deletes:
        # What a token without Files.ReadWrite.All / Sites.ReadWrite.All gets on every delete.
        raise GraphFault(
            403,
            "accessDenied",
            "Access denied. You do not have permission to perform this action or access this resource.",
        )
    item = _live_item(ctx, request)
    if if_match and if_match.strip() != "*" and if_match not in (etag(item), ctag(item)):
        raise GraphFault(412, "resourceModified", "ETag does not match current item's value.")
    now = ctx.sim.now
    locked = knobs.locked_items.get(item.id)
    if locked is not None and locked.applies(now):
        locked.consume()
        raise GraphFault(423, "resourceLocked", "The resource you are attempting to access is locked.")
    forbidden = knobs.forbidden_items.get(item.id)
    if forbidden is not None and forbidden.applies(now):
        forbidden.consume()
        raise GraphFault(403, "accessDenied", "Access denied. The item is on hold and cannot be deleted.")
    if item.label is not None and item.label.blocks_delete:
        raise GraphFault(
            403,
            "accessDenied",
            f"Item is protected by the retention label '{item.label.name}' and cannot be deleted.",
        )


ROUTES = [
    Route("/v1.0/drives/{drive_id}", graph_endpoint("drive.get", RU_SINGLE)(get_drive), methods=["GET"]),
    Route(
        "/v1.0/drives/{drive_id}/root/delta",
        graph_endpoint("drive.delta", RU_LIST)(drive_delta),
        methods=["GET"],
    ),
    Route(
        "/v1.0/drives/{drive_id}/items/{item_id}",
        graph_endpoint("item.get", RU_SINGLE)(get_item),
        methods=["GET"],
    ),
    Route(
        "/v1.0/drives/{drive_id}/items/{item_id}",
        graph_endpoint("item.delete", RU_LIST)(delete_item),
        methods=["DELETE"],
    ),
    Route(
        "/v1.0/drives/{drive_id}/items/{item_id}/retentionLabel",
        graph_endpoint("item.retentionLabel", RU_SINGLE)(get_retention_label),
        methods=["GET"],
    ),
    Route(
        "/v1.0/drives/{drive_id}/items/{item_id}/permanentDelete",
        graph_endpoint("item.permanentDelete", RU_LIST)(permanent_delete),
        methods=["POST"],
    ),
]
