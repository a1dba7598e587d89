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
from ..domain import Exemption, ExemptionKind, ExemptionStatus, RecordingRef, RunMode
from ..errors import ConfigError
from ..files import make_private_dir, write_private_text
from ..logging import configure_logging
from ..reports.demo import DAY_HEADER, DAY_LEGEND, day_line, evidence_lines, settings_lines, summary_lines
from ..settings import Settings
from ..settings.schedule import scheduled_time_on
from ..simulator import TenantModel, build_demo_tenant, serve
from ..simulator.tenants import DEMO_DOMAIN, DEMO_DPO, DEMO_FALLBACK
from ..store import Database, assignments, audit, exemptions, recordings
from .common import app, echo_lines, guard, log_level

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


def demo_settings(graph_url: str, state_dir: Path) -> Settings:
    return Settings().with_overrides(
        graph={"graph_endpoint": graph_url, "auth": "none", "user_agent_org": "Demo"},
        policy={"enforce": True, "max_deletion_share": 0.8},
        notifications={"sender": f"retention@{DEMO_DOMAIN}", "fallback_contact": DEMO_FALLBACK,
                       "contact": DEMO_FALLBACK, "language": "sv"},
        approvers={"dpo": [DEMO_DPO], "it_admins": [DEMO_FALLBACK]},
        schedule={"timezone": TIMEZONE}, state={"directory": str(state_dir)})


async def _run(days: int, state: Path) -> int:
    first = dt.datetime.combine(DEMO_START, dt.time(6, 0))
    epoch = scheduled_time_on(DEMO_START, "0 6 * * *", TIMEZONE)
    model = build_demo_tenant(epoch)
    mails_dir = state / "mails"
    make_private_dir(mails_dir)
    typer.echo(f"teamsretention demo: {len(model.users)} users, {sum(1 for g in model.groups.values() if g.is_team)} "
               f"teams, {len(model.live_recordings())} recordings aged 0-60 days (simulated tenant on loopback).")
    with serve(model) as sim:
        settings = demo_settings(sim.base_url, state)
        p = settings.policy
        typer.echo(f"Policy: delete {p.retention_days} days after recording, warn "
                   f"{' and '.join(map(str, sorted(p.warning_days, reverse=True)))} days before, at least "
                   f"{p.minimum_notice_days} days' notice; one cycle a day at {first:%H:%M} {TIMEZONE}.")
        echo_lines(settings_lines(settings, state))
        typer.echo("")
        app = build_app(settings)
        reports: list[CycleReport] = []
        seeded = seed_governance(app.db, model, epoch, DEMO_START)
        try:
            echo_lines([*DAY_LEGEND, "", DAY_HEADER])
            for day in range(days):
                moment = scheduled_time_on(DEMO_START + dt.timedelta(days=day), settings.schedule.cron, TIMEZONE)
                model.advance_to(moment)
                if day == ASSIGNMENT_CLOSES_ON_DAY:
                    assignments.close(app.db, "A-FALCON", closed_on=moment.date(),
                                      acting=assignments.Acting(DEMO_FALLBACK, "cli", moment, moment.date()))
                report = await app.cycle(clock=rehearsal_clock(moment)).run(mode=RunMode.ENFORCE, at=moment,
                                                                            keep_mails=True)
                reports.append(report)
                _save_mails(mails_dir, day, report)
                typer.echo(day_line(day, report))
            trail = audit.entries(app.db)
            echo_lines(summary_lines(trail, recordings.list_all(app.db), reports, seeded, late_subject=LATE_SUBJECT))
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
                    "reason": a.reason, "actor": a.actor}, ensure_ascii=False) + "\n" for a in audit.entries(db)))
    return export


# --- the exemptions and assignments the demo starts with ------------------------------------------------
def _old_onedrive_recordings(model: TenantModel, start: dt.datetime, count: int) -> list[RecordingRef]:
    """Recordings aged 35-55 days in users' OneDrives, oldest first: the ones the policy would delete."""
    found = []
    for key, item_id in sorted(model.aliases.items()):
        if not key.startswith("rec-") or item_id not in model.item_drive:
            continue
        item = model.find_item(key)
        drive = model.drives[item.drive_id]
        age = (start - item.created).days
        if drive.owner_user_id and item.label is None and 35 <= age <= 55:
            found.append((age, item.drive_id, item.id))
    found.sort(reverse=True)
    return [RecordingRef(d, i) for _, d, i in found[:count]]


def seed_governance(db: Database, model: TenantModel, start: dt.datetime, day0: dt.date) -> dict[str, str]:
    """What an IT admin and the DPO recorded before day 1, through the store's audited functions. Returns
    recording key -> what was recorded for it, for the summary."""
    if assignments.has_assignment(db, "A-FALCON"):
        raise ConfigError("--state-dir already holds a demo's state: give an empty directory")
    hold, exception, pending, tagged_a, tagged_b = _old_onedrive_recordings(model, start, 5)
    day = dt.timedelta(days=1)
    closes = day0 + ASSIGNMENT_CLOSES_ON_DAY * day

    def record(e: Exemption, actor: str, note: str) -> None:
        exemptions.record_exemption(db, e, actor=actor, at=start, day=day0, note=note)

    record(Exemption(id="EX-1", kind=ExemptionKind.LEGAL_HOLD, status=ExemptionStatus.APPROVED,
                     requested_on=day0 - 10 * day, target_id=hold.key, requested_by="legal@contoso.example",
                     decided_on=day0 - 9 * day, decided_by=DEMO_DPO, review_on=day0 + 90 * day,
                     reason="Dispute with a supplier: evidence must be preserved."), DEMO_DPO,
           "Demo: a legal hold approved by the DPO before the first cycle.")
    record(Exemption(id="EX-2", kind=ExemptionKind.EXCEPTION, status=ExemptionStatus.APPROVED,
                     requested_on=day0 - 3 * day, target_id=exception.key, requested_by="organizer",
                     decided_on=day0 - 2 * day, decided_by=DEMO_FALLBACK, valid_until=day0 + 20 * day,
                     reason="Needed for a training course until the course ends."), DEMO_FALLBACK,
           "Demo: a time-boxed exception approved by IT before the first cycle.")
    record(Exemption(id="EX-3", kind=ExemptionKind.EXCEPTION, status=ExemptionStatus.PENDING, requested_on=day0,
                     target_id=pending.key, requested_by="organizer",
                     reason="Asked to keep it; nobody has decided yet."), "organizer",
           "Demo: a request nobody decides.")
    assignments.create(db, assignments.Fields("A-FALCON", "Falcon Project", "Falcon AB", day0 - 120 * day),
                       assignments.Acting(DEMO_FALLBACK, "cli", start, day0))
    for ref in (tagged_a, tagged_b):
        assignments.tag(db, "A-FALCON", ref, tagged_on=day0 - 20 * day, actor=DEMO_FALLBACK, at=start, day=day0)
    what = {hold.key: f"legal hold EX-1 approved by {DEMO_DPO}",
            exception.key: f"exception EX-2 until {day0 + 20 * day}, approved by {DEMO_FALLBACK}",
            pending.key: "exemption request EX-3 left undecided (grace 14 days)"}
    for ref in (tagged_a, tagged_b):
        what[ref.key] = f"tagged to client assignment Falcon Project (closed {closes})"
    return what
