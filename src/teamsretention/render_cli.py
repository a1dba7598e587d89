"""What the command line prints: a cycle's summary and the plan table (or JSON)."""

from __future__ import annotations

import json
from typing import Any

import typer

from .service import CycleReport, Evaluated

_ACTION_WORDS = {"warn": "would warn", "delete": "would delete", "keep": "keep"}


def print_cycle(report: CycleReport) -> None:
    s = report.summary()
    typer.echo(f"Cycle {s['cycle_date']} ({s['mode']}): {s['status']}, exit {s['exit_code']}")
    typer.echo(f"  drives {s['drives']} ({s['drives_incomplete']} incomplete), recordings tracked {s['tracked']}")
    typer.echo(f"  warned {s['warned']} in {s['digests_sent']} digests, deleted {s['deleted']}, "
               f"blocked {s['blocked']}, send failures {s['send_failures']}")
    if s["rules"]:
        typer.echo("  rules: " + ", ".join(f"{k} {v}" for k, v in sorted(s["rules"].items())))
    for problem in report.problems:
        typer.echo(f"  ! {problem}", err=True)


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


def print_plan(report: CycleReport, *, as_json: bool) -> None:
    rows = plan_rows(report)
    if as_json:
        typer.echo(json.dumps({"summary": report.summary(), "recordings": rows}, indent=2, ensure_ascii=False))
        return
    typer.echo(f"Plan for {report.cycle_date.isoformat()}: nothing is sent or deleted by `plan`.")
    if not rows:
        typer.echo("Nothing to warn about or delete.")
    else:
        width = min(60, max(len(r["recording"]) for r in rows))
        typer.echo(f"{'ACTION':<13} {'DUE':<10}  {'RULE':<14} {'RECORDING':<{width}}  WHERE")
        for r in rows:
            action = _ACTION_WORDS[r["action"]] + ("" if r["label_checked"] else "*")
            if r["deleted_on"]:
                action = "would delete"
            name = r["recording"] if len(r["recording"]) <= width else r["recording"][: width - 1] + "…"
            typer.echo(f"{action:<13} {r['deleted_on'] or r['due'] or '-':<10}  {r['rule']:<14} "
                       f"{name:<{width}}  {r['location']}")
        if any(not r["label_checked"] for r in rows):
            typer.echo("* retention label not read yet: it is read before any warning or deletion.")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.actions.items()))
    typer.echo(f"{report.tracked} recordings tracked: {counts or 'none'}.")
    for problem in report.problems:
        typer.echo(f"! {problem}", err=True)
