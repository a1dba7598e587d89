"""The summary of one cycle (``run --once``) and the plan table (``plan``).

``run --once --json`` prints :func:`run_data`: ``{"summary": {...}, "deletions": [...], "blocked": [...],
"digests": [...]}``. ``summary`` holds the counts (the keys of ``CycleReport.summary()``: ``cycle_date``,
``mode``, ``status``, ``exit_code``, ``tracked``, ``warned``, ``digests_sent``, ``deleted``, ``blocked``,
``send_failures``, ``would_warn``, ``would_digest``, ``would_delete``, ``actions``, ``rules``, ``problems``,
``drives_read``, ``drives_skipped_idle``, ``poll_interval_days``, ``evaluated``, ...). Each deletion:
``recording_id``, ``name``, ``organizer`` (``id``, ``name``, ``upn``), ``rule``, ``mode`` (recycle |
permanent), ``restore_until``. Each blocked deletion: ``recording_id``, ``name``, ``organizer``,
``rule``, ``status``, ``code``, ``message`` (Graph's), ``attempts``, ``attempted_this_cycle``,
``next_attempt_on``. Each digest: ``organizer``, ``recipient``, ``fallback``, ``warned``, ``receipts``,
``status`` (sent | failed | outcome_unknown | undeliverable | dry_run; with ``earlier_today`` true, the
status an earlier run of the date left, ``intended`` meaning its outcome is unknown), ``error``.
Keys are only ever added.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from ..cycle import CycleReport, DeletionOutlook, Evaluated
from ..cycle.outcome import DeletionBlocked, DigestOutcome, Organizer
from ..domain import RunMode
from .governance import governance_lines, recording_notes

_ACTION_WORDS = {"warn": "would warn", "delete": "would delete", "keep": "keep"}


def inventory_lines(report: CycleReport) -> list[str]:
    """What went wrong reading the tenant, said before anything else: an inventory that failed must never read
    like a tenant with nothing to do."""
    inv = report.inventory
    where = f"Graph at {report.graph_endpoint}" if report.graph_endpoint else "Graph"
    if inv.failed:
        first = (inv.directory_errors or [f"drive {d}: {inv.drive_errors.get(d, 'not read')}"
                                          for d in inv.drives_incomplete] or ["no answer"])[0]
        return [f"INVENTORY FAILED: {where} could not be read ({first}). Nothing is warned about or deleted on "
                "what could not be read, and what follows is not a picture of the tenant: fix the cause and run "
                "again."]
    if not inv.complete:
        parts = []
        if inv.directory_errors:
            more = f" and {len(inv.directory_errors) - 1} more" if len(inv.directory_errors) > 1 else ""
            parts.append(f"the directory could not be fully read ({inv.directory_errors[0]}{more})")
        if inv.drives_incomplete:
            parts.append(f"{len(inv.drives_incomplete)} of {inv.drives} drives could not be read")
        return [f"INVENTORY INCOMPLETE against {where}: {'; '.join(parts)}. Recordings Graph did not list are "
                "neither warned about nor deleted this cycle (the problems are listed below)."]
    return []


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _who(o: Organizer) -> str:
    if o.name and o.upn:
        return f"{o.name} <{o.upn}>"
    return o.name or o.upn or o.id or "no organizer known"


def polling_lines(report: CycleReport, indent: str = "  ") -> list[str]:
    """How many drives were read and how many skipped as idle (said when any was skipped); which drives the
    next cycle lists in full, and why."""
    inv = report.inventory
    lines = [f"{indent}drive {d} is listed again in full next cycle: {why} (delta reports a folder, never what it "
             "holds), so the videos in it are found and governed" for d, why in sorted(inv.drives_relisted.items())]
    if not inv.drives_idle:
        return lines
    return [f"{indent}drives: {inv.drives_read:,} read, {inv.drives_idle:,} skipped as idle (nothing due within "
            f"{inv.poll_interval_days} days: each is read every {inv.poll_interval_days} days); "
            f"recordings evaluated {report.reevaluated:,} of {report.tracked:,}", *lines]


def cycle_lines(report: CycleReport) -> list[str]:
    """What ``run --once`` prints: the counts, then every deletion, blocked deletion and digest."""
    s = report.summary()
    dry = report.mode is RunMode.DRY_RUN
    mode = (f"{s['mode']}: policy.enforce = false, nothing was sent or deleted" if dry else s["mode"])
    lines = [*inventory_lines(report), f"Cycle {s['cycle_date']} ({mode}): {s['status']}, exit {s['exit_code']}",
             f"  drives {s['drives']} ({s['drives_incomplete']} incomplete), recordings tracked {s['tracked']}",
             *polling_lines(report)]
    if dry:
        lines.append(f"  would warn {_n(s['would_warn'], 'recording')} in {_n(s['would_digest'], 'digest')}, "
                     f"would delete {s['would_delete']}")
    else:
        receipts = sum(d.receipts for d in report.digests if d.status == "sent" and not d.earlier)
        lines.append(f"  warned {_n(s['warned'], 'recording')}, {_n(s['digests_sent'], 'digest')} sent"
                     + (f" (with {_n(receipts, 'deletion receipt')})" if receipts else "")
                     + f", deleted {s['deleted']}, blocked {s['blocked']}, send failures {s['send_failures']}")
    if report.held_back:
        lines.append(f"  held back by --allow-deletions: {report.held_back} due deletions stay due for a later cycle")
    if report.store:
        lines.append(f"  state store: {report.store}")
    if s["rules"]:
        lines.append("  rules: " + ", ".join(f"{k} {v}" for k, v in sorted(s["rules"].items())))
    lines += recognition_lines(report, indent="  ")
    return (lines + governance_lines(report, indent="  ") + evidence_lines(report, indent="  ")
            + detail_lines(report))


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


def evidence_lines(report: CycleReport, indent: str = "") -> list[str]:
    """The personal data of old deletions removed from the store (plan: what would be removed)."""
    pruned = report.evidence
    if pruned is None or not pruned.recordings:
        return []
    verb = "would be removed by the next cycle" if report.mode.value == "plan" else "removed"
    return [f"{indent}evidence period over (deleted before {pruned.cutoff.isoformat()}): personal data of "
            f"{pruned.recordings} recordings {verb} ({pruned.audit_entries} audit entries, {pruned.digests} "
            "digests); the record of each deletion stays"]


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
                "rule": d.rule, "reason": d.reason, "label_checked": not d.needs_label,
                "id": e.row_id, "notes": recording_notes(report, e.recording.ref.key)}
    order = {"delete": 0, "warn": 1, "keep": 2}
    rows = [row(e) for e in report.evaluated]
    rows.sort(key=lambda r: (order[r["action"]], r["due"] or "9999", r["recording"]))
    return rows


def run_data(report: CycleReport) -> dict[str, Any]:
    """``run --once --json``: the summary and what was done item by item (keys in the module docstring)."""
    return {"summary": report.summary(), **report.details()}


def plan_data(report: CycleReport, *, enforce: bool = True) -> dict[str, Any]:
    outlook = report.outlook
    deletions: dict[str, Any] | None = None
    if outlook is not None:
        p = outlook.pause
        deletions = {"cycle_date": outlook.at.isoformat(), "planned": outlook.planned,
                     "stopped_by_limit": outlook.why is not None, "limit_reason": outlook.why,
                     "stopped_from": outlook.stopped_from.isoformat() if outlook.stopped_from else None,
                     "paused": p.paused, "paused_reason": p.reason if p.paused else None,
                     "paused_by": p.by if p.paused else None, "enforce": enforce}
    pruned = report.evidence
    evidence = {"cutoff": pruned.cutoff.isoformat(), **pruned.counts()} if pruned is not None else None
    return {"summary": report.summary(), "at": report.plan_at.isoformat() if report.plan_at else None,
            "deletions": deletions, "recordings": plan_rows(report), "evidence_would_be_pruned": evidence}


def plan_header(report: CycleReport, timezone: str) -> str:
    where = f" (state store {report.store})" if report.store else ""
    if report.plan_at is None:
        return f"Plan for today's cycle, {report.cycle_date.isoformat()}{where}: nothing is sent or deleted by `plan`."
    local = report.plan_at.astimezone(ZoneInfo(timezone))
    return (f"Plan for the cycle of {local:%Y-%m-%d %H:%M} {timezone}{where}, projected from today "
            f"({report.cycle_date.isoformat()}) assuming every warning due before then goes out on schedule: "
            "nothing is sent or deleted by `plan`.")


def outlook_lines(outlook: DeletionOutlook | None, *, enforce: bool) -> list[str]:
    """What would stop the deletions the plan shows: the pause, a dry run, the blast-radius limit."""
    if outlook is None:
        return []
    lines = []
    p = outlook.pause
    if p.paused:
        since = f" since {p.since:%Y-%m-%d %H:%M} UTC" if p.since else ""
        lines.append(f"Deletions are PAUSED{since} by {p.by}: {p.reason}. No cycle deletes anything until "
                     "`teamsretention resume`; warnings still go out.")
    if not enforce:
        lines.append("policy.enforce = false: cycles send no mail and delete nothing (a dry run).")
    day = outlook.at.isoformat()
    if outlook.why is not None:
        since = (f"from the cycle of {outlook.stopped_from.isoformat()} on, "
                 if outlook.stopped_from and outlook.stopped_from < outlook.at else "")
        lines.append(f"Safety limit: {since}deletions would be stopped (the cycle of {day}: {outlook.why}); that "
                     "cycle would delete nothing and exit 3. Raise the limit, or let them through in batches with "
                     "`teamsretention run --once --allow-deletions N --reason ...`.")
    elif outlook.planned:
        lines.append(f"The cycle of {day} would delete {outlook.planned} recording(s): within the safety limits.")
    return lines


def plan_lines(report: CycleReport, *, timezone: str = "Europe/Stockholm", enforce: bool = True) -> list[str]:
    rows = plan_rows(report)
    lines = [*inventory_lines(report), plan_header(report, timezone)]
    if not rows and report.inventory.failed:
        lines.append("No recordings could be listed: the inventory failed (see above).")
    elif not rows:
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
            lines += [f"{'':<13} {'':<10}  {'':<14} ↳ {note}" for note in r["notes"]]
        if any(not r["label_checked"] for r in rows):
            lines.append("* retention label not read yet: it is read before any warning or deletion.")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.actions.items()))
    unsure = "" if report.inventory.complete else f" (inventory {report.inventory_state}: not the whole tenant)"
    lines.append(f"{report.tracked} recordings tracked{unsure}: {counts or 'none'}.")
    lines += polling_lines(report, indent="")
    return (lines + outlook_lines(report.outlook, enforce=enforce) + recognition_lines(report)
            + governance_lines(report) + evidence_lines(report))
