"""Simulated Teams endpoints: a team's channels and a channel's files folder.

- ``membershipType`` is an evolvable enum in v1.0: ``shared`` is declared after ``unknownFutureValue``, so
  Graph answers ``unknownFutureValue`` for a shared channel unless the request carries
  ``Prefer: include-unknown-enum-members`` (the channel resource page says so).
- ``filesFolder`` answers the channel's folder as a driveItem shaped like Microsoft's example: no eTag or
  cTag, ``parentReference`` with driveId and driveType, and ``createdDateTime`` the sentinel
  ``0001-01-01T00:00:00Z`` (knob ``files_folder_created_sentinel``). Knob ``failing_files_folders`` makes a
  channel's folder fail (an unprovisioned private channel: 404 itemNotFound "Sharepoint folder not found.";
  the doc's known issue about special characters in channel names), ``migrated_channels`` makes it answer
  the root folder of the channel's own site drive (migrated private channels).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .endpoint import Ctx, GraphFault, base_url, graph_endpoint, json_response
from .events import find_channel
from .model import SimChannel, SimGroup, TenantModel
from .reqlog import RU_LIST, RU_SINGLE
from .wire import item_json, parse_select

SENTINEL_CREATED = "0001-01-01T00:00:00Z"


def _find_team(sim: TenantModel, ref: str) -> SimGroup:
    group = sim.groups.get(sim.resolve(ref))
    if group is None or group.removed or not group.is_team:
        raise GraphFault(404, "NotFound", f"No team found with Group Id {ref}")
    return group


def _wants_unknown_enum_members(request: Request) -> bool:
    prefer = ",".join(request.headers.getlist("prefer")).lower()
    return "include-unknown-enum-members" in prefer


async def list_channels(request: Request, ctx: Ctx) -> Response:
    team = _find_team(ctx.sim, request.path_params["team_id"])
    select = {s.lower() for s in parse_select(request.query_params.get("$select")) or []}
    evolvable_ok = _wants_unknown_enum_members(request)
    values = []
    for ch in team.channels:
        membership = ch.membership_type
        if membership == "shared" and not evolvable_ok:
            membership = "unknownFutureValue"
        full = {
            "id": ch.id,
            "displayName": ch.display_name,
            "membershipType": membership,
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


def _channel_setting(sim: TenantModel, table: dict[str, dict[str, Any]], channel: SimChannel) -> dict[str, Any] | None:
    """The knob entry naming ``channel``: by channel id, ``"<team key>/<channel name>"`` or a key."""
    for ref, spec in table.items():
        try:
            if find_channel(sim, ref).id == channel.id:
                return spec
        except KeyError:
            continue
    return None


async def get_files_folder(request: Request, ctx: Ctx) -> Response:
    sim = ctx.sim
    team = _find_team(sim, request.path_params["team_id"])
    channel = next((c for c in team.channels if c.id == request.path_params["channel_id"]), None)
    if channel is None:
        raise GraphFault(404, "NotFound", "Channel not found.")
    failure = _channel_setting(sim, sim.knobs.failing_files_folders, channel)
    if failure is not None:
        raise GraphFault(failure["status"], failure["code"], failure["message"])
    drive = sim.drives[channel.drive_id]
    ctx.drive_id = drive.id
    migrated = _channel_setting(sim, sim.knobs.migrated_channels, channel)
    folder = drive.items[drive.root_id if migrated is not None else channel.folder_id]
    body = item_json(folder, sim, in_delta=False)
    body.pop("eTag", None)  # Microsoft's filesFolder example carries neither eTag nor cTag
    body.pop("cTag", None)
    if migrated is not None and not migrated["parent_reference"]:
        body.pop("parentReference", None)  # a root folder, like the documented root driveItem: no parent
    if sim.knobs.files_folder_created_sentinel:
        body["createdDateTime"] = SENTINEL_CREATED
    return json_response({"@odata.context": f"{base_url(request)}/v1.0/$metadata#driveItem/$entity", **body})


ROUTES = [
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
