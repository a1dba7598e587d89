"""What ``teamsretention demo`` prints: a line per simulated day, then a summary that traces every outcome to
its rule in the audit trail."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ..cycle import CycleReport
from ..domain import RecordingState
from ..settings import Settings
from ..store.audit import AuditEntry, AuditKind
from ..store.recordings import StoredRecording

DAY_HEADER = (f"{'day':>3}  {'date':<10}  {'warned':>6} {'digests':>7} {'receipts':>8} {'deleted':>7} "
              f"{'blocked':>7} {'kept, nothing due':>17}  notes")
DAY_LEGEND = [
    "Each day's columns count: warned = recordings whose warning Graph accepted that day; digests = mails",
    "sent (one per organizer, carrying warnings, deletion receipts or both); receipts = deleted recordings",
    "reported to their organizer in those digests; deleted = recordings moved to the recycle bin; blocked =",
    "deletions Microsoft 365 refused (locked or held), retried later; kept, nothing due = recordings kept",
    "that day without a warning (too young, covered by a label, an exemption or an assignment, or warned",
    "earlier and waiting for their date).",
]
# The safety limits the demo changes, each with why (its tenant starts with a backlog that falls due at once).
RAISED_LIMITS = {"max_deletion_share": "on day 8 more than half of the tenant's recordings fall due together, "
                 "as they do when enforcement starts on a backlog"}


def settings_lines(settings: Settings, state_dir: Path) -> list[str]:
    """What the demo runs with: its own settings (no configuration file or variable is read)."""
    p, n, sch = settings.policy, settings.notifications, settings.schedule
    defaults = Settings().policy
    lines = ["Settings (the demo's own; no configuration file or TEAMSRETENTION_* variable is read):",
             f"  policy: enforce = {str(p.enforce).lower()} (digests go to the simulator's mail log, deletions to "
             f"its recycle bin), retention_days = {p.retention_days}, warning_days = {list(p.warning_days)}, "
             f"minimum_notice_days = {p.minimum_notice_days}, delete_mode = {p.delete_mode}",
             f"  schedule: cron = \"{sch.cron}\", timezone = {sch.timezone} (one cycle per simulated day)",
             f"  notifications: sender = {n.sender}, fallback_contact = {n.fallback_contact}, language = "
             f"{n.language}",
             f"  graph: {settings.graph.graph_endpoint} (the simulator), auth = {settings.graph.auth}",
             f"  state: {state_dir}",
             "  safety limits, raised to fit this tenant:" if any(
                 getattr(p, k) != getattr(defaults, k) for k in RAISED_LIMITS) else "  safety limits:"]
    for key in ("max_deletions_per_cycle", "max_deletion_share", "deletion_share_minimum"):
        value, default = getattr(p, key), getattr(defaults, key)
        if value == default:
            lines.append(f"    policy.{key} = {value} (the default)")
        else:
            why = RAISED_LIMITS.get(key)
            lines.append(f"    policy.{key} = {value} (default {default}{': ' + why if why else ''})")
    return lines


def day_line(day: int, r: CycleReport, acted: Sequence[str] = ()) -> str:
    notes = list(acted)
    g = r.governance
    if g.assignments_changed or g.requests_applied:
        notes.append(f"lists: {g.assignments_changed + g.requests_applied} applied")
    if g.ignored:
        notes.append(f"{len(g.ignored)} decision ignored" if len(g.ignored) == 1 else f"{len(g.ignored)} ignored")
    if r.inventory.recordings_new and day:
        notes.append(f"{r.inventory.recordings_new} new")
    if r.inventory.recordings_vanished:
        notes.append(f"{r.inventory.recordings_vanished} deleted by their owner")
    if r.exit_code == 3:
        notes.append("SAFETY LIMIT: no deletions")
    elif r.exit_code:
        notes.append(f"exit {r.exit_code}")
    receipts = sum(d.receipts for d in r.digests if d.status == "sent" and not d.earlier)
    return (f"{day + 1:>3}  {r.cycle_date.isoformat():<10}  {r.warned:>6} {r.digests_sent:>7} {receipts:>8} "
            f"{r.deleted:>7} {r.blocked:>7} {r.actions.get('keep', 0):>17}  {', '.join(notes)}".rstrip())


def summary_lines(audit: Sequence[AuditEntry], recordings: Sequence[StoredRecording], reports: Sequence[CycleReport],
                  seeded: dict[str, str], *, late_subject: str, dpo: str) -> list[str]:
    deleted_by_rule = Counter(a.rule for a in audit if a.kind is AuditKind.DELETED)
    warned_by_rule = Counter(a.rule for a in audit if a.kind is AuditKind.WARNED)
    kept_by_rule = Counter(r.rule for r in recordings if r.state is RecordingState.TRACKED)
    states = Counter(r.state for r in recordings)
    unsure = [r for r in recordings if r.state is RecordingState.UNSURE]
    recordings = [r for r in recordings if r.state is not RecordingState.UNSURE]
    untraced = [a for a in audit if a.kind in {AuditKind.DELETED, AuditKind.WARNED} and not a.rule]
    lines = ["", "Summary",
             f"  recordings seen {len(recordings)}: deleted by teamsretention {states[RecordingState.DELETED]}, "
             f"still kept {states[RecordingState.TRACKED]}, deleted by their owners {states[RecordingState.GONE]}",
             f"  warnings accepted by Graph {sum(warned_by_rule.values())} in "
             f"{sum(r.digests_sent for r in reports)} digests; deletions refused and retried later "
             f"{sum(1 for a in audit if a.kind is AuditKind.DELETE_BLOCKED)}",
             "  why deleted: " + _counts(deleted_by_rule),
             "  why warned:  " + _counts(warned_by_rule),
             "  why kept now: " + _counts(kept_by_rule)]
    lines += [f"  kept by a retention label: {r.name!r} ({r.label_name})" for r in recordings if r.rule == "label"]
    lines.append("  what the IT admin, the DPO and organizers did (CLI and lists), and what became of it:")
    for key, what in seeded.items():
        events = [f"{a.kind.value} {a.cycle_date}" for a in audit if a.recording_key == key
                  and a.kind in {AuditKind.WARNED, AuditKind.DELETED}]
        rec = next((r for r in recordings if r.ref.key == key), None)
        now = f"now {rec.state.value}, rule {rec.rule}" if rec else "unknown"
        lines.append(f"    {what}: {', '.join(events) or 'never warned or deleted'}; {now}")
    lines += [f"  decision ignored on {r.cycle_date}: {text}" for r in reports for text in r.governance.ignored]
    dpo_digests = [r.cycle_date for r in reports for m in r.mails if dpo in m.to]
    lines.append(f"  DPO digests (weekly: pending requests, holds to review, ignored decisions, exceptions ending) to "
                 f"{dpo}: {', '.join(map(str, dpo_digests)) or 'none'}")
    blocked = [a for a in audit if a.kind is AuditKind.DELETE_BLOCKED]
    if blocked:
        lines.append(f"  blocked: {blocked[0].recording_name!r}: {blocked[0].reason}")
    for found in (a for a in audit if a.kind is AuditKind.DISCOVERED and late_subject in (a.recording_name or "")):
        late = found.recording_key
        warned = [str(a.cycle_date) for a in audit if a.kind is AuditKind.WARNED and a.recording_key == late]
        deleted = [str(a.cycle_date) for a in audit if a.kind is AuditKind.DELETED and a.recording_key == late]
        lines.append(f"  found late on {found.cycle_date}, already past its 30 days: {found.recording_name!r}; "
                     f"warned {' and '.join(warned) or 'never'}, deleted {', '.join(deleted) or 'not yet'}")
    evidence = Counter(r.evidence.value for r in recordings if r.evidence is not None)
    lines.append("  recognised by: " + _counts(Counter(dict(evidence))))
    lines.append(f"  videos in Recordings folders not recognised as Teams recordings (never touched): {len(unsure)}")
    lines += [f"    ? {r.name!r}: {r.recognition_note}" for r in unsure]
    lines.append("  every warning and deletion names its rule in the audit trail: "
                 f"{'yes' if not untraced else f'no ({len(untraced)} without a rule)'}")
    return lines


def evidence_lines(state: Path, export: Path, audit_count: int, mails_accepted: int) -> list[str]:
    return ["", "Evidence",
            f"  state database:  {state / 'teamsretention.db'} (tables audit, runs, digests, warnings)",
            f"  audit trail:     {export} ({audit_count} entries)",
            f"  mails sent:      {state / 'mails'}/ ({mails_accepted} accepted by the simulator)"]


def _counts(counter: Counter[str | None]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.most_common()) or "none"
