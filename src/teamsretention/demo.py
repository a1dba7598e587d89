"""`teamsretention demo`: a month of governance of the built-in simulated tenant, in seconds.

The simulator runs on loopback and the real code path talks to it: msgraph-sdk, the adapter, the store,
the cycle. One enforcing cycle per simulated day at the scheduled time; a line per day; a summary that
traces every outcome to its rule in the audit trail.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import select

from .bootstrap import build_app, rehearsal_clock
from .demo_governance import close_assignment, seed_governance
from .logging import configure_logging
from .schedule import scheduled_time_on
from .service import CycleReport, Mode
from .settings import Settings
from .simulator.server import serve, serve_forever
from .simulator.tenants import DEMO_DOMAIN, build_demo_tenant
from .store.tables import AuditRow, RecordingRow

DEMO_START = dt.date(2026, 3, 2)  # a Monday; the spring DST change falls inside the 40 days
ASSIGNMENT_CLOSES_ON_DAY = 15
TIMEZONE = "Europe/Stockholm"


def demo_settings(graph_url: str, state_dir: Path) -> Settings:
    return Settings().with_overrides(
        graph={"graph_endpoint": graph_url, "auth": "none", "user_agent_org": "Demo"},
        policy={"enforce": True, "max_deletions_per_cycle": 150, "max_deletion_share": 0.8},
        notifications={"sender": f"retention@{DEMO_DOMAIN}", "fallback_contact": f"it-support@{DEMO_DOMAIN}",
                       "contact": f"it-support@{DEMO_DOMAIN}", "language": "sv"},
        approvers={"dpo": [f"dpo@{DEMO_DOMAIN}"], "it_admins": [f"it-support@{DEMO_DOMAIN}"]},
        schedule={"timezone": TIMEZONE}, state={"directory": str(state_dir)})


def run_demo(days: int = 40, state_dir: Path | None = None) -> int:
    configure_logging(level="error")
    state = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="teamsretention-demo-"))
    state.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_run(days, state))


async def _run(days: int, state: Path) -> int:
    first = dt.datetime.combine(DEMO_START, dt.time(6, 0))
    epoch = scheduled_time_on(DEMO_START, "0 6 * * *", TIMEZONE)
    model = build_demo_tenant(epoch)
    mails_dir = state / "mails"
    mails_dir.mkdir(exist_ok=True)
    typer.echo(f"teamsretention demo: {len(model.users)} users, {sum(1 for g in model.groups.values() if g.is_team)} "
               f"teams, {len(model.live_recordings())} recordings aged 0-60 days (simulated tenant on loopback).")
    typer.echo(f"Policy: delete {30} days after recording, warn 7 and 1 days before, at least 7 days' notice; "
               f"one cycle a day at {first:%H:%M} {TIMEZONE}.\n")
    with serve(model) as sim:
        settings = demo_settings(sim.base_url, state)
        app = build_app(settings)
        reports: list[CycleReport] = []
        seeded = seed_governance(app.db, model, epoch, DEMO_START,
                                 DEMO_START + dt.timedelta(days=ASSIGNMENT_CLOSES_ON_DAY))
        try:
            typer.echo(f"{'day':>3}  {'date':<10}  {'warned':>6} {'digests':>7} {'deleted':>7} {'kept':>5} "
                       f"{'blocked':>7}  notes")
            for day in range(days):
                moment = scheduled_time_on(DEMO_START + dt.timedelta(days=day), settings.schedule.cron, TIMEZONE)
                model.advance_to(moment)
                if day == ASSIGNMENT_CLOSES_ON_DAY:
                    close_assignment(app.db, moment, moment.date())
                report = await app.cycle(clock=rehearsal_clock(moment)).run(mode=Mode.ENFORCE, at=moment,
                                                                            keep_mails=True)
                reports.append(report)
                _save_mails(mails_dir, day, report)
                typer.echo(_day_line(day, report))
            _print_summary(app.db, reports, state, model, seeded)
        finally:
            await app.aclose()
    return 0


def _day_line(day: int, r: CycleReport) -> str:
    notes = []
    if r.inventory.recordings_new and day:
        notes.append(f"{r.inventory.recordings_new} new")
    if r.inventory.recordings_vanished:
        notes.append(f"{r.inventory.recordings_vanished} deleted by their owner")
    if r.exit_code == 3:
        notes.append("SAFETY LIMIT: no deletions")
    elif r.exit_code:
        notes.append(f"exit {r.exit_code}")
    return (f"{day + 1:>3}  {r.cycle_date.isoformat():<10}  {r.warned:>6} {r.digests_sent:>7} {r.deleted:>7} "
            f"{r.actions.get('keep', 0):>5} {r.blocked:>7}  {', '.join(notes)}")


def _save_mails(folder: Path, day: int, report: CycleReport) -> None:
    for n, mail in enumerate(report.mails):
        stem = folder / f"day{day + 1:02d}-{n:02d}-{mail.to[0].split('@')[0]}"
        stem.with_suffix(".txt").write_text(f"To: {', '.join(mail.to)}\nSubject: {mail.subject}\n\n{mail.text}",
                                            encoding="utf-8")
        stem.with_suffix(".html").write_text(mail.html, encoding="utf-8")


def _print_summary(db: Any, reports: list[CycleReport], state: Path, model: Any, seeded: dict[str, str]) -> None:
    with db.session() as s:
        audit = list(s.scalars(select(AuditRow).order_by(AuditRow.id)))
        rows = list(s.scalars(select(RecordingRow)))
    deleted_by_rule = Counter(a.rule for a in audit if a.event == "deleted")
    warned_by_rule = Counter(a.rule for a in audit if a.event == "warned")
    kept_by_rule = Counter(r.rule for r in rows if r.state == "tracked")
    states = Counter(r.state for r in rows)
    untraced = [a for a in audit if a.event in {"deleted", "warned"} and not a.rule]
    typer.echo("\nSummary")
    typer.echo(f"  recordings seen {len(rows)}: deleted by teamsretention {states['deleted']}, still kept "
               f"{states['tracked']}, deleted by their owners {states['gone']}")
    typer.echo(f"  warnings accepted by Graph {sum(warned_by_rule.values())} in "
               f"{sum(r.digests_sent for r in reports)} digests; deletions refused and retried later "
               f"{sum(1 for a in audit if a.event == 'delete_blocked')}")
    typer.echo("  why deleted: " + _counts(deleted_by_rule))
    typer.echo("  why warned:  " + _counts(warned_by_rule))
    typer.echo("  why kept now: " + _counts(kept_by_rule))
    for row in rows:
        if row.rule == "label":
            typer.echo(f"  kept by a retention label: {row.name!r} ({row.label_name})")
    typer.echo("  exemptions and assignments (recorded before day 1):")
    for key, what in seeded.items():
        events = [f"{a.event} {a.cycle_date}" for a in audit if a.recording_key == key
                  and a.event in {"warned", "deleted"}]
        row = next((r for r in rows if f"{r.drive_id}/{r.item_id}" == key), None)
        now = f"now {row.state}, rule {row.rule}" if row else "unknown"
        typer.echo(f"    {what}: {', '.join(events) or 'never warned or deleted'}; {now}")
    blocked = [a for a in audit if a.event == "delete_blocked"]
    if blocked:
        typer.echo(f"  blocked: {blocked[0].recording_name!r}: {blocked[0].reason}")
    for found in (a for a in audit if a.event == "discovered" and "Board prep" in (a.recording_name or "")):
        key = found.recording_key
        warned = [str(a.cycle_date) for a in audit if a.event == "warned" and a.recording_key == key]
        deleted = [str(a.cycle_date) for a in audit if a.event == "deleted" and a.recording_key == key]
        typer.echo(f"  found late on {found.cycle_date}, already past its 30 days: {found.recording_name!r}; "
                   f"warned {' and '.join(warned) or 'never'}, deleted {', '.join(deleted) or 'not yet'}")
    unsure = max((r.inventory.unsure_videos for r in reports), default=0)
    typer.echo(f"  videos in Recordings folders not recognised as Teams recordings (never touched): {unsure}")
    typer.echo(f"  every warning and deletion names its rule in the audit trail: "
               f"{'yes' if not untraced else f'no ({len(untraced)} without a rule)'}")
    export = state / "audit.jsonl"
    with export.open("w", encoding="utf-8") as fh:
        for a in audit:
            fh.write(json.dumps({"id": a.id, "at": a.at.isoformat(), "cycle_date": str(a.cycle_date), "event": a.event,
                                 "recording": a.recording_name, "rule": a.rule, "due": str(a.due) if a.due else None,
                                 "reason": a.reason, "actor": a.actor}, ensure_ascii=False) + "\n")
    typer.echo("\nEvidence")
    typer.echo(f"  state database:  {state / 'teamsretention.db'} (tables audit, runs, digests, warnings)")
    typer.echo(f"  audit trail:     {export} ({len(audit)} entries)")
    typer.echo(f"  mails sent:      {state / 'mails'}/ ({len(model.mail_log)} accepted by the simulator)")


def _counts(counter: Counter[str | None]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.most_common()) or "none"


def serve_simulator(scenario: Path | None, host: str, port: int) -> None:
    from .errors import ConfigError
    from .simulator.scenario import load_scenario

    if scenario is not None and not scenario.exists():
        raise ConfigError(f"--scenario {scenario}: no such file")
    epoch = scheduled_time_on(dt.date.today(), "0 6 * * *", TIMEZONE)
    try:
        model = load_scenario(scenario, epoch=epoch) if scenario else build_demo_tenant(epoch)
        typer.echo(f"Simulated Graph tenant on http://{host}:{port}/v1.0 (controls under /_simulator/).")
        typer.echo("Point teamsretention at it with:\n"
                   f"  TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT=http://{host}:{port} TEAMSRETENTION_GRAPH__AUTH=none "
                   "teamsretention plan")
        serve_forever(model, host=host, port=port)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
