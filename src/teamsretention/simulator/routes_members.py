"""Simulated group membership: transitive members (with and without the user cast) and owners.

- ``GET /groups/{id}/transitiveMembers``: every member, nested groups included, as directoryObjects typed
  by ``@odata.type`` (``#microsoft.graph.user`` / ``#microsoft.graph.group``).
- ``GET /groups/{id}/transitiveMembers/microsoft.graph.user``: the users only. The advanced-query doc lists
  "Use of OData cast with transitive members list" among the queries that need the advanced query
  parameters (``ConsistencyLevel: eventual`` and ``$count=true``): without both the simulator answers 400
  ``Request_UnsupportedQuery`` (knob ``cast_requires_advanced_query``). With both, ``@odata.count`` is the
  number of members on all pages; the nextLink keeps ``$count=true``, the header must be sent again.
- ``GET /groups/{id}/owners``: the users the scenario names as owners (none unless given).

Both spellings of ``transitiveMembers`` are served: Graph's path segments are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .delta import loop_link, page_number, read_token
from .endpoint import Ctx, GraphFault, base_url, graph_endpoint, json_response
from .model import SimGroup, SimUser
from .reqlog import RU_LIST
from .routes_directory import find_group
from .wire import directory_object_json, encode_token, parse_select

OWNER_DEFAULT_SELECT = ["id", "displayName", "userPrincipalName", "mail"]


def _advanced_query(request: Request) -> bool:
    return (
        request.headers.get("consistencylevel", "").strip().lower() == "eventual"
        and request.query_params.get("$count", "").strip().lower() == "true"
    )


def _page(
    request: Request,
    ctx: Ctx,
    *,
    token_scope: str,
    loop_scope: str,
    ids: list[str],
    render: Callable[[str, list[str] | None], dict[str, Any]],
    context: str,
    count: bool = False,
    default_select: list[str] | None = None,
) -> Response:
    """One page of a directoryObject collection: ``$skiptoken`` paging, ``$select`` kept in the token."""
    sim = ctx.sim
    here = f"{base_url(request)}{request.url.path}"
    select_param = request.query_params.get("$select")
    position = None
    if request.query_params.get("$skiptoken"):
        position, token_select = read_token(
            sim, token_scope, request.query_params["$skiptoken"], here, delta=False
        )
        select_param = select_param or token_select
    start = position.cursor if position else 0
    select = parse_select(select_param) or default_select
    size = sim.knobs.directory_page_size
    body: dict[str, Any] = {"@odata.context": f"{base_url(request)}/v1.0/$metadata#{context}"}
    if count:
        body["@odata.count"] = len(ids)
    body["value"] = [render(obj_id, select) for obj_id in ids[start : start + size]]
    if start + size < len(ids):
        number = page_number(position)
        tok = encode_token(token_scope, sim.token_generation, "F", 0, start + size, select_param, number + 1)
        link = f"{here}?" + ("$count=true&" if count else "") + f"$skiptoken={tok}"
        body["@odata.nextLink"] = loop_link(sim, request, loop_scope, number, link)
    return json_response(body)


def _render_member(ctx: Ctx) -> Callable[[str, list[str] | None], dict[str, Any]]:
    def render(obj_id: str, select: list[str] | None) -> dict[str, Any]:
        obj: SimUser | SimGroup = ctx.sim.users[obj_id] if obj_id in ctx.sim.users else ctx.sim.groups[obj_id]
        return directory_object_json(obj, select)

    return render


async def transitive_user_members(request: Request, ctx: Ctx) -> Response:
    group = find_group(ctx.sim, request.path_params["group_id"])
    advanced = _advanced_query(request)
    if ctx.sim.knobs.cast_requires_advanced_query and not advanced:
        raise GraphFault(
            400,
            "Request_UnsupportedQuery",
            "OData cast 'microsoft.graph.user' is not supported because the required parameters might be "
            "missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to "
            "https://aka.ms/graph-docs/advanced-queries for more information",
        )
    return _page(
        request,
        ctx,
        token_scope="members:" + group.id,
        loop_scope="members:" + group.id,
        ids=ctx.sim.transitive_user_ids(group),
        render=_render_member(ctx),
        context="users",
        # Without the header Graph silently ignores $count=true (advanced-query doc, error handling).
        count=advanced,
    )


async def transitive_members(request: Request, ctx: Ctx) -> Response:
    group = find_group(ctx.sim, request.path_params["group_id"])
    return _page(
        request,
        ctx,
        token_scope="allmembers:" + group.id,
        loop_scope="members:" + group.id,
        ids=ctx.sim.transitive_member_ids(group),
        render=_render_member(ctx),
        context="directoryObjects",
        count=_advanced_query(request),
    )


async def group_owners(request: Request, ctx: Ctx) -> Response:
    sim = ctx.sim
    group = find_group(sim, request.path_params["group_id"])
    owners = [o for o in group.owner_ids if o in sim.users and not sim.users[o].removed]
    return _page(
        request,
        ctx,
        token_scope="owners:" + group.id,
        loop_scope="owners:" + group.id,
        ids=owners,
        render=_render_member(ctx),
        context="directoryObjects",
        count=_advanced_query(request),
        default_select=OWNER_DEFAULT_SELECT,
    )


ROUTES = [
    Route(
        "/v1.0/groups/{group_id}/owners",
        graph_endpoint("group.owners", RU_LIST)(group_owners),
        methods=["GET"],
    ),
]
for _spelling in ("transitiveMembers", "transitivemembers"):
    ROUTES += [
        Route(
            f"/v1.0/groups/{{group_id}}/{_spelling}/microsoft.graph.user",
            graph_endpoint("group.members", RU_LIST)(transitive_user_members),
            methods=["GET"],
        ),
        Route(
            f"/v1.0/groups/{{group_id}}/{_spelling}",
            graph_endpoint("group.transitiveMembers", RU_LIST)(transitive_members),
            methods=["GET"],
        ),
    ]
