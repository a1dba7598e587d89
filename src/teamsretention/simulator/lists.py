"""SharePoint lists in the simulated tenant: a records site, lists with columns, items with fields and a
version history, the change log listItem delta replays, and who belongs to which groups.

- The **records site** (``add_records_site``; scenario ``[records_site]``) is a plain team site with its own
  document library and a time zone: a date-only column value is stored as midnight of that zone in UTC, as
  SharePoint does (``2026-11-02`` in Stockholm reads back as ``2026-11-01T23:00:00Z``).
- A list has the built-in columns (Title and the read-only Created, Modified, Author, Editor) and the ones
  created with it or added later. Items are numbered 1, 2, 3, ... per list, as SharePoint does.
- Every change of an item (``add_list_item``, ``edit_list_item``) appends a version ``N.0`` authored by the
  acting user (``None``: the application itself, which SharePoint shows as "SharePoint App" with no id).
- Deleting an item keeps it in the change log, so delta reports it as ``deleted``.

A part of :class:`~.model.TenantModel`, kept apart for size.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .entities import ChangeLog, SimDrive, SimGroup, SimSite, SimUser

COLUMN_FACETS = ("text", "choice", "dateTime", "number", "boolean", "personOrGroup", "lookup", "calculated",
                 "currency", "hyperlinkOrPicture")
BUILT_IN_FIELDS = ("id", "ContentType", "Created", "Modified", "AuthorLookupId", "EditorLookupId",
                   "_UIVersionString", "Attachments")


class ListError(ValueError):
    """A request Graph would refuse: ``status`` and Graph's ``code`` go into the error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(slots=True)
class SimColumn:
    id: str
    name: str
    display_name: str
    definition: dict[str, Any]  # description, required, readOnly and the one type facet, as Graph shows them


@dataclass(slots=True)
class SimVersion:
    label: str  # "1.0", "2.0", ...
    at: dt.datetime
    by: str | None  # user id; None: the application
    fields: dict[str, Any]


@dataclass(slots=True)
class SimListItem:
    id: str
    created: dt.datetime
    created_by: str | None
    fields: dict[str, Any]
    versions: list[SimVersion] = field(default_factory=list)  # oldest first
    deleted: bool = False
    seq: int = 0

    @property
    def modified(self) -> dt.datetime:
        return self.versions[-1].at

    @property
    def modified_by(self) -> str | None:
        return self.versions[-1].by


@dataclass(slots=True)
class SimList:
    id: str
    site_id: str
    display_name: str
    web_url: str
    created: dt.datetime
    columns: list[SimColumn] = field(default_factory=list)
    items: dict[str, SimListItem] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    log: ChangeLog = field(default_factory=ChangeLog)
    next_item: int = 1

    def column(self, name: str) -> SimColumn | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)


def _built_in_columns() -> list[dict[str, Any]]:
    return [
        {"name": "Title", "displayName": "Title", "required": True, "readOnly": False,
         "text": {"allowMultipleLines": False, "appendChangesToExistingText": False, "linesForEditing": 0,
                  "maxLength": 255}},
        {"name": "Created", "displayName": "Created", "readOnly": True, "dateTime": {"format": "dateTime"}},
        {"name": "Modified", "displayName": "Modified", "readOnly": True, "dateTime": {"format": "dateTime"}},
        {"name": "Author", "displayName": "Created By", "readOnly": True,
         "personOrGroup": {"allowMultipleSelection": False, "chooseFromType": "peopleOnly", "displayAs": "account"}},
        {"name": "Editor", "displayName": "Modified By", "readOnly": True,
         "personOrGroup": {"allowMultipleSelection": False, "chooseFromType": "peopleOnly", "displayAs": "account"}},
    ]


class ListIndex:
    """Lists and their items; the state it works on is the model's (``lists``, ``sites``, ``users``...)."""

    now: dt.datetime
    epoch: dt.datetime
    sites: dict[str, SimSite]
    users: dict[str, SimUser]
    groups: dict[str, SimGroup]
    lists: dict[str, SimList]
    site_zones: dict[str, str]
    records_site_id: str | None

    if TYPE_CHECKING:  # provided by TenantModel, DriveTree and SiteIndex
        @property
        def tenant_host(self) -> str: ...
        def add_drive(self, drive_type: str, name: str, web_url: str, *, owner_user_id: str | None = None,
                      owner_group_id: str | None = None) -> SimDrive: ...
        def add_site(self, drive: SimDrive, host: str, path: str, name: str, display_name: str) -> SimSite: ...
        def new_guid(self) -> str: ...
        def find_user(self, ref: str) -> SimUser | None: ...
        def transitive_user_ids(self, group: SimGroup) -> list[str]: ...

    # --- the records site ---------------------------------------------------------------------------
    def add_records_site(self, path: str = "/sites/records", display_name: str = "Records",
                         time_zone: str = "Europe/Stockholm") -> SimSite:
        ZoneInfo(time_zone)  # an unknown zone fails here, not at the first date
        host = f"{self.tenant_host}.sharepoint.com"
        path = "/" + path.strip("/")
        drive = self.add_drive("documentLibrary", "Documents", f"https://{host}{path}/Shared%20Documents")
        site = self.add_site(drive, host, path, path.rsplit("/", 1)[-1], display_name)
        self.site_zones[site.id] = time_zone
        self.records_site_id = site.id
        return site

    def use_as_records_site(self, site_id: str, time_zone: str = "Europe/Stockholm") -> SimSite:
        """An existing site (a team's) holds the lists, as when they are tabs in that team's channel."""
        ZoneInfo(time_zone)
        self.site_zones[site_id] = time_zone
        self.records_site_id = site_id
        return self.sites[site_id]

    def find_site_by_path(self, host: str, path: str) -> SimSite | None:
        wanted = (host.lower(), "/" + path.strip("/").lower())
        for site in self.sites.values():
            parts = site.web_url.split("/", 3)
            if not site.removed and (parts[2].lower(), "/" + (parts[3] if len(parts) > 3 else "").lower()) == wanted:
                return site
        return None

    # --- lists and columns --------------------------------------------------------------------------
    def site_lists(self, site_id: str) -> list[SimList]:
        return [lst for lst in self.lists.values() if lst.site_id == site_id]

    def find_list(self, site_id: str, ref: str) -> SimList | None:
        """By id, or by title (case-insensitive), as ``/sites/{id}/lists/{list-id | list-title}``."""
        for lst in self.site_lists(site_id):
            if lst.id.lower() == ref.lower() or lst.display_name.lower() == ref.lower():
                return lst
        return None

    def list_by_ref(self, ref: str) -> SimList:
        """For controls and tests: a list by id or title in any site (the records site first)."""
        ordered = sorted(self.lists.values(), key=lambda x: x.site_id != self.records_site_id)
        found = next((x for x in ordered if ref in (x.id, x.display_name)), None)
        if found is None:
            raise ListError(404, "itemNotFound", f"no list {ref!r}")
        return found

    def add_list(self, site_id: str, display_name: str, columns: list[dict[str, Any]] | None = None) -> SimList:
        site = self.sites[site_id]
        if not display_name.strip():
            raise ListError(400, "invalidRequest", "A list needs a displayName.")
        if self.find_list(site_id, display_name) is not None:
            raise ListError(409, "nameAlreadyExists", "The list name is already in use.")
        lst = SimList(self.new_guid(), site_id, display_name, f"{site.web_url}/Lists/{quote(display_name)}", self.now)
        for definition in [*_built_in_columns(), *(columns or [])]:
            self.add_list_column(lst, definition)
        self.lists[lst.id] = lst
        return lst

    def add_list_column(self, lst: SimList, definition: dict[str, Any]) -> SimColumn:
        name = definition.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ListError(400, "invalidRequest", "A column needs a name.")
        if lst.column(name) is not None:
            raise ListError(409, "nameAlreadyExists", f"A column named '{name}' already exists in this list.")
        facets = [f for f in COLUMN_FACETS if isinstance(definition.get(f), dict)]
        if len(facets) != 1:
            raise ListError(400, "invalidRequest", f"Column '{name}' must have exactly one type facet.")
        kept = {k: v for k, v in definition.items() if k not in ("id", "name", "displayName")}
        kept.setdefault("description", "")
        kept.setdefault("required", False)
        kept.setdefault("readOnly", False)
        kept.setdefault("hidden", False)
        column = SimColumn(self.new_guid(), name, str(definition.get("displayName") or name), kept)
        lst.columns.append(column)
        return column

    # --- items, edited as a person would --------------------------------------------------------------
    def add_list_item(self, lst: SimList, by: str | None, fields: dict[str, Any],
                      at: dt.datetime | None = None) -> SimListItem:
        when = at or self.now
        user = self._actor(by)
        values = self._checked_fields(lst, fields)
        for column in lst.columns:
            default = column.definition.get("defaultValue")
            if column.name not in values and isinstance(default, dict) and default.get("value") is not None:
                values[column.name] = default["value"]
        item = SimListItem(str(lst.next_item), when, user, values)
        lst.next_item += 1
        lst.items[item.id] = item
        lst.order.append(item.id)
        self._new_version(lst, item, user, when)
        return item

    def edit_list_item(self, lst: SimList, item_id: str, by: str | None, fields: dict[str, Any],
                       at: dt.datetime | None = None) -> SimListItem:
        item = self.live_list_item(lst, item_id)
        user = self._actor(by)
        for name, value in self._checked_fields(lst, fields).items():
            if value is None:
                item.fields.pop(name, None)
            else:
                item.fields[name] = value
        self._new_version(lst, item, user, at or self.now)
        return item

    def delete_list_item(self, lst: SimList, item_id: str) -> None:
        item = self.live_list_item(lst, item_id)
        item.deleted = True
        item.seq = lst.log.record(item.id)

    def live_list_item(self, lst: SimList, item_id: str) -> SimListItem:
        item = lst.items.get(item_id)
        if item is None or item.deleted:
            raise ListError(404, "itemNotFound", "The specified list item was not found.")
        return item

    def _new_version(self, lst: SimList, item: SimListItem, user: str | None, when: dt.datetime) -> None:
        item.versions.append(SimVersion(f"{len(item.versions) + 1}.0", when, user, dict(item.fields)))
        item.seq = lst.log.record(item.id)

    def _actor(self, ref: str | None) -> str | None:
        if ref is None:
            return None
        user = self.find_user(ref)
        if user is None:
            raise ListError(404, "itemNotFound", f"no user {ref!r}")
        return user.id

    def _checked_fields(self, lst: SimList, fields: dict[str, Any]) -> dict[str, Any]:
        """Known, writable columns only (Graph: 400 "Field 'X' is not recognized"); dates as SharePoint stores
        them (midnight of the site's zone, in UTC)."""
        out: dict[str, Any] = {}
        for name, value in fields.items():
            column = lst.column(name)
            if column is None or column.definition.get("readOnly"):
                raise ListError(400, "invalidRequest", f"Field '{name}' is not recognized")
            if value is not None and "dateTime" in column.definition:
                value = self._stored_date(lst, column, value)
            out[column.name] = value
        return out

    def _stored_date(self, lst: SimList, column: SimColumn, value: Any) -> str:
        text = str(value).strip()
        try:
            if len(text) == 10:
                zone = ZoneInfo(self.site_zones.get(lst.site_id, "UTC"))
                moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), zone)
            else:
                moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        except ValueError as exc:
            raise ListError(400, "invalidRequest", f"Field '{column.name}': {text!r} is not a date") from exc
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- groups a user belongs to -----------------------------------------------------------------------
    def member_of_ids(self, user_id: str) -> list[str]:
        """Every group the user is in, directly or through nested groups (``transitiveMemberOf``)."""
        return [g.id for g in self.groups.values() if not g.removed and user_id in self.transitive_user_ids(g)]


def version_guid(lst: SimList, item: SimListItem) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{lst.id}/{item.id}")).upper()
