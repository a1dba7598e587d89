"""Simulated Graph directory endpoints: users, groups, teams, channels, drives of users and groups."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .delta import read_page, read_token, start_position
from .endpoint import Ctx, GraphFault, base_url, graph_endpoint, json_response
from .model import SimGroup, TenantModel
from .reqlog import RU_LIST, RU_SINGLE
from .wire import (
    drive_json,
    encode_token,
    group_json,
    item_json,
    parse_select,
    removed_json,
    user_json,
)


def _user_not_found(ref: str) -> GraphFault:
    return GraphFault(
        404,
        "Request_ResourceNotFound",
        f"Resource '{ref}' does not exist or one of its queried reference-property objects are not present.",
    )


def _find_group(sim: TenantModel, ref: str) -> SimGroup:
    group = sim.groups.get(sim.resolve(ref))
    if group is None or group.removed:
        raise _user_not_found(ref)
    return group


async def users_delta(request: Request, ctx: Ctx) -> Response:
    return _directory_delta(request, ctx, "users")


async def groups_delta(request: Request, ctx: Ctx) -> Response:
    return _directory_delta(request, ctx, "groups")


def _directory_delta(request: Request, ctx: Ctx, scope: str) -> Response:
    sim = ctx.sim
    base = base_url(request)
    select_param = request.query_params.get("$select")
    fresh = f"{base}/v1.0/{scope}/delta" + (f"?$select={select_param}" if select_param else "")
    token = request.query_params.get("$deltatoken") or request.query_params.get("$skiptoken")
    position, token_select = read_token(sim, scope, token, fresh)
    select_text = select_param or token_select
    select = parse_select(select_text)
    if scope == "users":
        objects: dict[str, Any] = sim.users
        order, log = sim.user_order, sim.user_log

        def render(obj: Any) -> dict[str, Any]:
            return removed_json(obj.id) if obj.removed else user_json(obj, select, always_id=True)
    else:
        objects, order, log = sim.groups, sim.group_order, sim.group_log

        def render(obj: Any) -> dict[str, Any]:
            return removed_json(obj.id) if obj.removed else group_json(obj, select, always_id=True)

    if position is None or position.mode == "F":
        ctx.kind, ctx.ru = f"{scope}.delta", RU_LIST
    else:
        ctx.kind, ctx.ru = f"{scope}.delta.token", RU_SINGLE
    page = read_page(
        order=order,
        log=log,
        lookup=objects.__getitem__,
        is_gone=lambda o: o.removed,
        render=render,
        position=position or start_position(log),
        limit=sim.knobs.directory_page_size,
    )
    body: dict[str, Any] = {
        "@odata.context": f"{base}/v1.0/$metadata#{scope}" + (f"({select_text})" if select_text else ""),
        "value": page.values,
    }
    if page.next is not None:
        tok = encode_token(
            scope, sim.token_generation, page.next.mode, page.next.seq, page.next.cursor, select_text
        )
        body["@odata.nextLink"] = f"{base}/v1.0/{scope}/delta?$skiptoken={tok}"
    else:
        assert page.delta is not None
        tok = encode_token(scope, sim.token_generation, "D", page.delta.seq, 0, select_text)
        body["@odata.deltaLink"] = f"{base}/v1.0/{scope}/delta?$deltatoken={tok}"
    return json_response(body)


async def get_user(request: Request, ctx: Ctx) -> Response:
    ref = request.path_params["user_id"]
    user = ctx.sim.find_user(ref)
    if user is None:
        raise _user_not_found(ref)
    select = parse_select(request.query_params.get("$select"))
    body = {"@odata.context": f"{base_url(request)}/v1.0/$metadata#users/$entity", **user_json(user, select)}
    return json_response(body)


async def transitive_user_members(request: Request, ctx: Ctx) -> Response:
    sim = ctx.sim
    group = _find_group(sim, request.path_params["group_id"])
    base = base_url(request)
    here = f"{base}{request.url.path}"
    select_param = request.query_params.get("$select")
    members = sim.transitive_user_ids(group)
    start = 0
    if request.query_params.get("$skiptoken"):
        position, token_select = read_token(
            sim, "members:" + group.id, request.query_params["$skiptoken"], here, delta=False
        )
        start = position.cursor if position else 0
        select_param = select_param or token_select
    select = parse_select(select_param)
    size = sim.knobs.directory_page_size
    chunk = members[start : start + size]
    body: dict[str, Any] = {
        "@odata.context": f"{base}/v1.0/$metadata#users",
        "value": [
            {"@odata.type": "#microsoft.graph.user", **user_json(sim.users[m], select, always_id=True)}
            for m in chunk
        ],
    }
    if start + size < len(members):
        tok = encode_token("members:" + group.id, sim.token_generation, "F", 0, start + size, select_param)
        body["@odata.nextLink"] = f"{here}?$skiptoken={tok}"
    return json_response(body)


async def get_user_drive(request: Request, ctx: Ctx) -> Response:
    ref = request.path_params["user_id"]
    user = ctx.sim.find_user(ref)
    if user is None:
        raise _user_not_found(ref)
    if user.drive_id is None:
        # A OneDrive is provisioned on first sign-in only; an app asking for it gets 404.
        raise GraphFault(404, "itemNotFound", "The resource could not be found.")
    ctx.drive_id = user.drive_id
    return json_response(drive_json(ctx.sim.drives[user.drive_id], ctx.sim))


async def get_group_drive(request: Request, ctx: Ctx) -> Response:
    group = _find_group(ctx.sim, request.path_params["group_id"])
    if group.drive_id is None:
        raise GraphFault(404, "itemNotFound", "The resource could not be found.")
    ctx.drive_id = group.drive_id
    return json_response(drive_json(ctx.sim.drives[group.drive_id], ctx.sim))


def _find_team(sim: TenantModel, ref: str) -> SimGroup:
    group = sim.groups.get(sim.resolve(ref))
    if group is None or group.removed or not group.is_team:
        raise GraphFault(404, "NotFound", f"No team found with Group Id {ref}")
    return group


async def list_channels(request: Request, ctx: Ctx) -> Response:
    team = _find_team(ctx.sim, request.path_params["team_id"])
    select = {s.lower() for s in parse_select(request.query_params.get("$select")) or []}
    values = []
    for ch in team.channels:
        full = {
            "id": ch.id,
            "displayName": ch.display_name,
            "membershipType": ch.membership_type,
            "description": None,
            "email": None,
            "webUrl": f"https://teams.microsoft.com/l/channel/{ch.id}",
        }
        values.append({k: v for k, v in full.items() if not select or k.lower() in select})
    return json_response(
        {
            "@odata.context": f"{base_url(request)}/v1.0/$metadata#teams('{team.id}')/channels",
            "@odata.count": len(values),
            "value": values,
        }
    )


async def get_files_folder(request: Request, ctx: Ctx) -> Response:
    team = _find_team(ctx.sim, request.path_params["team_id"])
    channel = next((c for c in team.channels if c.id == request.path_params["channel_id"]), None)
    if channel is None:
        raise GraphFault(404, "NotFound", "Channel not found.")
    folder = ctx.sim.drives[channel.drive_id].items[channel.folder_id]
    ctx.drive_id = channel.drive_id
    body = item_json(folder, ctx.sim, in_delta=False)
    body.pop("eTag", None)  # Microsoft's filesFolder example carries neither eTag nor cTag
    body.pop("cTag", None)
    return json_response({"@odata.context": f"{base_url(request)}/v1.0/$metadata#driveItem/$entity", **body})


ROUTES = [
    Route("/v1.0/users/delta", graph_endpoint("users.delta", RU_LIST)(users_delta), methods=["GET"]),
    Route("/v1.0/groups/delta", graph_endpoint("groups.delta", RU_LIST)(groups_delta), methods=["GET"]),
    Route("/v1.0/users/{user_id}", graph_endpoint("user.get", RU_SINGLE)(get_user), methods=["GET"]),
    Route(
        "/v1.0/users/{user_id}/drive",
        graph_endpoint("user.drive", RU_SINGLE)(get_user_drive),
        methods=["GET"],
    ),
    Route(
        "/v1.0/groups/{group_id}/drive",
        graph_endpoint("group.drive", RU_SINGLE)(get_group_drive),
        methods=["GET"],
    ),
    Route(
        "/v1.0/teams/{team_id}/channels",
        graph_endpoint("channels.list", RU_LIST)(list_channels),
        methods=["GET"],
    ),
    Route(
        "/v1.0/teams/{team_id}/channels/{channel_id}/filesFolder",
        graph_endpoint("channel.filesFolder", RU_SINGLE)(get_files_folder),
        methods=["GET"],
    ),
]
# Graph path segments are case-insensitive; clients spell this one both ways.
for _spelling in ("transitiveMembers", "transitivemembers"):
    ROUTES.append(
        Route(
            f"/v1.0/groups/{{group_id}}/{_spelling}/microsoft.graph.user",
            graph_endpoint("group.members", RU_LIST)(transitive_user_members),
            methods=["GET"],
        )
    )
