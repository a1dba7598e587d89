"""``teamsretention demo``: a month of governance of the built-in simulated tenant, in seconds.

The simulator runs on loopback and the real code path talks to it: msgraph-sdk, the adapter, the store,
the cycle. One enforcing cycle per simulated day at the scheduled time; a line per day; a summary that
traces every outcome to its rule in the audit trail.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from ..bootstrap import build_app, rehearsal_clock
from ..cycle import CycleReport
from ..domain import RunMode
from ..errors import ConfigError
from ..files import make_private_dir, write_private_text
from ..logging import configure_logging
from ..reports.demo import DAY_HEADER, DAY_LEGEND, day_line, evidence_lines, settings_lines, summary_lines
from ..settings import Settings
from ..settings.schedule import scheduled_time_on
from ..simulator import build_demo_tenant, serve
from ..simulator.tenants import DEMO_DOMAIN, DEMO_DPO, DEMO_FALLBACK
from ..store import Database, audit, recordings
from .common import app, echo_lines, guard, log_level
from .demo_governance import DemoGovernance, already_used

DEMO_START = dt.date(2026, 3, 2)  # a Monday; the spring DST change falls inside the 40 days
ASSIGNMENT_CLOSES_ON_DAY = 15
TIMEZONE = "Europe/Stockholm"
LATE_SUBJECT = "Board prep"  # the recording the tenant uploads late (see simulator.tenants)


@app.command()
@guard
def demo(days: Annotated[int, typer.Option(min=1, max=120, metavar="N", help="Days to simulate.")] = 40,
         state_dir: Annotated[Path | None, typer.Option(
             "--state-dir", metavar="DIR", help="Keep the demo's database, audit trail and mails here (default: a "
             "temporary directory).")] = None) -> None:
    """Govern the built-in simulated tenant for 40 days, one cycle a day, and summarise."""
    configure_logging(level=log_level("error"))
    state = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="teamsretention-demo-"))
    make_private_dir(state)  # it holds the store, the audit export and the mails: personal data, 0700
    raise typer.Exit(asyncio.run(_run(days, state)))


def demo_settings(graph_url: str, state_dir: Path, lists_site: str | None = None) -> Settings:
    return Settings().with_overrides(
        # the demo's simulator has no throttling budget: 40 days of cycles are not paced to a real tenant's
        graph={"graph_endpoint": graph_url, "auth": "none", "user_agent_org": "Demo", "ru_budget_per_minute": 0},
        policy={"enforce": True, "max_deletion_share": 0.8},
        notifications={"sender": f"retention@{DEMO_DOMAIN}", "fallback_contact": DEMO_FALLBACK,
                       "contact": DEMO_FALLBACK, "language": "sv"},
        approvers={"dpo": [DEMO_DPO], "it_admins": [DEMO_FALLBACK]}, lists={"site": lists_site},
        schedule={"timezone": TIMEZONE}, state={"directory": str(state_dir)})


async def _run(days: int, state: Path) -> int:
    first = dt.datetime.combine(DEMO_START, dt.time(6, 0))
    epoch = scheduled_time_on(DEMO_START, "0 6 * * *", TIMEZONE)
    model = build_demo_tenant(epoch, records_site=True)
    assert model.records_site_id is not None
    lists_site = model.sites[model.records_site_id].web_url
    mails_dir = state / "mails"
    make_private_dir(mails_dir)
    typer.echo(f"teamsretention demo: {len(model.users)} users, {sum(1 for g in model.groups.values() if g.is_team)} "
               f"teams, {len(model.live_recordings())} recordings aged 0-60 days (simulated tenant on loopback).")
    with serve(model) as sim:
        settings = demo_settings(sim.base_url, state, lists_site)
        p = settings.policy
        typer.echo(f"Policy: delete {p.retention_days} days after recording, warn "
                   f"{' and '.join(map(str, sorted(p.warning_days, reverse=True)))} days before, at least "
                   f"{p.minimum_notice_days} days' notice; one cycle a day at {first:%H:%M} {TIMEZONE}.")
        echo_lines(settings_lines(settings, state))
        typer.echo("")
        app = build_app(settings)
        reports: list[CycleReport] = []
        if already_used(app.db):
            await app.aclose()
            raise ConfigError("--state-dir already holds a demo's state: give an empty directory")
        people = DemoGovernance(model, app.db, app.gateway, settings, DEMO_START, ASSIGNMENT_CLOSES_ON_DAY,
                                typer.echo)
        try:
            await people.before_first_cycle(epoch)
            echo_lines([*DAY_LEGEND, "", DAY_HEADER])
            for day in range(days):
                moment = scheduled_time_on(DEMO_START + dt.timedelta(days=day), settings.schedule.cron, TIMEZONE)
                if day:  # people act an hour before the day's cycle (on day 1: before_first_cycle)
                    model.advance_to(moment - dt.timedelta(hours=1))
                acted = await people.before_cycle(day, model.now)
                model.advance_to(moment)
                report = await app.cycle(clock=rehearsal_clock(moment)).run(mode=RunMode.ENFORCE, at=moment,
                                                                            keep_mails=True)
                reports.append(report)
                _save_mails(mails_dir, day, report)
                typer.echo(day_line(day, report, acted))
            trail = audit.entries(app.db)
            echo_lines(summary_lines(trail, recordings.list_all(app.db), reports, people.what,
                                     late_subject=LATE_SUBJECT, dpo=DEMO_DPO))
            export = _export_audit(state, app.db)
            echo_lines(evidence_lines(state, export, len(trail), len(model.mail_log)))
        finally:
            await app.aclose()
    return 0


def _save_mails(folder: Path, day: int, report: CycleReport) -> None:
    for n, mail in enumerate(report.mails):
        stem = folder / f"day{day + 1:02d}-{n:02d}-{mail.to[0].split('@')[0]}"
        write_private_text(stem.with_suffix(".txt"),
                           f"To: {', '.join(mail.to)}\nSubject: {mail.subject}\n\n{mail.text}")
        write_private_text(stem.with_suffix(".html"), mail.html)


def _export_audit(state: Path, db: Database) -> Path:
    export = state / "audit.jsonl"
    write_private_text(export, "".join(
        json.dumps({"id": a.id, "at": a.at.isoformat(), "cycle_date": str(a.cycle_date), "event": a.kind.value,
                    "recording": a.recording_name, "rule": a.rule, "due": str(a.due) if a.due else None,
                    "reason": a.reason, "actor": a.actor,
                    "source": a.detail.get("source")}, ensure_ascii=False) + "\n" for a in audit.entries(db)))
    return export
