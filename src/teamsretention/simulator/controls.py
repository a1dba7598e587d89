"""The simulator's own control API under ``/_simulator/`` (JSON, never part of Graph).

- ``GET clock`` / ``POST clock`` ``{"now": iso}`` or ``{"advance": {"days": n, "hours": h}}``; also
  ``POST clock/advance`` ``{"days": n}``. Moving the clock fires the events it passes; it never runs back.
- ``GET events``: pending and fired events.
- ``GET mail`` (accepted messages in ``value``, refused ones in ``rejected``); ``DELETE mail`` clears it.
- ``GET recyclebin``; ``POST recyclebin/{drive}/{item}/restore``.
- ``GET requests`` (``?recent=N``), ``DELETE requests`` resets the counters.
- ``GET knobs`` / ``POST knobs`` (a partial update).
- ``POST items/{drive}/{item}/label`` (``{"name": null}`` removes it); ``POST items/{drive}/{item}/modify``.
- ``GET state``: counts of users, drives, recordings.
- ``GET token``: an OAuth2-shaped answer (``token_type``, ``expires_in``, ``access_token``) whose access token is
  JWT-shaped and unsigned, its ``roles`` claim the knob ``app_roles``: what a client credentials token of the
  app would carry, for ``teamsretention check`` with ``graph.auth = none``. Graph here never asks for it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .events import parse_label
from .model import TenantModel
from .wire import etag


def _sim(request: Request) -> TenantModel:
    return request.app.state.sim  # type: ignore[no-any-return]


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    return data


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _clock_body(sim: TenantModel, fired: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "now": sim.now.isoformat(),
        "epoch": sim.epoch.isoformat(),
        "day": (sim.now - sim.epoch) / dt.timedelta(days=1),
        "pendingEvents": len(sim.events),
    }
    if fired is not None:
        body["fired"] = fired
    return body


async def clock(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "GET":
        return JSONResponse(_clock_body(sim))
    try:
        data = await _json(request)
        if "now" in data:
            when = dt.datetime.fromisoformat(str(data["now"]))
            fired = sim.advance_to(when)
        else:
            step = data.get("advance", data)
            fired = sim.advance(days=float(step.get("days", 0)), hours=float(step.get("hours", 0)))
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        return _bad(str(exc))
    return JSONResponse(_clock_body(sim, fired))


async def advance(request: Request) -> Response:
    sim = _sim(request)
    try:
        data = await _json(request)
        fired = sim.advance(days=float(data.get("days", 0)), hours=float(data.get("hours", 0)))
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    return JSONResponse(_clock_body(sim, fired))


async def events(request: Request) -> Response:
    sim = _sim(request)
    pending = [{"at": e.at.isoformat(), "kind": e.kind, "params": e.params} for e in sim.events]
    return JSONResponse({"pending": pending, "fired": sim.fired})


async def mail(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "DELETE":
        sim.mail_log.clear()
        sim.rejected_mail.clear()
        return Response(status_code=204)
    return JSONResponse({"value": sim.mail_log, "rejected": sim.rejected_mail})


async def recycle_bin(request: Request) -> Response:
    entries = [
        {
            "driveId": e.drive_id,
            "itemId": e.item_id,
            "name": e.name,
            "deletedDateTime": e.deleted_at.isoformat(),
            "deletedBy": e.deleted_by,
        }
        for e in _sim(request).recycle_bin.values()
    ]
    return JSONResponse({"value": entries})


async def restore(request: Request) -> Response:
    sim = _sim(request)
    drive_id, item_id = request.path_params["drive_id"], request.path_params["item_id"]
    if (drive_id, item_id) not in sim.recycle_bin:
        return _bad("not in the recycle bin", 404)
    item = sim.restore_item(drive_id, item_id)
    return JSONResponse({"driveId": drive_id, "itemId": item.id, "name": item.name, "eTag": etag(item)})


async def requests(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "DELETE":
        sim.requests.reset()
        return Response(status_code=204)
    recent = int(request.query_params.get("recent", "50"))
    return JSONResponse(sim.requests.to_dict(recent=recent))


async def knobs(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "POST":
        try:
            data = await _json(request)
            seed_before = sim.knobs.seed
            sim.knobs.update(data)
            if sim.knobs.seed != seed_before:
                sim.set_knobs(sim.knobs)
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
    return JSONResponse(sim.knobs.to_dict())


async def item_label(request: Request) -> Response:
    sim = _sim(request)
    item = sim.get_item(request.path_params["drive_id"], request.path_params["item_id"])
    if item is None or item.deleted:
        return _bad("no such item", 404)
    try:
        data = await _json(request)
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    spec = {
        "name": data.get("name"),
        "behavior": data.get("behavior", data.get("behaviorDuringRetentionPeriod", "retain")),
        "is_delete_allowed": data.get("is_delete_allowed", data.get("isDeleteAllowed", False)),
        "is_record_locked": data.get("is_record_locked", data.get("isRecordLocked", False)),
    }
    sim.set_label(item, parse_label(spec))
    return JSONResponse({"itemId": item.id, "label": spec if item.label else None, "eTag": etag(item)})


async def item_modify(request: Request) -> Response:
    sim = _sim(request)
    item = sim.get_item(request.path_params["drive_id"], request.path_params["item_id"])
    if item is None or item.deleted:
        return _bad("no such item", 404)
    sim.touch_item(item)
    return JSONResponse({"itemId": item.id, "eTag": etag(item)})


async def state(request: Request) -> Response:
    sim = _sim(request)
    return JSONResponse(
        {
            "users": sum(1 for u in sim.users.values() if not u.removed),
            "groups": len(sim.groups),
            "drives": sum(1 for d in sim.drives.values() if not d.removed),
            "recordings": len(sim.live_recordings()),
            "recycleBin": len(sim.recycle_bin),
            "mail": len(sim.mail_log),
            "now": sim.now.isoformat(),
        }
    )


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def token(request: Request) -> Response:
    sim = _sim(request)
    now = int(sim.now.timestamp())
    claims = {"aud": "https://graph.microsoft.com", "iss": "teamsretention-simulator", "iat": now,
              "exp": now + 3600, "roles": list(sim.knobs.app_roles)}
    access = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    return JSONResponse({"token_type": "Bearer", "expires_in": 3600, "access_token": access})


P = "/_simulator"
ROUTES = [
    Route(f"{P}/clock", clock, methods=["GET", "POST"]),
    Route(f"{P}/clock/advance", advance, methods=["POST"]),
    Route(f"{P}/events", events, methods=["GET"]),
    Route(f"{P}/mail", mail, methods=["GET", "DELETE"]),
    Route(f"{P}/recyclebin", recycle_bin, methods=["GET"]),
    Route(f"{P}/recyclebin/{{drive_id}}/{{item_id}}/restore", restore, methods=["POST"]),
    Route(f"{P}/requests", requests, methods=["GET", "DELETE"]),
    Route(f"{P}/knobs", knobs, methods=["GET", "POST"]),
    Route(f"{P}/items/{{drive_id}}/{{item_id}}/label", item_label, methods=["POST"]),
    Route(f"{P}/items/{{drive_id}}/{{item_id}}/modify", item_modify, methods=["POST"]),
    Route(f"{P}/state", state, methods=["GET"]),
    Route(f"{P}/token", token, methods=["GET"]),
]
