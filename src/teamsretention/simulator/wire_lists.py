"""Graph's wire format for lists: list, columnDefinition, listItem (with ``fields``), listItemVersion.

Shapes follow Microsoft's examples (list-get, list-create, listitem-get, listitem-delta, listitem-list-versions)
and the v1.0 CSDL. Kept on purpose:
- ``fields`` only with ``$expand=fields`` (a navigation property); it carries ``@odata.etag``, the item's
  columns by internal name and SharePoint's built-ins (``id``, ``ContentType``, ``Created``, ``Modified``,
  ``AuthorLookupId``, ``EditorLookupId``, ``_UIVersionString``, ``Attachments``).
- a user in ``createdBy`` / ``lastModifiedBy`` is ``{id, displayName, email}`` (identity is open; SharePoint adds
  the mail address when the account has one). A change made by the application itself is
  ``{"application": {...}, "user": {"displayName": "SharePoint App"}}``: a user without an id.
- delta items carry ``createdBy`` with the display name only and no ``lastModifiedBy`` (listitem-delta's
  examples; Microsoft Q&A: delta does not return lastModifiedBy): who changed an item is in its versions.
  A deleted item is ``{id, parentReference: {siteId}, deleted: {state: "deleted"}}``.
"""

from __future__ import annotations

from typing import Any

from .lists import SimColumn, SimList, SimListItem, SimVersion, version_guid
from .model import TenantModel
from .wire import iso

SIM_APP = {"id": "7a3b2f4e-0c1d-4e5f-9a8b-6c7d8e9f0a1b", "displayName": "teamsretention"}
SYSTEM_LOOKUP_ID = "1073741823"  # SharePoint's id for the app / system account in a site's user list
ITEM_CONTENT_TYPE = {"id": "0x010022E03EF36EF4424DA1D392A337807C30", "name": "Item"}


def identity_json(sim: TenantModel, user_id: str | None, *, full: bool = True) -> dict[str, Any]:
    if user_id is None:
        return {"application": dict(SIM_APP), "user": {"displayName": "SharePoint App"}}
    user = sim.users[user_id]
    if not full:
        return {"user": {"displayName": user.display_name}}
    person: dict[str, Any] = {"id": user.id, "displayName": user.display_name}
    if user.mail:
        person["email"] = user.mail
    return {"user": person}


def lookup_id(sim: TenantModel, user_id: str | None) -> str:
    """The user's id in the site's user information list (a small number), as ``AuthorLookupId`` shows it."""
    if user_id is None or user_id not in sim.user_order:
        return SYSTEM_LOOKUP_ID
    return str(sim.user_order.index(user_id) + 6)


def column_json(column: SimColumn) -> dict[str, Any]:
    return {"id": column.id, "name": column.name, "displayName": column.display_name, **column.definition}


def list_json(sim: TenantModel, lst: SimList, *, columns: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": lst.id,
        "name": lst.display_name,
        "displayName": lst.display_name,
        "description": "",
        "createdDateTime": iso(lst.created),
        "lastModifiedDateTime": iso(max([lst.created, *(i.modified for i in lst.items.values())])),
        "webUrl": lst.web_url,
        "createdBy": identity_json(sim, None),
        "parentReference": {"siteId": lst.site_id},
        "list": {"contentTypesEnabled": False, "hidden": False, "template": "genericList"},
    }
    if columns:
        body["columns"] = [column_json(c) for c in lst.columns]
    return body


def _etag(lst: SimList, item: SimListItem, version: int) -> str:
    return f'"{{{version_guid(lst, item)}}},{version}"'


def fields_json(sim: TenantModel, lst: SimList, item: SimListItem, version: SimVersion) -> dict[str, Any]:
    number = int(version.label.split(".")[0])
    return {
        "@odata.etag": f'"{version_guid(lst, item).lower()},{number}"',
        **version.fields,
        "id": item.id,
        "ContentType": "Item",
        "Modified": iso(version.at),
        "Created": iso(item.created),
        "AuthorLookupId": lookup_id(sim, item.created_by),
        "EditorLookupId": lookup_id(sim, version.by),
        "_UIVersionString": version.label,
        "Attachments": False,
    }


def item_json(sim: TenantModel, lst: SimList, item: SimListItem, *, fields: bool,
              in_delta: bool = False) -> dict[str, Any]:
    if item.deleted:
        return {"id": item.id, "parentReference": {"siteId": lst.site_id}, "deleted": {"state": "deleted"}}
    latest = item.versions[-1]
    body: dict[str, Any] = {
        "@odata.etag": _etag(lst, item, len(item.versions)),
        "id": item.id,
        "eTag": _etag(lst, item, len(item.versions)),
        "createdDateTime": iso(item.created),
        "lastModifiedDateTime": iso(item.modified),
        "webUrl": f"{lst.web_url}/{item.id}_.000",
        "createdBy": identity_json(sim, item.created_by, full=not in_delta),
        "parentReference": {"id": lst.id, "siteId": lst.site_id},
        "contentType": dict(ITEM_CONTENT_TYPE),
    }
    if in_delta:
        del body["@odata.etag"]
    else:
        body["lastModifiedBy"] = identity_json(sim, item.modified_by)
    if fields:
        body["fields"] = fields_json(sim, lst, item, latest)
    return body


def version_json(sim: TenantModel, lst: SimList, item: SimListItem, version: SimVersion, *,
                 fields: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": version.label,
        "lastModifiedBy": identity_json(sim, version.by),
        "lastModifiedDateTime": iso(version.at),
    }
    if fields:
        body["fields"] = fields_json(sim, lst, item, version)
    return body


def expands_fields(expand: str | None) -> bool:
    """``$expand=fields`` (also ``fields($select=...)``; the select is not simulated)."""
    return any(part.strip().split("(")[0].lower() == "fields" for part in (expand or "").split(","))

