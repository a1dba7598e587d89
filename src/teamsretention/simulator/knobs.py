"""Fault and behaviour knobs of the simulator.

Knobs cover what Microsoft's documentation leaves open (delta with or without the ``media`` / ``source``
facets, the answer for an unlabelled item) and the faults a daemon must survive (throttling, locked or
held items, a missing permission, expired delta tokens, a mailbox that refuses mail). They are plain data:
``GET /_simulator/knobs`` shows them and ``POST /_simulator/knobs`` changes them while the app runs.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields
from typing import Any, Literal

UnlabelledLabel = Literal["empty", "absent"]


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
    page_size: int = 20
    directory_page_size: int = 100  # users/groups delta and member lists
    delta_media_facets: bool = True
    unlabelled_label: UnlabelledLabel = "empty"
    repeat_items: bool = False
    throttle_share: float = 0.0
    throttle_retry_after: float = 1
    fail_paths: list[FailRule] = field(default_factory=list)
    locked_items: dict[str, ItemBlock] = field(default_factory=dict)  # item id -> 423 on delete
    forbidden_items: dict[str, ItemBlock] = field(default_factory=dict)  # item id -> 403 on delete
    deny_all_deletes: bool = False
    expire_delta_tokens: bool = False
    failing_mail_recipients: dict[str, int] = field(default_factory=dict)  # address (lower) -> status
    seed: int = 1

    def update(self, data: dict[str, Any]) -> None:
        """Apply a JSON patch of knob values; unknown keys raise ValueError."""
        known = {f.name for f in fields(self)}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"unknown knob {key!r}")
            setattr(self, key, _parse_knob(key, value))
        if self.unlabelled_label not in ("empty", "absent"):
            raise ValueError("unlabelled_label must be 'empty' or 'absent'")
        if self.page_size < 1 or self.directory_page_size < 1:
            raise ValueError("page sizes must be positive")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Knobs:
        knobs = cls()
        knobs.update(data)
        return knobs

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_size": self.page_size,
            "directory_page_size": self.directory_page_size,
            "delta_media_facets": self.delta_media_facets,
            "unlabelled_label": self.unlabelled_label,
            "repeat_items": self.repeat_items,
            "throttle_share": self.throttle_share,
            "throttle_retry_after": self.throttle_retry_after,
            "fail_paths": [
                {k: getattr(r, k) for k in ("pattern", "status", "count", "share", "method", "retry_after")}
                for r in self.fail_paths
            ],
            "locked_items": {k: _block_to_dict(b) for k, b in self.locked_items.items()},
            "forbidden_items": {k: _block_to_dict(b) for k, b in self.forbidden_items.items()},
            "deny_all_deletes": self.deny_all_deletes,
            "expire_delta_tokens": self.expire_delta_tokens,
            "failing_mail_recipients": dict(self.failing_mail_recipients),
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
    if key in ("page_size", "directory_page_size", "seed"):
        return int(value)
    if key in ("throttle_share", "throttle_retry_after"):
        return float(value)
    if key in ("delta_media_facets", "repeat_items", "deny_all_deletes", "expire_delta_tokens"):
        if not isinstance(value, bool):
            raise ValueError(f"knob {key!r} takes true or false")
        return value
    return value


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
