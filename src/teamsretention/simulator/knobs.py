"""Fault and behaviour knobs of the simulator.

Defaults follow Graph v1.0 as Microsoft documents it; beta-only or undocumented behaviour is behind a knob
that is off, and where the docs are silent a knob offers both answers. Knobs also inject the faults a daemon
must survive. They are plain data: ``GET /_simulator/knobs`` shows them, ``POST /_simulator/knobs`` changes
them while the app runs (a partial update; ``delta_media_facets`` is still accepted for ``media_facets``).

Shapes:
- ``media_facets`` (False): ``media`` / ``source`` on Teams recordings in v1.0 delta and GET. v1.0
  driveItem declares neither (the CSDL and the v1.0 resource page); only beta documents them.
- ``beta_media_facets`` (True): the same facets on ``GET /beta/drives/{d}/items/{i}``, as beta documents.
- ``delta_ctag`` (False): ``cTag`` in delta. The delta Remarks: OneDrive for Business omits it on
  create/modify (and delete).
- ``unlabelled_label`` ("empty" | "absent"): the retention label of an unlabelled item (undocumented).
- ``files_folder_created_sentinel`` (True): filesFolder's ``createdDateTime`` is ``0001-01-01T00:00:00Z``,
  as in Microsoft's only filesFolder example; off: the folder's real creation time.
- ``failing_files_folders``: channel ("team/channel" key or channel id) -> ``{"status", "code", "message"}``
  (defaults 404, itemNotFound, "Sharepoint folder not found.", what an unprovisioned private channel gets).
- ``migrated_channels``: channel -> ``{"parent_reference": bool}``: filesFolder answers the root folder of
  the channel's site drive, with ``parentReference`` {driveId, driveType} only when asked (default false).
- ``shares_root_parent_reference`` (False): a drive root read through ``/shares`` carries parentReference.
- ``cast_requires_advanced_query`` (True): ``transitiveMembers/microsoft.graph.user`` needs
  ``ConsistencyLevel: eventual`` and ``$count=true`` (the advanced-query doc lists OData casts on
  transitive member lists), else 400 Request_UnsupportedQuery.
- ``next_link_loops``: scopes ("users", "groups", a drive id or a user/team/channel key owning the drive,
  "members:<group>", "owners:<group>") whose second page links back to the first page (A -> B -> A).
- ``delta_honours_top`` (True): a drive's delta gives ``$top`` items a page (at most 1,000), as the delta page
  documents; off: Graph's default page whatever is asked (what some reports of OneDrive for Business describe).
- ``delta_links_keep_top`` (True): a delta's nextLink and deltaLink carry the ``$top`` asked for (the docs do
  not say): off, the pages after the first are of the default size again.
- ``send_mail_status`` (202): the 2xx a successful sendMail answers.
- ``denied_mail_senders``: sender addresses (or user ids) whose sendMail answers 403 ErrorAccessDenied "Access to
  OData is disabled." (an Exchange application access policy that leaves the mailbox out).
- ``recordings_special_folder`` (False): a OneDrive's ``/Recordings`` folder carries the ``specialFolder``
  facet ``{"name": "recordings"}``. The special-folder doc lists "recordings" for OneDrive for Business, but
  no documented example shows Teams' Recordings folder marked so: both answers are served.
- ``app_roles``: the application permissions in the ``roles`` claim of the token ``GET /_simulator/token``
  issues (default: every permission the product asks for; remove one to see ``teamsretention check`` name it).
- ``ru_per_minute`` (0: off): the throttling model (throttling.py), a per-minute resource-unit bucket for the
  app; a request that does not fit answers 429 with ``Retry-After``, RateLimit-* headers from 80% used.
- faults: ``throttle_share`` / ``throttle_retry_after``, ``fail_paths``, ``locked_items`` (423),
  ``forbidden_items`` (403), ``deny_all_deletes``, ``expire_delta_tokens`` (410), ``failing_mail_recipients``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields
from typing import Any, Literal

UnlabelledLabel = Literal["empty", "absent"]
# Every application permission the product asks for (README, "Connecting a real tenant"; lists: Sites.Selected).
FULL_APP_ROLES = ("User.Read.All", "GroupMember.Read.All", "Channel.ReadBasic.All", "Files.ReadWrite.All",
                  "Mail.Send", "MailboxSettings.Read", "Sites.Selected")

FILES_FOLDER_FAILURE = {"status": 404, "code": "itemNotFound", "message": "Sharepoint folder not found."}
ALIASES = {"delta_media_facets": "media_facets"}  # old knob names still accepted by update()
BOOL_KNOBS = frozenset(
    {
        "media_facets",
        "beta_media_facets",
        "recordings_special_folder",
        "delta_ctag",
        "files_folder_created_sentinel",
        "shares_root_parent_reference",
        "cast_requires_advanced_query",
        "repeat_items",
        "deny_all_deletes",
        "expire_delta_tokens",
        "delta_honours_top",
        "delta_links_keep_top",
    }
)


@dataclass(slots=True)
class FailRule:
    """Answer requests whose path matches ``pattern`` (a regex, searched) with ``status``.

    ``count``: only the next N matching requests fail. ``share``: each matching request fails with this
    probability (seeded RNG). Neither: every matching request fails.
    """

    pattern: str
    status: int = 503
    count: int | None = None
    share: float | None = None
    method: str | None = None  # e.g. "DELETE"; None matches every method
    retry_after: float | None = None  # 429/503 only; None: the knob throttle_retry_after

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return re.search(self.pattern, path) is not None


@dataclass(slots=True)
class ItemBlock:
    """A per-item delete refusal: for the next ``attempts`` deletes, until ``until``, or always."""

    attempts: int | None = None
    until: dt.datetime | None = None

    def applies(self, now: dt.datetime) -> bool:
        if self.until is not None and now >= self.until:
            return False
        return self.attempts is None or self.attempts > 0

    def consume(self) -> None:
        if self.attempts is not None:
            self.attempts -= 1


@dataclass(slots=True)
class Knobs:
    page_size: int = 20  # Graph's default page (200 in Graph; small here so tests see several pages)
    directory_page_size: int = 100  # users/groups delta and member lists
    delta_honours_top: bool = True
    delta_links_keep_top: bool = True
    media_facets: bool = False
    beta_media_facets: bool = True
    delta_ctag: bool = False
    unlabelled_label: UnlabelledLabel = "empty"
    files_folder_created_sentinel: bool = True
    failing_files_folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    migrated_channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    shares_root_parent_reference: bool = False
    cast_requires_advanced_query: bool = True
    next_link_loops: list[str] = field(default_factory=list)
    repeat_items: bool = False
    throttle_share: float = 0.0
    throttle_retry_after: float = 1
    ru_per_minute: int = 0
    fail_paths: list[FailRule] = field(default_factory=list)
    locked_items: dict[str, ItemBlock] = field(default_factory=dict)  # item id -> 423 on delete
    forbidden_items: dict[str, ItemBlock] = field(default_factory=dict)  # item id -> 403 on delete
    deny_all_deletes: bool = False
    expire_delta_tokens: bool = False
    failing_mail_recipients: dict[str, int] = field(default_factory=dict)  # address (lower) -> status
    send_mail_status: int = 202
    denied_mail_senders: list[str] = field(default_factory=list)  # addresses (lower) -> 403 on sendMail
    recordings_special_folder: bool = False
    app_roles: list[str] = field(default_factory=lambda: list(FULL_APP_ROLES))
    seed: int = 1

    def update(self, data: dict[str, Any]) -> None:
        """Apply a JSON patch of knob values; unknown keys raise ValueError."""
        known = {f.name for f in fields(self)}
        for key, value in data.items():
            key = ALIASES.get(key, key)
            if key not in known:
                raise ValueError(f"unknown knob {key!r}")
            setattr(self, key, _parse_knob(key, value))
        if self.unlabelled_label not in ("empty", "absent"):
            raise ValueError("unlabelled_label must be 'empty' or 'absent'")
        if self.page_size < 1 or self.directory_page_size < 1:
            raise ValueError("page sizes must be positive")
        if not 200 <= self.send_mail_status <= 299:
            raise ValueError("send_mail_status must be a 2xx status")
        if self.ru_per_minute < 0:
            raise ValueError("ru_per_minute must be 0 (no throttling model) or a positive budget")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Knobs:
        knobs = cls()
        knobs.update(data)
        return knobs

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_size": self.page_size,
            "directory_page_size": self.directory_page_size,
            "delta_honours_top": self.delta_honours_top,
            "delta_links_keep_top": self.delta_links_keep_top,
            "media_facets": self.media_facets,
            "beta_media_facets": self.beta_media_facets,
            "delta_ctag": self.delta_ctag,
            "unlabelled_label": self.unlabelled_label,
            "files_folder_created_sentinel": self.files_folder_created_sentinel,
            "failing_files_folders": {k: dict(v) for k, v in self.failing_files_folders.items()},
            "migrated_channels": {k: dict(v) for k, v in self.migrated_channels.items()},
            "shares_root_parent_reference": self.shares_root_parent_reference,
            "cast_requires_advanced_query": self.cast_requires_advanced_query,
            "next_link_loops": list(self.next_link_loops),
            "repeat_items": self.repeat_items,
            "throttle_share": self.throttle_share,
            "throttle_retry_after": self.throttle_retry_after,
            "ru_per_minute": self.ru_per_minute,
            "fail_paths": [
                {k: getattr(r, k) for k in ("pattern", "status", "count", "share", "method", "retry_after")}
                for r in self.fail_paths
            ],
            "locked_items": {k: _block_to_dict(b) for k, b in self.locked_items.items()},
            "forbidden_items": {k: _block_to_dict(b) for k, b in self.forbidden_items.items()},
            "deny_all_deletes": self.deny_all_deletes,
            "expire_delta_tokens": self.expire_delta_tokens,
            "failing_mail_recipients": dict(self.failing_mail_recipients),
            "send_mail_status": self.send_mail_status,
            "denied_mail_senders": list(self.denied_mail_senders),
            "recordings_special_folder": self.recordings_special_folder,
            "app_roles": list(self.app_roles),
            "seed": self.seed,
        }


def _parse_knob(key: str, value: Any) -> Any:
    if key == "fail_paths":
        return [v if isinstance(v, FailRule) else FailRule(**v) for v in value]
    if key in ("locked_items", "forbidden_items"):
        return parse_blocks(value)
    if key == "failing_mail_recipients":
        if isinstance(value, list):  # a bare list of addresses: 503 for each
            return {str(a).lower(): 503 for a in value}
        return {str(a).lower(): int(s) for a, s in value.items()}
    if key == "denied_mail_senders":
        values = [value] if isinstance(value, str) else list(value)
        return [str(v).lower() for v in values]
    if key == "failing_files_folders":
        return _parse_files_folder_failures(value)
    if key == "migrated_channels":
        return _parse_migrated_channels(value)
    if key == "app_roles":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("app_roles takes a list of permission names")
        return list(value)
    if key == "next_link_loops":
        values = [value] if isinstance(value, str) else list(value)
        if not all(isinstance(v, str) for v in values):
            raise ValueError("next_link_loops takes a list of scope names")
        return values
    if key in ("page_size", "directory_page_size", "seed", "send_mail_status", "ru_per_minute"):
        return int(value)
    if key in ("throttle_share", "throttle_retry_after"):
        return float(value)
    if key in BOOL_KNOBS:
        if not isinstance(value, bool):
            raise ValueError(f"knob {key!r} takes true or false")
        return value
    return value


def _parse_files_folder_failures(value: Any) -> dict[str, dict[str, Any]]:
    """``["team/channel"]``, ``{"team/channel": null | status | {"status", "code", "message"}}``; missing
    fields take Graph's answer for an unprovisioned private channel."""
    if isinstance(value, list):
        value = dict.fromkeys(value)
    out: dict[str, dict[str, Any]] = {}
    for ref, spec in value.items():
        spec = {} if spec is None else {"status": spec} if isinstance(spec, int) else spec
        if not isinstance(spec, dict) or set(spec) - set(FILES_FOLDER_FAILURE):
            raise ValueError(f"failing_files_folders[{ref!r}] takes status, code and message")
        out[str(ref)] = {
            "status": int(spec.get("status", FILES_FOLDER_FAILURE["status"])),
            "code": str(spec.get("code", FILES_FOLDER_FAILURE["code"])),
            "message": str(spec.get("message", FILES_FOLDER_FAILURE["message"])),
        }
    return out


def _parse_migrated_channels(value: Any) -> dict[str, dict[str, Any]]:
    """``["team/channel"]``, ``{"team/channel": bool}`` or ``{"team/channel": {"parent_reference": bool}}``."""
    if isinstance(value, list):
        value = dict.fromkeys(value)
    out: dict[str, dict[str, Any]] = {}
    for ref, spec in value.items():
        if spec is None or isinstance(spec, bool):
            spec = {"parent_reference": bool(spec)}
        if not isinstance(spec, dict) or set(spec) - {"parent_reference"}:
            raise ValueError(f"migrated_channels[{ref!r}] takes parent_reference")
        out[str(ref)] = {"parent_reference": bool(spec.get("parent_reference", False))}
    return out


def parse_blocks(value: Any) -> dict[str, ItemBlock]:
    """Accept ``["id", ...]`` (always), ``{"id": N}`` (N attempts), ``{"id": null}`` (always) or
    ``{"id": {"attempts": N, "until": "<iso datetime>"}}``."""
    if isinstance(value, list):
        return {str(v): ItemBlock() for v in value}
    blocks: dict[str, ItemBlock] = {}
    for item_id, spec in value.items():
        if isinstance(spec, ItemBlock):
            blocks[item_id] = spec
        elif spec is None or isinstance(spec, int):
            blocks[item_id] = ItemBlock(attempts=spec)
        else:
            until = spec.get("until")
            blocks[item_id] = ItemBlock(
                attempts=spec.get("attempts"),
                until=dt.datetime.fromisoformat(until) if isinstance(until, str) else until,
            )
    return blocks


def _block_to_dict(block: ItemBlock) -> dict[str, Any]:
    return {"attempts": block.attempts, "until": block.until.isoformat() if block.until else None}
