"""The summary of one cycle (``run --once``) and the plan table (``plan``).

``run --once --json`` prints :func:`run_data`: ``{"summary": {...}, "deletions": [...], "blocked": [...],
"digests": [...]}``. ``summary`` holds the counts (the keys of ``CycleReport.summary()``: ``cycle_date``,
``mode``, ``status``, ``exit_code``, ``tracked``, ``warned``, ``digests_sent``, ``deleted``, ``blocked``,
``send_failures``, ``would_warn``, ``would_digest``, ``would_delete``, ``actions``, ``rules``, ``problems``,
...). Each deletion: ``recording_id``, ``name``, ``organizer`` (``id``, ``name``, ``upn``), ``rule``, ``mode``
(recycle | permanent), ``restore_until``. Each blocked deletion: ``recording_id``, ``name``, ``organizer``,
``rule``, ``status``, ``code``, ``message`` (Graph's), ``attempts``, ``attempted_this_cycle``,
``next_attempt_on``. Each digest: ``organizer``, ``recipient``, ``fallback``, ``warned``, ``receipts``,
``status`` (sent | failed | outcome_unknown | undeliverable | dry_run; with ``earlier_today`` true, the
status an earlier run of the date left, ``intended`` meaning its outcome is unknown), ``error``.
Keys are only ever added.
"""

from __future__ import annotations

from typing import Any

from ..cycle import CycleReport, Evaluated
from ..cycle.outcome import DeletionBlocked, DigestOutcome, Organizer
from ..domain import RunMode

_ACTION_WORDS = {"warn": "would warn", "delete": "would delete", "keep": "keep"}


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _who(o: Organizer) -> str:
    if o.name and o.upn:
        return f"{o.name} <{o.upn}>"
    return o.name or o.upn or o.id or "no organizer known"


def cycle_lines(report: CycleReport) -> list[str]:
    """What ``run --once`` prints: the counts, then every deletion, blocked deletion and digest."""
    s = report.summary()
    dry = report.mode is RunMode.DRY_RUN
    mode = (f"{s['mode']}: policy.enforce = false, nothing was sent or deleted" if dry else s["mode"])
    lines = [f"Cycle {s['cycle_date']} ({mode}): {s['status']}, exit {s['exit_code']}",
             f"  drives {s['drives']} ({s['drives_incomplete']} incomplete), recordings tracked {s['tracked']}"]
    if dry:
        lines.append(f"  would warn {_n(s['would_warn'], 'recording')} in {_n(s['would_digest'], 'digest')}, "
                     f"would delete {s['would_delete']}")
    else:
        receipts = sum(d.receipts for d in report.digests if d.status == "sent" and not d.earlier)
        lines.append(f"  warned {_n(s['warned'], 'recording')}, {_n(s['digests_sent'], 'digest')} sent"
                     + (f" (with {_n(receipts, 'deletion receipt')})" if receipts else "")
                     + f", deleted {s['deleted']}, blocked {s['blocked']}, send failures {s['send_failures']}")
    if s["rules"]:
        lines.append("  rules: " + ", ".join(f"{k} {v}" for k, v in sorted(s["rules"].items())))
    lines += recognition_lines(report, indent="  ")
    return lines + detail_lines(report)


def detail_lines(report: CycleReport, indent: str = "  ") -> list[str]:
    lines: list[str] = []
    if report.deletions:
        lines.append(f"{indent}deleted ({len(report.deletions)}):")
        for d in report.deletions:
            where = (f"to the recycle bin, restorable until {d.restore_until}" if d.mode == "recycle"
                     else "permanently (no recycle bin)")
            lines.append(f"{indent}  - {d.name}: organizer {_who(d.organizer)}, rule {d.rule}, {where}")
    if report.blocked_deletions:
        refused = len(report.blocked_deletions)
        lines.append(f"{indent}deletions refused by Microsoft 365, to be tried again ({refused}):")
        lines += [f"{indent}  - {_blocked_line(b)}" for b in report.blocked_deletions]
    if report.digests:
        lines.append(f"{indent}digests ({len(report.digests)}):")
        lines += [f"{indent}  - {_digest_line(d)}" for d in report.digests]
    return lines


def _blocked_line(b: DeletionBlocked) -> str:
    refusal = " ".join(str(part) for part in (b.status, b.code) if part) or "refused"
    said = f" ({b.message})" if b.message else ""
    when = "this cycle" if b.attempted else "at an earlier attempt"
    return (f"{b.name}: organizer {_who(b.organizer)}, rule {b.rule}; refused {when}: {refusal}{said}; "
            f"{_n(b.attempts, 'attempt')} so far, next attempt on {b.next_attempt_on}")


def _digest_line(d: DigestOutcome) -> str:
    to = d.recipient or "nobody (no mailbox, and notifications.fallback_contact is not set)"
    o = d.organizer
    whose = (o.name or "") if o.upn and o.upn == d.recipient else _who(o) if o.name or o.id else ""
    if d.fallback and d.recipient:
        whose = "notifications.fallback_contact" + (f", for {whose}" if whose else "")
    to += f" ({whose})" if whose else ""
    receipts = f", {_n(d.receipts, 'deletion receipt')}" if d.receipts else ""
    count = _n(d.warned, "recording")
    if d.earlier:
        earlier = {"sent": "sent", "dry_run": "recorded (dry run)", "intended": "attempted (outcome unknown)",
                   "undeliverable": "found undeliverable"}.get(d.status, d.status)
        return f"to {to}: already {earlier} by an earlier run today ({count}{receipts}); not sent again"
    error = f": {d.error}" if d.error else ""
    return {
        "sent": f"sent to {to}: {count} warned{receipts}",
        "dry_run": f"would be sent to {to}: {count} to warn about",
        "failed": f"FAILED to {to}: {count} not warned{receipts}{error}",
        "outcome_unknown": f"outcome unknown to {to}: {count}{receipts}, not resent today, no notice counted{error}",
        "undeliverable": f"NOT SENT to {to}: {count} not warned",
    }.get(d.status, f"{d.status} to {to}: {count}{receipts}{error}")


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


def run_data(report: CycleReport) -> dict[str, Any]:
    """``run --once --json``: the summary and what was done item by item (keys in the module docstring)."""
    return {"summary": report.summary(), **report.details()}


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
