"""Simulated Graph directory endpoints: users and groups (delta, get), their drives, mailbox settings.

Group members and owners are in routes_members.py, teams and channels in routes_teams.py.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .delta import loop_link, page_number, read_page, read_token, start_position
from .endpoint import Ctx, GraphFault, base_url, graph_endpoint, json_response
from .model import SimGroup, SimUser, TenantModel
from .reqlog import RU_LIST, RU_SINGLE
from .wire import (
    drive_json,
    encode_token,
    group_json,
    mailbox_settings_json,
    parse_select,
    removed_json,
    user_json,
)


def user_not_found(ref: str) -> GraphFault:
    return GraphFault(
        404,
        "Request_ResourceNotFound",
        f"Resource '{ref}' does not exist or one of its queried reference-property objects are not present.",
    )


def find_group(sim: TenantModel, ref: str) -> SimGroup:
    group = sim.groups.get(sim.resolve(ref))
    if group is None or group.removed:
        raise user_not_found(ref)
    return group


def _find_user(sim: TenantModel, ref: str) -> SimUser:
    user = sim.find_user(ref)
    if user is None:
        raise user_not_found(ref)
    return user


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
        number = page_number(position)
        nxt = page.next
        tok = encode_token(scope, sim.token_generation, nxt.mode, nxt.seq, nxt.cursor, select_text, number + 1)
        body["@odata.nextLink"] = loop_link(sim, request, scope, number, f"{base}/v1.0/{scope}/delta?$skiptoken={tok}")
    else:
        assert page.delta is not None
        tok = encode_token(scope, sim.token_generation, "D", page.delta.seq, 0, select_text)
        body["@odata.deltaLink"] = f"{base}/v1.0/{scope}/delta?$deltatoken={tok}"
    return json_response(body)


async def get_user(request: Request, ctx: Ctx) -> Response:
    user = _find_user(ctx.sim, request.path_params["user_id"])
    select = parse_select(request.query_params.get("$select"))
    body = {"@odata.context": f"{base_url(request)}/v1.0/$metadata#users/$entity", **user_json(user, select)}
    return json_response(body)


async def get_user_drive(request: Request, ctx: Ctx) -> Response:
    user = _find_user(ctx.sim, request.path_params["user_id"])
    if user.drive_id is None:
        # A OneDrive is provisioned on first sign-in only; an app asking for it gets 404.
        raise GraphFault(404, "itemNotFound", "The resource could not be found.")
    ctx.drive_id = user.drive_id
    return json_response(drive_json(ctx.sim.drives[user.drive_id], ctx.sim))


async def get_mailbox_settings(request: Request, ctx: Ctx) -> Response:
    """A user without an Exchange Online mailbox gets 404 MailboxNotEnabledForRESTAPI, as Graph answers."""
    user = _find_user(ctx.sim, request.path_params["user_id"])
    if not user.has_mailbox:
        raise GraphFault(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        )
    context = f"{base_url(request)}/v1.0/$metadata#users('{user.id}')/mailboxSettings"
    return json_response({"@odata.context": context, **mailbox_settings_json(user)})


async def get_group_drive(request: Request, ctx: Ctx) -> Response:
    group = find_group(ctx.sim, request.path_params["group_id"])
    if group.drive_id is None:
        raise GraphFault(404, "itemNotFound", "The resource could not be found.")
    ctx.drive_id = group.drive_id
    return json_response(drive_json(ctx.sim.drives[group.drive_id], ctx.sim))


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
        "/v1.0/users/{user_id}/mailboxSettings",
        graph_endpoint("user.mailboxSettings", RU_SINGLE)(get_mailbox_settings),
        methods=["GET"],
    ),
    Route(
        "/v1.0/groups/{group_id}/drive",
        graph_endpoint("group.drive", RU_SINGLE)(get_group_drive),
        methods=["GET"],
    ),
]
