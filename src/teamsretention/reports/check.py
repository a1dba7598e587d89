"""What ``check`` prints: a line per finding (✓ held, ✗ failed with its fix, ! a warning, · information), then a
verdict; and the same as JSON for automation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol


class Finding(Protocol):
    """One finding of ``workflows.check`` (this layer prints it; it does not import the workflow)."""

    @property
    def area(self) -> str: ...
    @property
    def status(self) -> str: ...  # ok | fail | warn | info
    @property
    def what(self) -> str: ...
    @property
    def fix(self) -> str: ...


class CheckReport(Protocol):
    @property
    def findings(self) -> Sequence[Finding]: ...
    @property
    def roles(self) -> frozenset[str] | None: ...
    @property
    def next_cycles(self) -> Sequence[dt.datetime]: ...
    @property
    def graph_endpoint(self) -> str: ...
    @property
    def ok(self) -> bool: ...


MARKS = {"ok": "✓", "fail": "✗", "warn": "!", "info": "·"}
AREAS = {"permissions": "Permissions", "graph": "Graph", "lists": "Lists", "mail": "Mail", "store": "State store",
         "schedule": "Schedule"}


def check_lines(report: CheckReport) -> list[str]:
    lines = [f"teamsretention check against {report.graph_endpoint} (changes nothing; deletes nothing)"]
    area = ""
    for f in report.findings:
        if f.area != area:
            area = f.area
            lines.append(f"{AREAS.get(area, area)}:")
        lines.append(f"  {MARKS[f.status]} {f.what}")
        if f.fix:
            lines.append(f"      {'fix' if f.status == 'fail' else 'note'}: {f.fix}")
    failed = sum(f.status == "fail" for f in report.findings)
    if failed:
        lines.append(f"{failed} check(s) failed (✗): fix each as its line says, then run `teamsretention check` "
                     "again.")
    else:
        lines.append("Everything required holds: `teamsretention plan` shows what the next cycle would do.")
    return lines


def check_data(report: CheckReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "exitCode": 0 if report.ok else 1,
        "graphEndpoint": report.graph_endpoint,
        "roles": None if report.roles is None else sorted(report.roles),
        "nextCycles": [m.isoformat() for m in report.next_cycles],
        "checks": [{"area": f.area, "status": f.status, "what": f.what, "fix": f.fix or None}
                   for f in report.findings],
    }
