"""Simulated SharePoint lists and group membership seen from a user.

- ``GET /sites/{host}:/{path}``: a site by its URL's host and path.
- ``GET|POST /sites/{id}/lists``; ``GET /sites/{id}/lists/{list-id | list-title}`` (``$expand=columns``).
  Creating a list whose title is taken answers 409 nameAlreadyExists.
- ``GET|POST /sites/{id}/lists/{id}/columns``.
- ``GET|POST /sites/{id}/lists/{id}/items`` (``$expand=fields``; a POST takes ``{"fields": {...}}``),
  ``GET|DELETE /sites/{id}/lists/{id}/items/{id}``, ``PATCH .../items/{id}/fields``.
  Graph writes are the application's own (no user id in ``lastModifiedBy``), unless the request names a user
  in the simulator-only header ``X-Simulator-User`` (scenario key, UPN or id): then they are that user's, as
  when a person edits the list in SharePoint.
- ``GET .../items/delta`` (``$expand=fields``; links carry ``token=``): a full enumeration, then what changed;
  an unchanged list answers one empty page with its deltaLink. 410 + Location on an expired token.
- ``GET .../items/{id}/versions`` (``$expand=fields``), newest first.
- ``GET /users/{id}/transitiveMemberOf`` (groups, typed by ``@odata.type``) and
  ``.../transitiveMemberOf/microsoft.graph.group`` (a cast: an advanced query, as for transitiveMembers).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .delta import loop_link, page_number, read_page, read_token, start_position
from .endpoint import Ctx, GraphFault, base_url, graph_endpoint, json_response
from .lists import ListError, SimList
from .model import SimSite
from .reqlog import RU_LIST, RU_SINGLE
from .routes_directory import user_not_found
from .routes_members import _advanced_query, _page, _render_member
from .wire import decode_token, encode_token, site_json
from .wire_lists import column_json, expands_fields, fields_json, item_json, list_json, version_json

NOT_FOUND = "The resource could not be found."
LIST_NOT_FOUND = "The specified list was not found"
AS_USER = "x-simulator-user"


def _site(ctx: Ctx, site_id: str) -> SimSite:
    site = ctx.sim.find_site(site_id)
    if site is None:
        raise GraphFault(404, "itemNotFound", NOT_FOUND)
    return site


def _list(request: Request, ctx: Ctx) -> SimList:
    site = _site(ctx, request.path_params["site_id"])
    lst = ctx.sim.find_list(site.id, request.path_params["list_id"])
    if lst is None:
        raise GraphFault(404, "itemNotFound", LIST_NOT_FOUND)
    return lst


def _fault(exc: ListError) -> GraphFault:
    return GraphFault(exc.status, exc.code, exc.message)


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise GraphFault(400, "invalidRequest", "Unable to read JSON request payload.") from exc
    if not isinstance(data, dict):
        raise GraphFault(400, "invalidRequest", "Unable to read JSON request payload.")
    return data


def _expand_fields(request: Request) -> bool:
    return expands_fields(request.query_params.get("$expand") or request.query_params.get("expand"))


async def get_site_by_path(request: Request, ctx: Ctx) -> Response:
    site = ctx.sim.find_site_by_path(request.path_params["host"], request.path_params["site_path"])
    if site is None:
        raise GraphFault(404, "itemNotFound", "Requested site could not be found")
    return json_response({"@odata.context": f"{base_url(request)}/v1.0/$metadata#sites/$entity", **site_json(site)})


async def lists(request: Request, ctx: Ctx) -> Response:
    site = _site(ctx, request.path_params["site_id"])
    if request.method == "POST":
        data = await _body(request)
        ctx.kind, ctx.ru = "list.create", RU_LIST
        columns = data.get("columns") or []
        if not isinstance(columns, list) or (data.get("list") or {}).get("template", "genericList") != "genericList":
            raise GraphFault(400, "invalidRequest", "Only genericList lists with a columns array are simulated.")
        try:
            lst = ctx.sim.add_list(site.id, str(data.get("displayName") or ""), columns)
        except ListError as exc:
            raise _fault(exc) from exc
        context = f"{base_url(request)}/v1.0/$metadata#sites('{site.id}')/lists/$entity"
        return json_response({"@odata.context": context, **list_json(ctx.sim, lst, columns=False)}, 201)
    body = [list_json(ctx.sim, x, columns=False) for x in ctx.sim.site_lists(site.id)]
    return json_response({"@odata.context": f"{base_url(request)}/v1.0/$metadata#sites('{site.id}')/lists",
                          "value": body})


async def get_list(request: Request, ctx: Ctx) -> Response:
    lst = _list(request, ctx)
    expand = (request.query_params.get("$expand") or request.query_params.get("expand") or "").lower()
    body = list_json(ctx.sim, lst, columns="columns" in expand)
    return json_response({"@odata.context": f"{base_url(request)}/v1.0/$metadata#sites('{lst.site_id}')/lists/$entity",
                          **body})


async def columns(request: Request, ctx: Ctx) -> Response:
    lst = _list(request, ctx)
    context = f"{base_url(request)}/v1.0/$metadata#sites('{lst.site_id}')/lists('{lst.id}')/columns"
    if request.method == "POST":
        ctx.kind, ctx.ru = "list.columns.create", RU_LIST
        try:
            column = ctx.sim.add_list_column(lst, await _body(request))
        except ListError as exc:
            raise _fault(exc) from exc
        return json_response({"@odata.context": context + "/$entity", **column_json(column)}, 201)
    return json_response({"@odata.context": context, "value": [column_json(c) for c in lst.columns]})


def _actor(request: Request, ctx: Ctx) -> str | None:
    ref = request.headers.get(AS_USER)
    if not ref:
        return None
    user = ctx.sim.find_user(ref)
    if user is None:
        raise user_not_found(ref)
    return user.id


async def items(request: Request, ctx: Ctx) -> Response:
    lst = _list(request, ctx)
    sim = ctx.sim
    base = f"{base_url(request)}/v1.0/sites/{lst.site_id}/lists/{lst.id}/items"
    if request.method == "POST":
        ctx.kind, ctx.ru = "list.item.create", RU_LIST
        fields = (await _body(request)).get("fields")
        if not isinstance(fields, dict):
            raise GraphFault(400, "invalidRequest", "A listItem is created with its fields.")
        try:
            item = sim.add_list_item(lst, _actor(request, ctx), fields)
        except ListError as exc:
            raise _fault(exc) from exc
        return json_response(item_json(sim, lst, item, fields=True), 201)
    position, kept = read_token(sim, "listitems:" + lst.id, request.query_params.get("$skiptoken"), base,
                                delta=False)
    fields = _expand_fields(request) or kept == "fields"
    page = read_page(order=lst.order, log=lst.log, lookup=lst.items.__getitem__, is_gone=lambda i: i.deleted,
                     render=lambda i: item_json(sim, lst, i, fields=fields),
                     position=position or start_position(lst.log), limit=sim.knobs.page_size)
    body: dict[str, Any] = {"@odata.context": f"{base_url(request)}/v1.0/$metadata#sites('{lst.site_id}')/lists"
                            f"('{lst.id}')/items", "value": page.values}
    if page.next is not None:
        tok = encode_token("listitems:" + lst.id, sim.token_generation, "F", page.next.seq, page.next.cursor,
                           "fields" if fields else None)
        body["@odata.nextLink"] = f"{base}?$skiptoken={tok}"
    return json_response(body)


async def item(request: Request, ctx: Ctx) -> Response:
    lst = _list(request, ctx)
    try:
        found = ctx.sim.live_list_item(lst, request.path_params["item_id"])
        if request.method == "DELETE":
            ctx.kind, ctx.ru = "list.item.delete", RU_LIST
            ctx.sim.delete_list_item(lst, found.id)
            return Response(status_code=204)
    except ListError as exc:
        raise _fault(exc) from exc
    return json_response(item_json(ctx.sim, lst, found, fields=_expand_fields(request)))


async def item_fields(request: Request, ctx: Ctx) -> Response:
    lst = _list(request, ctx)
    ctx.kind, ctx.ru = "list.item.update", RU_LIST
    try:
        found = ctx.sim.edit_list_item(lst, request.path_params["item_id"], _actor(request, ctx), await _body(request))
    except ListError as exc:
        raise _fault(exc) from exc
    return json_response(fields_json(ctx.sim, lst, found, found.versions[-1]))


async def items_delta(request: Request, ctx: Ctx) -> Response:
    lst = _list(request, ctx)
    sim = ctx.sim
    scope = "list:" + lst.id
    here = f"{base_url(request)}/v1.0/sites/{lst.site_id}/lists/{lst.id}/items/delta"
    token = request.query_params.get("token")
    peek = decode_token(token) if token else None  # an expired token still says whether fields were asked for
    fields = _expand_fields(request) or (peek is not None and peek[5] == "fields")
    position, _ = read_token(sim, scope, token, here + ("?$expand=fields" if fields else ""))
    if position is not None and position.mode != "F":
        ctx.kind, ctx.ru = "list.items.delta.token", RU_SINGLE
    page = read_page(order=lst.order, log=lst.log, lookup=lst.items.__getitem__, is_gone=lambda i: i.deleted,
                     render=lambda i: item_json(sim, lst, i, fields=fields, in_delta=True),
                     position=position or start_position(lst.log), limit=sim.knobs.page_size)
    body: dict[str, Any] = {"@odata.context": f"{base_url(request)}/v1.0/$metadata#Collection(listItem)",
                            "value": page.values}
    keep = "fields" if fields else None
    if page.next is not None:
        number = page_number(position)
        nxt = page.next
        tok = encode_token(scope, sim.token_generation, nxt.mode, nxt.seq, nxt.cursor, keep, number + 1)
        body["@odata.nextLink"] = loop_link(sim, request, scope, number, f"{here}?token={tok}")
    else:
        assert page.delta is not None
        tok = encode_token(scope, sim.token_generation, "D", page.delta.seq, 0, keep)
        body["@odata.deltaLink"] = f"{here}?token={tok}"
    return json_response(body)


async def item_versions(request: Request, ctx: Ctx) -> Response:
    lst = _list(request, ctx)
    try:
        found = ctx.sim.live_list_item(lst, request.path_params["item_id"])
    except ListError as exc:
        raise _fault(exc) from exc
    fields = _expand_fields(request)
    values = [version_json(ctx.sim, lst, found, v, fields=fields) for v in reversed(found.versions)]
    context = (f"{base_url(request)}/v1.0/$metadata#sites('{lst.site_id}')/lists('{lst.id}')"
               f"/items('{found.id}')/versions")
    return json_response({"@odata.context": context, "value": values})


def _member_user(ctx: Ctx, ref: str) -> str:
    user = ctx.sim.find_user(ref)
    if user is None:
        raise user_not_found(ref)
    return user.id


async def member_of_groups(request: Request, ctx: Ctx) -> Response:
    user_id = _member_user(ctx, request.path_params["user_id"])
    advanced = _advanced_query(request)
    if ctx.sim.knobs.cast_requires_advanced_query and not advanced:
        raise GraphFault(400, "Request_UnsupportedQuery",
                         "OData cast 'microsoft.graph.group' is not supported because the required parameters might "
                         "be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. "
                         "Refer to https://aka.ms/graph-docs/advanced-queries for more information")
    return _page(request, ctx, token_scope="memberof:" + user_id, loop_scope="memberof:" + user_id,
                 ids=ctx.sim.member_of_ids(user_id), render=_render_member(ctx), context="groups", count=advanced)


async def member_of(request: Request, ctx: Ctx) -> Response:
    user_id = _member_user(ctx, request.path_params["user_id"])
    return _page(request, ctx, token_scope="allmemberof:" + user_id, loop_scope="memberof:" + user_id,
                 ids=ctx.sim.member_of_ids(user_id), render=_render_member(ctx), context="directoryObjects",
                 count=_advanced_query(request))


L = "/v1.0/sites/{site_id}/lists"
ROUTES = [
    Route(f"{L}/{{list_id}}/items/delta", graph_endpoint("list.items.delta", RU_LIST)(items_delta), methods=["GET"]),
    Route(f"{L}/{{list_id}}/items/{{item_id}}/versions", graph_endpoint("list.item.versions", RU_LIST)(item_versions),
          methods=["GET"]),
    Route(f"{L}/{{list_id}}/items/{{item_id}}/fields", graph_endpoint("list.item.update", RU_LIST)(item_fields),
          methods=["PATCH"]),
    Route(f"{L}/{{list_id}}/items/{{item_id}}", graph_endpoint("list.item", RU_SINGLE)(item),
          methods=["GET", "DELETE"]),
    Route(f"{L}/{{list_id}}/items", graph_endpoint("list.items", RU_LIST)(items), methods=["GET", "POST"]),
    Route(f"{L}/{{list_id}}/columns", graph_endpoint("list.columns", RU_LIST)(columns), methods=["GET", "POST"]),
    Route(f"{L}/{{list_id}}", graph_endpoint("list.get", RU_SINGLE)(get_list), methods=["GET"]),
    Route(L, graph_endpoint("list.lists", RU_LIST)(lists), methods=["GET", "POST"]),
    Route("/v1.0/sites/{host}:/{site_path:path}", graph_endpoint("site.byPath", RU_SINGLE)(get_site_by_path),
          methods=["GET"]),
    Route("/v1.0/users/{user_id}/transitiveMemberOf/microsoft.graph.group",
          graph_endpoint("user.memberOf", RU_LIST)(member_of_groups), methods=["GET"]),
    Route("/v1.0/users/{user_id}/transitiveMemberOf", graph_endpoint("user.transitiveMemberOf", RU_LIST)(member_of),
          methods=["GET"]),
]
