"""Graph's wire format: JSON shapes of users, groups, drives and driveItems, error bodies, link tokens.

Shapes follow Microsoft's documented examples (see /work/shared/graph-samples) and the v1.0 CSDL (every
property sent is declared on its type; tests/simulator/test_sim_conformance.py checks). Notable quirks kept on
purpose: eTag/cTag values are JSON strings that contain double quotes (``"\\"{GUID},N\\""``); delta never
returns ``parentReference.path``; delta leaves out ``cTag`` and, on deletes, ``name`` (OneDrive for Business,
per the delta doc's Remarks); a user without ``$select`` has the documented default property set only
(``accountEnabled`` must be selected).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any
from urllib.parse import quote

from .model import SimDrive, SimGroup, SimItem, SimSite, SimUser, TenantModel

USER_PROPS = ("id", "displayName", "userPrincipalName", "mail", "accountEnabled", "preferredLanguage")
GROUP_PROPS = ("id", "displayName", "resourceProvisioningOptions")
# GET /users and /users/{id} without $select (the user-list and user-get docs): no accountEnabled.
USER_DEFAULT_PROPS = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
LANGUAGE_NAMES = {
    "en-US": "English (United States)",
    "en-GB": "English (United Kingdom)",
    "sv-SE": "Swedish (Sweden)",
    "de-DE": "German (Germany)",
    "fi-FI": "Finnish (Finland)",
    "nb-NO": "Norwegian Bokmål (Norway)",
    "da-DK": "Danish (Denmark)",
}


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_body(
    code: str, message: str, *, now: dt.datetime, request_id: str, client_request_id: str | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id or request_id,
            },
        }
    }


# --- link tokens ------------------------------------------------------------------------------------
# Tokens are opaque to clients (they must replay links verbatim). Inside: the collection they belong to,
# the token generation (to expire them all at once), the mode (F: full enumeration in progress,
# C: changes in progress, D: a deltaLink), the change sequence number, a cursor, the $select list and the
# number of the page the link leads to (0: the first page of a walk; the knob next_link_loops needs it).

Token = tuple[str, int, str, int, int, str | None, int]


def encode_token(
    scope: str, gen: int, mode: str, seq: int, cursor: int, select: str | None = None, page: int = 0
) -> str:
    raw = json.dumps([scope, gen, mode, seq, cursor, select, page], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> Token | None:
    """None when the token is not one of ours (Graph treats that like an expired token: 410). Tokens
    handed out before page numbers existed (six fields) still decode, as page 0."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        fields = json.loads(raw)
        scope, gen, mode, seq, cursor, select = fields[:6]
        page = fields[6] if len(fields) == 7 else 0
        if mode not in ("F", "C", "D") or len(fields) not in (6, 7):
            return None
        return str(scope), int(gen), mode, int(seq), int(cursor), select, int(page)
    except (ValueError, TypeError, IndexError):
        return None


# --- directory ----------------------------------------------------------------------------------------


def user_json(user: SimUser, select: list[str] | None, *, always_id: bool = False) -> dict[str, Any]:
    full: dict[str, Any] = {
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": None,
        "jobTitle": None,
        "mail": user.mail,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": user.preferred_language,
        "surname": None,
        "userPrincipalName": user.upn,
        "id": user.id,
        "accountEnabled": user.account_enabled,
    }
    if not select:
        return {k: full[k] for k in USER_DEFAULT_PROPS}
    return _selected(full, select, always_id)


def directory_object_json(obj: SimUser | SimGroup, select: list[str] | None) -> dict[str, Any]:
    """A member or owner in a directoryObject collection: typed by ``@odata.type``."""
    if isinstance(obj, SimUser):
        return {"@odata.type": "#microsoft.graph.user", **user_json(obj, select, always_id=True)}
    return {"@odata.type": "#microsoft.graph.group", **group_json(obj, select, always_id=True)}


def mailbox_settings_json(user: SimUser) -> dict[str, Any]:
    locale = user.preferred_language or "en-US"
    return {
        "timeZone": user.time_zone,
        "language": {"locale": locale, "displayName": LANGUAGE_NAMES.get(locale, locale)},
    }


def group_json(group: SimGroup, select: list[str] | None, *, always_id: bool = False) -> dict[str, Any]:
    full: dict[str, Any] = {
        "id": group.id,
        "displayName": group.display_name,
        "groupTypes": ["Unified"] if group.is_team else [],
        "resourceProvisioningOptions": ["Team"] if group.is_team else [],
        "mailEnabled": group.is_team,
        "securityEnabled": not group.is_team,
    }
    return _selected(full, select, always_id)


def removed_json(obj_id: str) -> dict[str, Any]:
    # Directory delta marks removed objects with this annotation; "changed" = soft-deleted (restorable).
    return {"id": obj_id, "@removed": {"reason": "changed"}}


def _selected(full: dict[str, Any], select: list[str] | None, always_id: bool) -> dict[str, Any]:
    if not select:
        return full
    wanted = {s.lower() for s in select}
    out = {k: v for k, v in full.items() if k.lower() in wanted}
    if always_id:  # delta always returns the id, even when $select leaves it out
        out = {"id": full["id"], **out}
    return out


def parse_select(value: str | None) -> list[str] | None:
    return [s.strip() for s in value.split(",") if s.strip()] if value else None


# --- drives and items ----------------------------------------------------------------------------------


def site_json(site: SimSite) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "displayName": site.display_name,
        "webUrl": site.web_url,
        "createdDateTime": iso(site.created),
    }


def drive_json(drive: SimDrive, model: TenantModel) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": drive.id,
        "driveType": drive.drive_type,
        "name": drive.name,
        "webUrl": drive.web_url,
        "createdDateTime": iso(model.epoch - dt.timedelta(days=400)),
    }
    if drive.owner_user_id:
        owner = model.users[drive.owner_user_id]
        body["owner"] = {"user": {"id": owner.id, "displayName": owner.display_name}}
    elif drive.owner_group_id:
        group = model.groups[drive.owner_group_id]
        body["owner"] = {"group": {"id": group.id, "displayName": group.display_name}}
    return body


def etag(item: SimItem) -> str:
    return f'"{{{_guid(item)}}},{item.version}"'


def ctag(item: SimItem) -> str:
    return f'"c:{{{_guid(item)}}},{item.version}"'


def _guid(item: SimItem) -> str:
    if not item.guid:
        item.guid = str(uuid.uuid5(uuid.NAMESPACE_URL, item.drive_id + "/" + item.id)).upper()
    return item.guid


def parent_reference(item: SimItem, drive: SimDrive) -> dict[str, Any]:
    ref: dict[str, Any] = {"driveId": drive.id, "driveType": drive.drive_type}
    if item.parent_id is not None:
        ref["id"] = item.parent_id
    return ref


def identity_json(item: SimItem, model: TenantModel) -> dict[str, Any] | None:
    """createdBy / lastModifiedBy: the creating user, or an application (channel recordings uploaded by
    "Skype Teams Services"), which has no ``user`` at all."""
    if item.created_by_app is not None:
        app_id, name = item.created_by_app
        return {"application": {"id": app_id, "displayName": name}}
    if item.created_by and item.created_by in model.users:
        user = model.users[item.created_by]
        return {"user": {"id": user.id, "displayName": user.display_name}}
    return None


def item_json(
    item: SimItem,
    model: TenantModel,
    *,
    in_delta: bool,
    media_facets: bool = False,
    delta_ctag: bool = False,
) -> dict[str, Any]:
    """A driveItem. ``media_facets``: add the beta ``source`` / ``media`` facets to a Teams recording.
    ``delta_ctag``: keep ``cTag`` in a delta item (OneDrive for Business leaves it out)."""
    drive = model.drives[item.drive_id]
    if item.deleted:
        body: dict[str, Any] = {
            "id": item.id,
            "deleted": {},
            "parentReference": parent_reference(item, drive),
        }
        if item.is_folder:
            body["folder"] = {"childCount": 0}
        return body
    is_root = item.id == drive.root_id
    body = {
        "id": item.id,
        "name": item.name,
        "eTag": etag(item),
        "cTag": ctag(item),
        "createdDateTime": iso(item.created),
        "lastModifiedDateTime": iso(item.modified),
        "webUrl": drive.web_url if is_root else _web_url(item, model, drive),
        "size": item.size,
        "parentReference": parent_reference(item, drive),
    }
    if in_delta and not delta_ctag:
        del body["cTag"]
    identity = identity_json(item, model)
    if identity is not None:
        body["createdBy"] = identity
        body["lastModifiedBy"] = identity
    if is_root:
        body["root"] = {}
    if item.is_folder:
        body["folder"] = {"childCount": item.child_count}
        if _is_special_recordings(item, model, drive):
            body["specialFolder"] = {"name": "recordings"}
    else:
        body["file"] = {"mimeType": item.mime_type}
    if not in_delta and not is_root:
        # Only a plain GET carries the folder path; delta never does.
        body["parentReference"]["path"] = f"/drives/{drive.id}" + model.item_path(item).removeprefix("/drive")
    if item.teams_recording and media_facets:
        body["source"] = {"application": "teams"}
        body["media"] = {"mediaSource": {"contentCategory": "meeting"}}
    return body


def _is_special_recordings(item: SimItem, model: TenantModel, drive: SimDrive) -> bool:
    """A OneDrive's root-level folder Teams records into, when the knob marks it special."""
    return (model.knobs.recordings_special_folder and drive.owner_user_id is not None
            and item.special == "recordings")


def _web_url(item: SimItem, model: TenantModel, drive: SimDrive) -> str:
    folder = model.item_path(item).removeprefix("/drive/root:")
    return drive.web_url + quote(f"{folder}/{item.name}")


def label_json(item: SimItem, *, unlabelled: str) -> dict[str, Any] | None:
    """itemRetentionLabel; for an unlabelled item ``{"name": null}`` ("empty") or None ("absent")."""
    label = item.label
    if label is None:
        return (
            {
                "name": None,
                "isLabelAppliedExplicitly": None,
                "labelAppliedDateTime": None,
                "labelAppliedBy": None,
                "retentionSettings": None,
            }
            if unlabelled == "empty"
            else None
        )
    return {
        "name": label.name,
        "isLabelAppliedExplicitly": label.explicit,
        "labelAppliedDateTime": (label.applied_at or item.created)
        .astimezone(dt.UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "0+00:00"),
        "labelAppliedBy": {
            "user": {"id": "00000000-0000-0000-0000-000000000000", "displayName": "Compliance Admin"}
        },
        "retentionSettings": {
            "behaviorDuringRetentionPeriod": label.behavior,
            "isDeleteAllowed": label.is_delete_allowed,
            "isRecordLocked": label.is_record_locked,
            "isMetadataUpdateAllowed": not label.is_record_locked,
            "isContentUpdateAllowed": not label.is_record_locked,
            "isLabelUpdateAllowed": not label.is_record_locked,
        },
    }
