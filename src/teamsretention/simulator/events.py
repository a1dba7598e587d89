"""Scheduled tenant events and the operations they perform.

An event is a kind plus parameters, fired when the simulated clock passes its time. The same helpers add
the recordings, files and folders a scenario lists up front, so a recording looks the same whether it was
there on day 0 or appeared later. The event kinds are listed in scenario.py's docstring.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from .entities import Label, ScheduledEvent, SimChannel, SimItem
from .model import TenantModel

MP4 = "video/mp4"


def created_at(base: dt.datetime, age_days: float, time_of_day: str | None) -> dt.datetime:
    """``age_days`` before ``base``; with ``time_of_day`` ("HH:MM[:SS]", UTC) on that calendar day.

    Never later than ``base``: a recording cannot be created in the future.
    """
    when = base - dt.timedelta(days=age_days)
    if time_of_day:
        t = dt.time.fromisoformat(time_of_day)
        when = dt.datetime.combine(when.date(), t, tzinfo=dt.UTC)
    return min(when, base)


def recording_name(subject: str, created: dt.datetime) -> str:
    return f"{subject}-{created.astimezone(dt.UTC):%Y%m%d_%H%M%S}-Meeting Recording.mp4"


def find_channel(model: TenantModel, ref: str) -> SimChannel:
    """``"<team key or id>/<channel name>"`` or a channel id."""
    ref = model.resolve(ref)
    for group in model.groups.values():
        for channel in group.channels:
            if channel.id == ref:
                return channel
    if "/" in ref:
        team_ref, name = ref.split("/", 1)
        team = model.groups.get(model.resolve(team_ref))
        if team is not None:
            for channel in team.channels:
                if channel.display_name == name:
                    return channel
    raise KeyError(f"no channel {ref!r}")


def parse_label(spec: dict[str, Any] | None) -> Label | None:
    if not spec or not spec.get("name"):
        return None
    return Label(
        name=str(spec["name"]),
        behavior=str(spec.get("behavior", "retain")),
        is_delete_allowed=bool(spec.get("is_delete_allowed", False)),
        is_record_locked=bool(spec.get("is_record_locked", False)),
        explicit=bool(spec.get("explicit", True)),
    )


def _target_folder(
    model: TenantModel, params: dict[str, Any], default: list[str]
) -> tuple[str, list[str], str | None]:
    """(drive id, folder path, creator id) for a file owned by a user's OneDrive or a channel."""
    owner_ref = params.get("organizer") or params.get("owner")
    owner = model.find_user(owner_ref) if owner_ref else None
    folder = params.get("folder")
    if params.get("channel"):
        channel = find_channel(model, str(params["channel"]))
        path = [channel.display_name, *([folder] if isinstance(folder, str) else folder or default)]
        return channel.drive_id, path, owner.id if owner else None
    if owner is None or owner.drive_id is None:
        raise KeyError(f"no OneDrive for {owner_ref!r}")
    path = [folder] if isinstance(folder, str) else list(folder or default)
    return owner.drive_id, path, owner.id


def _app_identity(params: dict[str, Any]) -> tuple[str, str] | None:
    """``created_by_app = "Skype Teams Services"`` (optional ``created_by_app_id``): the application that
    uploaded the file; its id defaults to a GUID derived from the name."""
    name = params.get("created_by_app")
    if not name:
        return None
    app_id = params.get("created_by_app_id") or str(uuid.uuid5(uuid.NAMESPACE_DNS, f"app.{name}"))
    return str(app_id), str(name)


def add_recording(model: TenantModel, params: dict[str, Any], base: dt.datetime) -> SimItem:
    """A Teams meeting recording in the organizer's OneDrive, or in a channel's Recordings folder."""
    created = created_at(base, float(params.get("age_days", 0)), params.get("time"))
    drive_id, folder, creator = _target_folder(model, params, ["Recordings"])
    subject = str(params.get("subject", "Meeting"))
    item = model.add_file(
        drive_id,
        folder,
        str(params.get("name") or recording_name(subject, created)),
        created,
        mime_type=MP4,
        size=int(params.get("size", 48_000_000)),
        created_by=creator,
        teams_recording=bool(params.get("teams_recording", True)),
        label=parse_label(params.get("label")),
        item_id=params.get("id"),
    )
    item.created_by_app = _app_identity(params)
    if folder == ["Recordings"] and not params.get("channel") and item.parent_id is not None:
        # The folder Teams creates in a OneDrive: the one Graph may mark special "recordings".
        model.drives[drive_id].items[item.parent_id].special = "recordings"
    if item.label is not None:
        item.label.applied_at = created
    if params.get("key"):
        model.aliases[str(params["key"])] = item.id
    return item


def add_plain_file(model: TenantModel, params: dict[str, Any], base: dt.datetime) -> SimItem:
    """Any other file (documents, a home video, a transcript): never a Teams recording."""
    created = created_at(base, float(params.get("age_days", 0)), params.get("time"))
    drive_id, folder, creator = _target_folder(model, params, [])
    item = model.add_file(
        drive_id,
        folder,
        str(params["name"]),
        created,
        mime_type=str(params.get("mime_type", "application/octet-stream")),
        size=int(params.get("size", 20_000)),
        created_by=creator,
        item_id=params.get("id"),
    )
    item.created_by_app = _app_identity(params)
    if params.get("key"):
        model.aliases[str(params["key"])] = item.id
    return item


def add_folder(model: TenantModel, params: dict[str, Any], base: dt.datetime) -> SimItem:
    """A folder (``path``, a name or a list) in ``owner``'s OneDrive or under ``channel``'s folder, with a
    scenario ``key`` so events can rename or move it (the ``Recordings`` folder itself, say)."""
    drive_id, path, _ = _target_folder(model, {**params, "folder": params.get("path") or []}, [])
    if not path:
        raise ValueError("a folder needs a path")
    # Listed up front (base is the epoch): dated like every other folder; added by an event: at its time.
    folder = model.ensure_folder(drive_id, path, created=None if base == model.epoch else base)
    if params.get("key"):
        model.aliases[str(params["key"])] = folder.id
    return folder


def add_user(model: TenantModel, params: dict[str, Any]) -> str:
    key = str(params.get("key") or params["upn"].split("@")[0])
    upn = str(params.get("upn") or f"{key}@{model.domain}")
    mail = params.get("mail", upn)
    user = model.add_user(
        str(params.get("display_name", key)),
        upn,
        mail or None,
        user_id=params.get("id"),
        account_enabled=bool(params.get("account_enabled", True)),
        preferred_language=params.get("preferred_language") or None,
        has_onedrive=bool(params.get("has_onedrive", True)),
        has_mailbox=bool(params["has_mailbox"]) if "has_mailbox" in params else None,
        time_zone=str(params.get("time_zone", "UTC")),
    )
    model.aliases[key] = user.id
    return user.id


def schedule(model: TenantModel, at: dt.datetime, kind: str, params: dict[str, Any]) -> ScheduledEvent:
    """Queue one of the event kinds below to fire when the clock passes ``at``."""
    return model.schedule(at, kind, params, apply_event)


def apply_event(model: TenantModel, event: ScheduledEvent) -> dict[str, Any]:
    """Perform one event at the model's current time; returns what happened, for the control API."""
    p = event.params
    kind = event.kind
    detail: dict[str, Any] = {"at": event.at.isoformat(), "kind": kind}
    if kind == "add_recording":
        detail["itemId"] = add_recording(model, p, model.now).id
    elif kind == "add_file":
        detail["itemId"] = add_plain_file(model, p, model.now).id
    elif kind == "add_folder":
        detail["itemId"] = add_folder(model, p, model.now).id
    elif kind in ("delete_item", "modify_item", "move_item", "set_label", "restore_item"):
        item = model.find_item(str(p["item"]))
        detail["itemId"] = item.id
        if kind == "delete_item":
            model.delete_item(item, by="user", permanent=bool(p.get("permanent", False)))
        elif kind == "modify_item":
            if p.get("name"):
                model.rename_item(item, str(p["name"]))
            else:
                model.touch_item(item)
        elif kind == "move_item":
            to = p.get("to") or []
            detail["parentId"] = model.move_item(item, [to] if isinstance(to, str) else list(to)).id
        elif kind == "set_label":
            model.set_label(item, parse_label(p))
        else:
            model.restore_item(item.drive_id, item.id)
    elif kind in ("disable_user", "enable_user", "remove_user", "replace_onedrive"):
        user = model.users[model.resolve(str(p["user"]))]
        detail["userId"] = user.id
        if kind == "replace_onedrive":
            detail["oldDriveId"] = user.drive_id
            detail["driveId"] = model.replace_onedrive(user).id
            return detail  # the directory object itself did not change
        if kind == "remove_user":
            user.removed = True
        else:
            user.account_enabled = kind == "enable_user"
        model.touch_user(user)
    elif kind == "add_user":
        detail["userId"] = add_user(model, p)
    else:
        raise ValueError(f"unknown event kind {kind!r}")
    return detail
