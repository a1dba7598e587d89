"""The summary of one cycle (``run --once``) and the plan table (``plan``)."""

from __future__ import annotations

from typing import Any

from ..cycle import CycleReport, Evaluated

_ACTION_WORDS = {"warn": "would warn", "delete": "would delete", "keep": "keep"}


def cycle_lines(report: CycleReport) -> list[str]:
    s = report.summary()
    lines = [f"Cycle {s['cycle_date']} ({s['mode']}): {s['status']}, exit {s['exit_code']}",
             f"  drives {s['drives']} ({s['drives_incomplete']} incomplete), recordings tracked {s['tracked']}",
             f"  warned {s['warned']} in {s['digests_sent']} digests, deleted {s['deleted']}, "
             f"blocked {s['blocked']}, send failures {s['send_failures']}"]
    if s["rules"]:
        lines.append("  rules: " + ", ".join(f"{k} {v}" for k, v in sorted(s["rules"].items())))
    lines += recognition_lines(report, indent="  ")
    return lines + governance_lines(report, indent="  ")


def governance_lines(report: CycleReport, indent: str = "") -> list[str]:
    """What the lists changed, and the decisions and rows that were refused (also in the audit trail)."""
    g = report.governance
    lines = [f"{indent}lists: {g.requests_applied} requests applied, {g.list_requests} Graph requests"] if (
        g.list_requests or g.requests_applied) else []
    lines += [f"{indent}ignored: {text}" for text in g.ignored]
    lines += [f"{indent}list: {text}" for text in [*g.unknown_codes, *g.problems]]
    return lines


def recognition_lines(report: CycleReport, indent: str = "") -> list[str]:
    """What the tracked recordings were recognised by, and the videos kept as unsure (never touched)."""
    lines = []
    evidence = report.inventory.evidence
    if evidence:
        lines.append(f"{indent}recognised by: " + ", ".join(f"{k} {v}" for k, v in sorted(evidence.items())))
    unsure = report.inventory.unsure
    if unsure:
        lines.append(f"{indent}unsure videos, never warned about or deleted ({len(unsure)}):")
        lines += [f"{indent}  ? {name}" for name in unsure]
    return lines


def problem_lines(report: CycleReport, indent: str = "  ") -> list[str]:
    return [f"{indent}! {problem}" for problem in report.problems]


def plan_rows(report: CycleReport) -> list[dict[str, Any]]:
    def row(e: Evaluated) -> dict[str, Any]:
        d = e.decision
        return {"recording": e.recording.name, "drive_id": e.drive_id, "item_id": e.recording.ref.item_id,
                "location": e.location, "organizer_id": e.organizer_id,
                "recorded_on": d.recorded_on.isoformat() if d.recorded_on else None,
                "action": d.action.value, "due": d.due.isoformat() if d.due else None,
                "deleted_on": e.delete_on.isoformat() if e.delete_on else None,
                "rule": d.rule, "reason": d.reason, "label_checked": not d.needs_label}
    order = {"delete": 0, "warn": 1, "keep": 2}
    rows = [row(e) for e in report.evaluated]
    rows.sort(key=lambda r: (order[r["action"]], r["due"] or "9999", r["recording"]))
    return rows


def plan_data(report: CycleReport) -> dict[str, Any]:
    return {"summary": report.summary(), "recordings": plan_rows(report)}


def plan_lines(report: CycleReport) -> list[str]:
    rows = plan_rows(report)
    lines = [f"Plan for {report.cycle_date.isoformat()}: nothing is sent or deleted by `plan`."]
    if not rows:
        lines.append("Nothing to warn about or delete.")
    else:
        width = min(60, max(len(r["recording"]) for r in rows))
        lines.append(f"{'ACTION':<13} {'DUE':<10}  {'RULE':<14} {'RECORDING':<{width}}  WHERE")
        for r in rows:
            action = _ACTION_WORDS[r["action"]] + ("" if r["label_checked"] else "*")
            if r["deleted_on"]:
                action = "would delete"
            name = r["recording"] if len(r["recording"]) <= width else r["recording"][: width - 1] + "…"
            lines.append(f"{action:<13} {r['deleted_on'] or r['due'] or '-':<10}  {r['rule']:<14} "
                         f"{name:<{width}}  {r['location']}")
        if any(not r["label_checked"] for r in rows):
            lines.append("* retention label not read yet: it is read before any warning or deletion.")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.actions.items()))
    lines.append(f"{report.tracked} recordings tracked: {counts or 'none'}.")
    return lines + recognition_lines(report)
