"""What the governance step learnt and refused, as ``plan`` and the cycle summary print it."""

from __future__ import annotations

from ..cycle import CycleReport


def governance_lines(report: CycleReport, indent: str = "") -> list[str]:
    """What the lists and the tag rules changed, and the decisions and rows that were refused (each also in
    the audit trail; ignored decisions also reach the DPO digest)."""
    g = report.governance
    lines = []
    if g.list_requests or g.requests_applied:
        lines.append(f"{indent}lists: {g.requests_applied} requests applied, {g.list_requests} Graph requests")
    if g.ignored:
        lines.append(f"{indent}decisions ignored ({len(g.ignored)}):")
        lines += [f"{indent}  ! {text}" for text in g.ignored]
    if g.assignments_changed or g.tagged_by_rule:
        lines.append(f"{indent}assignments changed from the list {g.assignments_changed}, recordings tagged by rule "
                     f"{g.tagged_by_rule}")
    if g.corrected:
        lines.append(f"{indent}list dates corrected, each a day later ({len(g.corrected)}):")
        lines += [f"{indent}  + {text}" for text in g.corrected]
    if g.unknown_codes:
        lines.append(f"{indent}unknown assignment codes, never guessed ({len(g.unknown_codes)}):")
        lines += [f"{indent}  ? {text}" for text in g.unknown_codes]
    if g.problems:
        lines.append(f"{indent}governance problems ({len(g.problems)}):")
        lines += [f"{indent}  ! {text}" for text in g.problems]
    return lines


def recording_notes(report: CycleReport, key: str) -> list[str]:
    """What plan says under one recording: a tag to a closed assignment, a code no assignment has, ..."""
    return list(report.governance.notes.get(key, ()))
