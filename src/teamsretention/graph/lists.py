"""The Assignments and Retention requests lists, shares and group membership (the list ports).

- ``GET /sites/{id}``; ``GET /sites/{host}:/{path}`` for a site named by URL or ``host:/path``.
- ``GET /sites/{id}/lists/{list-title}?$expand=columns`` (list-get documents the title in place of the id):
  one request; 404 = no such list.
- ``POST /sites/{id}/lists`` (a ``genericList`` with its columns) and ``POST /sites/{id}/lists/{id}/columns``.
  Creates are sent once (no automatic retry): a create answered 503 may have been carried out; ``provision``
  is idempotent, so running it again settles it.
- ``GET /sites/{id}/lists/{id}/items/delta?$expand=fields``: a listItem has no ``fields`` unless expanded
  (``fields`` is a navigation property). Deletions come as ``{"id", "deleted": {"state": "deleted"}}`` without
  fields (listitem-delta, example 2). Delta does not return ``lastModifiedBy`` (Microsoft Q&A, 2026): who
  changed an item is read from its versions.
- ``GET /sites/{id}/lists/{id}/items/{id}/versions?$expand=fields``: newest first; without the expand a
  listItemVersion carries only id, lastModifiedBy and lastModifiedDateTime (listitem-list-versions).
- ``GET /shares/u!{base64url}/driveItem``: what a recording's web URL points to.
- ``GET /users/{id}/transitiveMemberOf/microsoft.graph.group?$select=id``: an OData cast, i.e. an advanced
  query (``ConsistencyLevel: eventual`` + ``$count=true``); should Graph refuse it (400), the un-cast
  collection is read and filtered on ``@odata.type``.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote, urlsplit

from msgraph.graph_service_client import GraphServiceClient

from ..domain import RecordingRef
from ..errors import GraphError, NotFoundError
from ..lists import Column, ColumnKind
from ..ports import (
    Identity,
    ListColumnInfo,
    ListDeltaPage,
    ListInfo,
    ListItemChange,
    ListItemVersion,
    SharedItem,
    SiteInfo,
)
from .paging import Links, follow_delta, follow_pages
from .raw import RawJson
from .transform import MALFORMED, json_id

SITE_SELECT = "$select=id,webUrl,displayName"
SHARE_SELECT = "$select=id,name,webUrl,parentReference"
GROUP_TYPE = "#microsoft.graph.group"
ADVANCED_QUERY = {"ConsistencyLevel": "eventual"}
# The facets a columnDefinition may carry, one per column type (columnDefinition in the v1.0 CSDL).
COLUMN_FACETS = ("text", "choice", "dateTime", "number", "boolean", "personOrGroup", "lookup", "calculated",
                 "currency", "hyperlinkOrPicture", "term", "geolocation", "thumbnail", "contentApprovalStatus")


def share_token(web_url: str) -> str:
    """``u!`` + the unpadded base64url of the URL (shares-get, "Encoding sharing URLs")."""
    return "u!" + base64.urlsafe_b64encode(web_url.strip().encode()).decode().rstrip("=")


def column_body(column: Column) -> dict[str, Any]:
    """A columnDefinition for ``column`` as create-columndefinition takes it."""
    body: dict[str, Any] = {"name": column.name, "displayName": column.display_name,
                            "description": column.description, "required": column.required}
    if column.kind is ColumnKind.TEXT:
        body["text"] = {"allowMultipleLines": False, "maxLength": 255}
    elif column.kind is ColumnKind.NOTE:
        body["text"] = {"allowMultipleLines": True, "textType": "plain", "linesForEditing": 6}
    elif column.kind is ColumnKind.CHOICE:
        body["choice"] = {"allowTextEntry": False, "choices": list(column.choices), "displayAs": "dropDownMenu"}
        if column.default is not None:
            body["defaultValue"] = {"value": column.default}
    else:
        body["dateTime"] = {"displayAs": "default", "format": "dateOnly"}
    return body


def column_info(column: dict[str, Any]) -> ListColumnInfo:
    name = column.get("name")
    if not isinstance(name, str) or not name:
        raise GraphError(200, MALFORMED, "a list column in Graph's answer has no name")
    kind = next((facet for facet in COLUMN_FACETS if isinstance(column.get(facet), dict)), "unknown")
    text: dict[str, Any] = column["text"] if isinstance(column.get("text"), dict) else {}
    choice: dict[str, Any] = column["choice"] if isinstance(column.get("choice"), dict) else {}
    choices: list[Any] = choice["choices"] if isinstance(choice.get("choices"), list) else []
    return ListColumnInfo(name=name, display_name=str(column.get("displayName") or name), kind=kind,
                          multiline=bool(text.get("allowMultipleLines")),
                          choices=tuple(str(c) for c in choices), required=column.get("required") is True,
                          read_only=column.get("readOnly") is True)


def list_info(body: dict[str, Any]) -> ListInfo:
    columns: list[Any] = body["columns"] if isinstance(body.get("columns"), list) else []
    return ListInfo(id=json_id(body, "list"), display_name=str(body.get("displayName") or body.get("name") or ""),
                    web_url=str(body.get("webUrl") or ""),
                    columns=tuple(column_info(c) for c in columns if isinstance(c, dict)))


def identity(identity_set: Any) -> Identity | None:
    """The ``user`` of an identitySet; None when there is none (an application, or nothing at all)."""
    user = identity_set.get("user") if isinstance(identity_set, dict) else None
    if not isinstance(user, dict):
        return None
    email = user.get("email")
    return Identity(id=str(user["id"]) if user.get("id") else None, display_name=str(user.get("displayName") or ""),
                    email=email if isinstance(email, str) and email else None)


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _fields(body: dict[str, Any]) -> dict[str, object]:
    fields = body.get("fields")
    if not isinstance(fields, dict):
        return {}
    return {k: v for k, v in fields.items() if not k.startswith("@")}  # "@odata.etag" is no column


def item_change(item: dict[str, Any]) -> ListItemChange:
    if not isinstance(item, dict):
        raise GraphError(200, MALFORMED, "a list delta page lists something that is not a listItem")
    item_id = json_id(item, "listItem")
    if "deleted" in item or "@removed" in item:
        return ListItemChange(id=item_id, deleted=True)
    return ListItemChange(id=item_id, fields=_fields(item), created_by=identity(item.get("createdBy")),
                          last_modified_by=identity(item.get("lastModifiedBy")),
                          created_at=_time(item.get("createdDateTime")),
                          modified_at=_time(item.get("lastModifiedDateTime")),
                          etag=item.get("eTag") or None, web_url=item.get("webUrl") or None)


class Lists:
    def __init__(self, client: GraphServiceClient, links: Links) -> None:
        self._links = links
        self._raw = RawJson(client)

    async def get_site(self, site: str) -> SiteInfo | None:
        try:
            body = await self._raw.get_json(self._site_url(site.strip()))
        except NotFoundError:
            return None
        if body is None:
            raise GraphError(200, MALFORMED, "Graph answered a site request with an empty body")
        return SiteInfo(id=json_id(body, "site"), web_url=str(body.get("webUrl") or ""),
                        display_name=str(body.get("displayName") or ""))

    def _site_url(self, site: str) -> str:
        """By URL (``https://host/sites/x``) or ``host:/sites/x``: ``/sites/{host}:/sites/x``; else an id."""
        parts = urlsplit(site)
        if parts.scheme in ("http", "https") and parts.hostname:
            host, path = parts.hostname, parts.path
        elif ":/" in site and "," not in site:
            host, path = site.split(":/", 1)
        else:
            return self._links.url("sites", site, query=SITE_SELECT)
        segments = [unquote(s) for s in path.strip("/").split("/") if s]
        if not segments:
            return self._links.url("sites", f"{host}:", query=SITE_SELECT)  # the host's root site
        return self._links.url("sites", f"{host}:", *segments, query=SITE_SELECT)

    async def get_list(self, site_id: str, display_name: str) -> ListInfo | None:
        url = self._links.url("sites", site_id, "lists", display_name, query="$expand=columns")
        try:
            body = await self._raw.get_json(url)
        except NotFoundError:
            return None
        if body is None:
            raise GraphError(200, MALFORMED, "Graph answered a list request with an empty body")
        return list_info(body)

    async def create_list(self, site_id: str, display_name: str, columns: tuple[Column, ...]) -> ListInfo:
        body = {"displayName": display_name, "columns": [column_body(c) for c in columns],
                "list": {"template": "genericList"}}
        answer = await self._raw.post_json(self._links.url("sites", site_id, "lists"), body)
        if answer is None:
            raise GraphError(200, MALFORMED, "Graph answered the list creation with an empty body")
        created = list_info(answer)
        if created.columns:
            return created
        # The create answer need not list the columns (list-create's example does; do not rely on it).
        return await self.get_list(site_id, display_name) or created

    async def add_list_column(self, site_id: str, list_id: str, column: Column) -> None:
        await self._raw.post_json(self._links.url("sites", site_id, "lists", list_id, "columns"), column_body(column))

    async def list_items_delta(self, site_id: str, list_id: str,
                               delta_link: str | None) -> AsyncIterator[ListDeltaPage]:
        start = self._links.url("sites", site_id, "lists", list_id, "items", "delta", query="$expand=fields")
        async for page, reset in follow_delta(self._links, self._raw.get_page, start, delta_link):
            latest: dict[str, ListItemChange] = {}  # the same item may come twice: keep the last
            for raw_item in page.value:
                change = item_change(raw_item)
                if not change.deleted and not isinstance(raw_item.get("fields"), dict):
                    # A page without the expansion (a resync Location that dropped $expand): never read an item
                    # as having no fields; re-read it with them.
                    change = await self._reread_item(site_id, list_id, change.id)
                latest.pop(change.id, None)
                latest[change.id] = change
            yield ListDeltaPage(items=list(latest.values()), delta_link=page.odata_delta_link, reset=reset)

    async def _reread_item(self, site_id: str, list_id: str, item_id: str) -> ListItemChange:
        url = self._links.url("sites", site_id, "lists", list_id, "items", item_id, query="$expand=fields")
        try:
            body = await self._raw.get_json(url)
        except NotFoundError:
            return ListItemChange(id=item_id, deleted=True)  # deleted since the page was built
        if not body:
            raise GraphError(200, MALFORMED, f"Graph answered the re-read of list item {item_id} with an empty body")
        return item_change(body)

    async def list_item_versions(self, site_id: str, list_id: str, item_id: str) -> list[ListItemVersion]:
        url = self._links.url("sites", site_id, "lists", list_id, "items", item_id, "versions",
                              query="$expand=fields")
        versions: list[ListItemVersion] = []
        async for page in follow_pages(self._links, self._raw.get_page, url):
            for version in page.value:
                versions.append(ListItemVersion(id=json_id(version, "listItemVersion"),
                                                modified_at=_time(version.get("lastModifiedDateTime")),
                                                modified_by=identity(version.get("lastModifiedBy")),
                                                fields=_fields(version)))
        return versions

    async def resolve_share(self, web_url: str) -> SharedItem | None:
        url = self._links.url("shares", share_token(web_url), "driveItem", query=SHARE_SELECT)
        try:
            item = await self._raw.get_json(url)
        except NotFoundError:
            return None
        except GraphError as exc:
            # A URL that is no sharing URL at all (another host, a malformed link) is refused with 400.
            if exc.status == 400:
                return None
            raise
        if not item:
            return None
        parent = item.get("parentReference")
        drive_id = parent.get("driveId") if isinstance(parent, dict) else None
        if not drive_id:
            raise GraphError(200, MALFORMED, "the shared item came without parentReference.driveId")
        return SharedItem(RecordingRef(str(drive_id), json_id(item, "driveItem")), name=str(item.get("name") or ""),
                          web_url=item.get("webUrl") or web_url)

    async def transitive_group_ids(self, user_id: str) -> frozenset[str]:
        cast = self._links.url("users", user_id, "transitiveMemberOf", "microsoft.graph.group",
                               query="$select=id&$count=true")
        ids: set[str] = set()
        try:
            async for page in follow_pages(self._links, lambda u: self._raw.get_page(u, ADVANCED_QUERY), cast):
                ids.update(json_id(group, "group") for group in page.value)
            return frozenset(ids)
        except GraphError as exc:
            if exc.status != 400:
                raise
        ids.clear()
        plain = self._links.url("users", user_id, "transitiveMemberOf", query="$select=id")
        async for page in follow_pages(self._links, self._raw.get_page, plain):
            ids.update(json_id(obj, "directoryObject") for obj in page.value if obj.get("@odata.type") == GROUP_TYPE)
        return frozenset(ids)
