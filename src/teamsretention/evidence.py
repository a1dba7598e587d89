"""Shared by the warn and delete steps: writing evidence, and telling which decisions are this cycle's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .domain import Action
from .errors import GraphError
from .store.tables import AuditRow, RecordingRow


def audit(s: Any, clock: Callable[[], dt.datetime], cycle_date: dt.date, run_id: int | None, event: str,
           row: RecordingRow | None = None, *, rule: str | None = None, due: dt.date | None = None,
           reason: str = "", actor: str = "teamsretention", **detail: Any) -> None:
    s.add(AuditRow(at=clock(), cycle_date=cycle_date, run_id=run_id, actor=actor, event=event,
                   recording_key=f"{row.drive_id}/{row.item_id}" if row else None,
                   recording_name=row.name if row else None, organizer_id=row.organizer_id if row else None,
                   rule=rule, due=due, reason=reason, detail=detail))


def outcome_unknown(exc: GraphError) -> bool:
    """No HTTP answer (timeout, network) or a 5xx: Graph may have carried the request out."""
    return exc.status == 0 or exc.status >= 500


def this_cycle(cycle_date: dt.date, action: Action) -> Any:
    """Tracked recordings whose decision, taken by this cycle's evaluation, is ``action``."""
    return ((RecordingRow.state == "tracked") & (RecordingRow.action == action.value)
            & (RecordingRow.decided_on == cycle_date))
