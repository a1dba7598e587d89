"""The request log: what a client asked of the simulated Graph and what it would have cost.

Costs follow SharePoint/OneDrive resource units (graph-notes.md, throttling): 1 for a single-item GET and
for delta with a token, 2 for a list, delta without a token, a create or a delete, 5 for a permission call.
Only aggregate counters and the last ``KEEP_LAST`` entries are kept, so a benchmark over a 40,000-recording
tenant stays small in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, deque
from typing import Any

KEEP_LAST = 1000

RU_SINGLE = 1
RU_LIST = 2
RU_PERMISSION = 5


class RequestLog:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total_requests = 0
        self.total_ru = 0
        self.by_kind: Counter[str] = Counter()
        self.ru_by_kind: Counter[str] = Counter()
        self.by_drive: Counter[str] = Counter()
        self.ru_by_drive: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.recent: deque[dict[str, Any]] = deque(maxlen=KEEP_LAST)

    def record(
        self,
        *,
        method: str,
        path: str,
        status: int,
        kind: str,
        ru: int,
        drive_id: str | None,
        at: dt.datetime,
    ) -> None:
        self.total_requests += 1
        self.total_ru += ru
        self.by_kind[kind] += 1
        self.ru_by_kind[kind] += ru
        self.by_status[status] += 1
        if drive_id:
            self.by_drive[drive_id] += 1
            self.ru_by_drive[drive_id] += ru
        self.recent.append(
            {
                "method": method,
                "path": path,
                "status": status,
                "kind": kind,
                "ru": ru,
                "driveId": drive_id,
                "at": at.isoformat(),
            }
        )

    def count(self, kind_prefix: str) -> int:
        """Requests whose kind starts with ``kind_prefix``: ``count("list.")`` is every request to a list (its
        items, delta, versions, columns), ``count("list.items.delta")`` the delta pages."""
        return sum(n for kind, n in self.by_kind.items() if kind.startswith(kind_prefix))

    def to_dict(self, *, recent: int = KEEP_LAST) -> dict[str, Any]:
        return {
            "requests": self.total_requests,
            "resourceUnits": self.total_ru,
            "byKind": {
                k: {"requests": n, "resourceUnits": self.ru_by_kind[k]}
                for k, n in sorted(self.by_kind.items())
            },
            "byDrive": {
                d: {"requests": n, "resourceUnits": self.ru_by_drive[d]} for d, n in self.by_drive.items()
            },
            "byStatus": {str(s): n for s, n in sorted(self.by_status.items())},
            "recent": list(self.recent)[-recent:] if recent else [],
        }
