"""Pure translation from msgraph-sdk models to the ports/domain dataclasses.

Required fields are read strictly (an item without ``id`` is a malformed payload and fails loudly: a
partial inventory must never drive a deletion); optional ones default to None.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from msgraph.generated.models.drive_item import DriveItem
from msgraph.generated.models.item_retention_label import ItemRetentionLabel
from msgraph.generated.models.user import User

from ..domain import LabelStatus, Person, RetentionLabel
from ..errors import GraphError
from ..ports import ItemChange, ItemState

# Graph answers 200 with a body it could not have meant; status 200 keeps it apart from HTTP failures.
MALFORMED = "malformedResponse"
_BLOCKING_BEHAVIOURS = {"retain", "retainAsRecord", "retainAsRegulatoryRecord"}


def require_id(obj: Any, what: str) -> str:
    value = getattr(obj, "id", None)
    if not value:
        raise GraphError(200, MALFORMED, f"a {what} in Graph's answer has no id")
    return str(value)


def is_removed(obj: Any) -> bool:
    """Delta marks removed directory objects with an ``@removed`` annotation (no typed property)."""
    return "@removed" in (getattr(obj, "additional_data", None) or {})


def to_person(user: User) -> Person:
    return Person(
        id=require_id(user, "user"),
        display_name=user.display_name or "",
        upn=user.user_principal_name or "",
        mail=user.mail or None,
        preferred_language=user.preferred_language or None,
        # A $select that returns no accountEnabled (it is always selected; older objects may omit it)
        # should not make every organizer unreachable: treat "unknown" as enabled.
        account_enabled=user.account_enabled is not False,
    )


def to_created_at(value: dt.datetime | None) -> dt.datetime | None:
    """Timezone-aware UTC, or None for a missing value or Graph's 0001-01-01 sentinel (seen on channel
    folders): a fake "very old" date would make a recording look overdue."""
    if value is None or value.year <= 1:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def to_item_change(item: DriveItem) -> ItemChange:
    extra = item.additional_data or {}
    parent = item.parent_reference
    created_by = item.created_by.user if item.created_by is not None else None
    return ItemChange(
        id=require_id(item, "driveItem"),
        # OneDrive for Business sends deletes as {id, deleted: {}, parentReference} with no name.
        deleted=item.deleted is not None or "@removed" in extra,
        name=item.name or None,
        is_folder=item.folder is not None,
        is_root=item.root is not None,
        parent_id=parent.id if parent is not None else None,
        created_at=to_created_at(item.created_date_time),
        modified_at=to_created_at(item.last_modified_date_time),
        etag=item.e_tag or None,
        web_url=item.web_url or None,
        mime_type=item.file.mime_type if item.file is not None else None,
        size=item.size,
        created_by_id=created_by.id if created_by is not None else None,
        # v1.0 models have no `source` / `media` properties: kiota leaves them in additional_data.
        source_application=_dig(extra, "source", "application"),
        content_category=_dig(extra, "media", "mediaSource", "contentCategory"),
    )


def to_label(label: ItemRetentionLabel | None) -> RetentionLabel:
    """An itemRetentionLabel (from ``/retentionLabel`` or ``$expand``) as the policy sees it.

    Unlabelled items answer either with no property at all or with ``name: null`` and no settings;
    both mean NONE. A nameless answer whose settings still restrict deletion is treated as PRESENT:
    we never fight Purview on a guess.
    """
    if label is None:
        return RetentionLabel(status=LabelStatus.NONE)
    settings = label.retention_settings
    behaviour = _enum_value(settings.behavior_during_retention_period) if settings is not None else None
    is_delete_allowed = settings.is_delete_allowed if settings is not None else None
    is_record_locked = settings.is_record_locked if settings is not None else None
    restrictive = (is_delete_allowed is False or bool(is_record_locked) or behaviour in _BLOCKING_BEHAVIOURS)
    if not label.name and not restrictive:
        return RetentionLabel(status=LabelStatus.NONE)
    if label.name and settings is None:
        # A named label whose settings we cannot see: assume it forbids deletion.
        is_delete_allowed = False
    return RetentionLabel(
        status=LabelStatus.PRESENT,
        name=label.name or None,
        is_delete_allowed=is_delete_allowed,
        is_record_locked=is_record_locked,
        behavior=behaviour,
    )


def to_item_state(item: DriveItem) -> ItemState:
    require_id(item, "driveItem")
    return ItemState(etag=item.e_tag or None, name=item.name or None, label=to_label(item.retention_label))


def _dig(data: Any, *keys: str) -> str | None:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, str) and data else None


def _enum_value(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))
