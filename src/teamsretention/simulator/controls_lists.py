"""Simulator controls for lists (JSON under ``/_simulator/``, never part of Graph): people editing a list.

- ``GET lists``: every list with its site, URL, columns and item count.
- ``POST lists/{list}/items`` ``{"as": "anna", "fields": {...}}`` -> ``{"id": "1", ...}``: ``anna`` (a scenario
  key, UPN or object id) adds an item, as in SharePoint; ``as`` left out: the application.
- ``PATCH lists/{list}/items/{id}`` ``{"as": "dpo", "fields": {"RequestStatus": "Approved"}}``: an edit, which
  appends a version authored by that user (a field set to null is cleared).
- ``DELETE lists/{list}/items/{id}``.
- ``GET lists/{list}/items/{id}``: the item with its fields and every version (who changed what, when).

``{list}`` is a list id or its display name (the records site's lists first). Dates in ``fields`` may be
``YYYY-MM-DD``: stored as SharePoint stores a date-only value (midnight of the site's zone, in UTC).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .controls import _json, _sim
from .lists import ListError, SimList, SimListItem
from .model import TenantModel
from .wire import iso


def _item_body(sim: TenantModel, lst: SimList, item: SimListItem) -> dict[str, Any]:
    def who(user_id: str | None) -> str | None:
        return None if user_id is None else sim.users[user_id].upn

    return {
        "list": lst.display_name,
        "id": item.id,
        "deleted": item.deleted,
        "fields": dict(item.fields),
        "createdBy": who(item.created_by),
        "versions": [{"id": v.label, "at": iso(v.at), "by": who(v.by), "fields": dict(v.fields)}
                     for v in reversed(item.versions)],
    }


def _error(exc: Exception) -> JSONResponse:
    status = exc.status if isinstance(exc, ListError) else 400
    return JSONResponse({"error": str(exc)}, status_code=status)


async def all_lists(request: Request) -> Response:
    sim = _sim(request)
    return JSONResponse({"value": [
        {"id": x.id, "siteId": x.site_id, "displayName": x.display_name, "webUrl": x.web_url,
         "columns": [c.name for c in x.columns], "items": sum(1 for i in x.items.values() if not i.deleted)}
        for x in sim.lists.values()]})


async def add_item(request: Request) -> Response:
    sim = _sim(request)
    try:
        lst = sim.list_by_ref(request.path_params["list"])
        data = await _json(request)
        fields = data.get("fields")
        if not isinstance(fields, dict):
            raise TypeError("expected {'as': user, 'fields': {...}}")
        item = sim.add_list_item(lst, data.get("as"), fields)
    except (ListError, ValueError, TypeError) as exc:
        return _error(exc)
    return JSONResponse(_item_body(sim, lst, item), status_code=201)


async def one_item(request: Request) -> Response:
    sim = _sim(request)
    try:
        lst = sim.list_by_ref(request.path_params["list"])
        item_id = request.path_params["item_id"]
        if request.method == "GET":
            found = lst.items.get(item_id)
            if found is None:
                raise ListError(404, "itemNotFound", f"no item {item_id} in {lst.display_name!r}")
            return JSONResponse(_item_body(sim, lst, found))
        if request.method == "DELETE":
            sim.delete_list_item(lst, item_id)
            return Response(status_code=204)
        data = await _json(request)
        fields = data.get("fields")
        if not isinstance(fields, dict):
            raise TypeError("expected {'as': user, 'fields': {...}}")
        item = sim.edit_list_item(lst, item_id, data.get("as"), fields)
    except (ListError, ValueError, TypeError) as exc:
        return _error(exc)
    return JSONResponse(_item_body(sim, lst, item))


P = "/_simulator"
ROUTES = [
    Route(f"{P}/lists", all_lists, methods=["GET"]),
    Route(f"{P}/lists/{{list}}/items", add_item, methods=["POST"]),
    Route(f"{P}/lists/{{list}}/items/{{item_id}}", one_item, methods=["GET", "PATCH", "DELETE"]),
]
