"""Pure translation from msgraph-sdk models to the ports/domain dataclasses.

Required fields are read strictly (an item without ``id`` is a malformed payload and fails loudly: a
partial inventory must never drive a deletion); optional ones default to None.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..domain import LabelStatus, Person, RetentionLabel
from ..errors import GraphError
from ..ports import ItemChange, ItemFacets, ItemState

# Graph answers 200 with a body it could not have meant; status 200 keeps it apart from HTTP failures.
MALFORMED = "malformedResponse"
_BLOCKING_BEHAVIOURS = {"retain", "retainAsRecord", "retainAsRegulatoryRecord"}


def to_created_at(value: dt.datetime | None) -> dt.datetime | None:
    """Timezone-aware UTC, or None for a missing value or Graph's 0001-01-01 sentinel (seen on channel
    folders): a fake "very old" date would make a recording look overdue."""
    if value is None or value.year <= 1:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _dig(data: Any, *keys: str) -> str | None:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, str) and data else None


# --- from Graph's JSON, for the hot paths that skip typed models (see drives.py) ---

def json_id(obj: dict[str, Any], what: str) -> str:
    value = obj.get("id")
    if not value or not isinstance(value, str):
        raise GraphError(200, MALFORMED, f"a {what} in Graph's answer has no id")
    return value


def _json_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return to_created_at(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


def item_change_from_json(item: dict[str, Any]) -> ItemChange:
    if not isinstance(item, dict):
        raise GraphError(200, MALFORMED, "a delta page lists something that is not a driveItem")
    parent = item.get("parentReference") or {}
    created_by = (item.get("createdBy") or {}).get("user") or {}
    file = item.get("file")
    size = item.get("size")
    return ItemChange(
        id=json_id(item, "driveItem"),
        # OneDrive for Business sends deletes as {id, deleted: {}, parentReference} with no name.
        deleted="deleted" in item or "@removed" in item,
        name=item.get("name") or None,
        is_folder="folder" in item,
        is_root="root" in item,
        parent_id=parent.get("id") or None,
        created_at=_json_time(item.get("createdDateTime")),
        etag=item.get("eTag") or None,
        web_url=item.get("webUrl") or None,
        mime_type=file.get("mimeType") if isinstance(file, dict) else None,
        size=size if isinstance(size, int) else None,
        created_by_id=created_by.get("id") or None,
        source_application=_dig(item, "source", "application"),
        content_category=_dig(item, "media", "mediaSource", "contentCategory"),
        special_folder=_dig(item, "specialFolder", "name"),
    )


def label_from_json(label: dict[str, Any] | None) -> RetentionLabel:
    """An itemRetentionLabel (from ``/retentionLabel`` or ``$expand``) as the policy sees it.

    Graph does not document the answer for an unlabelled item: both seen shapes, no property at all and
    ``name: null`` without settings, mean NONE. A named label is PRESENT whatever its settings say; the policy
    lets it allow deletion only when its settings clearly do (``RetentionLabel.clearly_allows_deletion``), so
    ``retentionSettings: {}`` or an unknown behaviour blocks. A nameless answer whose settings restrict
    deletion is PRESENT too: we never fight Purview on a guess.
    """
    if not label:
        return RetentionLabel(status=LabelStatus.NONE)
    settings = label.get("retentionSettings")
    settings = settings if isinstance(settings, dict) else {}
    behaviour = settings.get("behaviorDuringRetentionPeriod")
    is_delete_allowed = settings.get("isDeleteAllowed")
    is_record_locked = settings.get("isRecordLocked")
    restrictive = is_delete_allowed is False or bool(is_record_locked) or behaviour in _BLOCKING_BEHAVIOURS
    name = label.get("name") or None
    if not name and not restrictive:
        return RetentionLabel(status=LabelStatus.NONE)
    return RetentionLabel(status=LabelStatus.PRESENT, name=name,
                          is_delete_allowed=is_delete_allowed if isinstance(is_delete_allowed, bool) else None,
                          is_record_locked=is_record_locked if isinstance(is_record_locked, bool) else None,
                          behavior=behaviour if isinstance(behaviour, str) else None)


def item_state_from_json(item: dict[str, Any]) -> ItemState:
    json_id(item, "driveItem")
    label = item.get("retentionLabel")
    parent = item.get("parentReference") or {}
    file = item.get("file")
    return ItemState(etag=item.get("eTag") or None, name=item.get("name") or None,
                     label=label_from_json(label if isinstance(label, dict) else None),
                     parent_id=_dig(parent, "id"), parent_path=_dig(parent, "path"),
                     mime_type=_dig(file, "mimeType") if isinstance(file, dict) else None,
                     source_application=_dig(item, "source", "application"),
                     content_category=_dig(item, "media", "mediaSource", "contentCategory"))


def facets_from_json(item: dict[str, Any]) -> ItemFacets:
    return ItemFacets(source_application=_dig(item, "source", "application"),
                      content_category=_dig(item, "media", "mediaSource", "contentCategory"))


def person_from_json(user: dict[str, Any]) -> Person:
    return Person(
        id=json_id(user, "user"),
        display_name=user.get("displayName") or "",
        upn=user.get("userPrincipalName") or "",
        mail=user.get("mail") or None,
        preferred_language=user.get("preferredLanguage") or None,
        # accountEnabled missing (older objects): "unknown" must not make every organizer unreachable.
        account_enabled=user.get("accountEnabled") is not False,
    )
