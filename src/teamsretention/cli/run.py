"""``run`` (the daemon, or one cycle with ``--once``) and ``plan`` (what the next cycle would do).

With ``--once`` and for ``plan``, the first SIGTERM or Ctrl-C (SIGINT) sets the cycle's stop event: it stops
at the next checkpoint (between drives, batches, digests and deletions), the summary says interrupted and the
command exits 1. A second one, or ``schedule.shutdown_timeout_seconds`` without reaching a checkpoint, stops
it at once; every record is written in its own transaction and every action's intent before the action, so
nothing is half-recorded either way (see :mod:`.progress`). Both show their progress (live on a terminal).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import json
from typing import Annotated

import typer

from ..bootstrap import App, build_app, rehearsal_clock, utc_now
from ..cycle import CycleReport, DeletionOverride
from ..domain import RunMode, RunStatus, local_date
from ..errors import ConfigError
from ..reports.cycle import cycle_lines, plan_data, plan_lines, problem_lines, run_data
from ..settings import Settings
from ..settings.schedule import parse_at
from ..store import Database, runs
from .common import AtOpt, ConfigOpt, app, echo_lines, guard, load, options
from .daemon import run_daemon
from .progress import new_progress, run_interruptible, show_progress

ALLOW_HELP = ("With --once: this cycle deletes at most N recordings, the oldest due first, in place of the "
              "configured safety limits; the rest stay due, are listed and audited, and the run exits 3 (a limit "
              "held due deletions back) until a batch fits them all (exit 0). Needs --reason; audited with --actor.")


@app.command()
@guard
def run(config: ConfigOpt = None,
        once: Annotated[bool, typer.Option("--once", help="Run one cycle now and exit.")] = False,
        now: Annotated[bool, typer.Option("--now", help="The daemon: the first cycle at start (today's, unless a "
                                          "process sharing the store ran it already), then on the schedule.")
                       ] = False,
        at: AtOpt = None,
        allow_deletions: Annotated[int | None, typer.Option(
            "--allow-deletions", min=0, metavar="N", help=ALLOW_HELP)] = None,
        reason: Annotated[str, typer.Option(
            "--reason", metavar="WHY", help="With --allow-deletions: why (audited).")] = "",
        actor: Annotated[str, typer.Option(
            "--actor", metavar="NAME", help="With --allow-deletions: who lets them through "
            "(audited; default: the OS user).")] = "",
        as_json: Annotated[bool, typer.Option("--json", help="With --once: what the cycle did as JSON (the "
                                              "summary, every deletion, blocked deletion and digest).")] = False,
        ) -> None:
    """Run the daemon (one cycle per schedule), or one cycle with --once.

    Exit codes: 0 ok; 1 the cycle did not fully succeed; 2 configuration; 3 a safety limit (the configured
    one, or --allow-deletions N) held due deletions back.

    With --once: live progress on a terminal (not with --quiet); Ctrl-C or SIGTERM stops the cycle at the
    next checkpoint (exit 1, the summary says interrupted), a second Ctrl-C stops it at once."""
    if once and now:
        raise ConfigError("--now goes with the daemon (`run` without --once): --once already runs one cycle now")
    settings = load(config, prints_report=once)
    if not once:
        if at or allow_deletions is not None or as_json:
            raise ConfigError("--at, --allow-deletions and --json go with --once")
        raise typer.Exit(asyncio.run(run_daemon(settings, now=now)))
    override = deletion_override(allow_deletions, reason, actor)
    report = asyncio.run(run_once(settings, at=at, deletion_override=override))
    if as_json:  # the problems are in the data: stdout is one JSON document
        typer.echo(json.dumps(run_data(report), indent=2, ensure_ascii=False))
    else:
        echo_lines(cycle_lines(report))
        echo_lines(problem_lines(report), err=True)
        if report.status is RunStatus.INTERRUPTED:
            typer.echo(f"the cycle was interrupted (state store {report.store}): run `teamsretention run --once` "
                       "again to finish it (or start the daemon with `teamsretention run --now`); nobody is warned "
                       "twice for a date.", err=True)
    raise typer.Exit(report.exit_code)


def deletion_override(allow: int | None, reason: str, actor: str) -> DeletionOverride | None:
    if allow is None:
        if reason or actor:
            raise ConfigError("--reason and --actor go with --allow-deletions (pause takes its own --reason)")
        return None
    if not reason.strip():
        raise ConfigError(f"--allow-deletions {allow}: --reason is required (it goes into the audit trail with "
                          "--actor, who lets the deletions through)")
    return DeletionOverride(limit=allow, actor=actor.strip() or getpass.getuser(), reason=reason.strip())


@app.command()
@guard
def plan(config: ConfigOpt = None, at: AtOpt = None,
         as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
         show_all: Annotated[bool, typer.Option("--all", help="Also list recordings that are simply kept.")]
         = False) -> None:
    """Show what the next cycle would do (or the cycle at --at), changing nothing in the tenant.

    Exit codes: 0 shown; 1 the inventory was incomplete or Ctrl-C / SIGTERM stopped it (what it shows is
    partial); 2 configuration. On a terminal it shows its progress live (not with --quiet)."""
    settings = load(config, prints_report=True)
    report = asyncio.run(run_plan(settings, at=at, keep_all=show_all or as_json))
    if as_json:
        typer.echo(json.dumps(plan_data(report, enforce=settings.policy.enforce), indent=2, ensure_ascii=False))
    else:
        if report.status is RunStatus.INTERRUPTED:
            typer.echo("INTERRUPTED: plan stopped before it had read and evaluated everything; what follows is "
                       "partial. Run `teamsretention plan` again for the whole picture.")
        echo_lines(plan_lines(report, timezone=settings.schedule.timezone, enforce=settings.policy.enforce))
        echo_lines(problem_lines(report, indent=""), err=True)
    raise typer.Exit(1 if report.exit_code == 1 else 0)


def rehearsal_moment(settings: Settings, at: str, db: Database) -> dt.datetime:
    if not settings.is_loopback_endpoint:
        raise ConfigError("--at: `run --at` is for rehearsals against a loopback graph.graph_endpoint (the "
                          "simulator) only; use `plan --at` to look ahead on a real tenant")
    moment = parse_at(at, settings.schedule.cron, settings.schedule.timezone)
    last = runs.last_run_at(db)
    if last is not None and moment < last:
        raise ConfigError(f"--at {at}: earlier than the last recorded run ({last.isoformat()}); time in the "
                          "store only moves forward")
    return moment


async def run_once(settings: Settings, *, at: str | None, deletion_override: DeletionOverride | None = None,
                   app: App | None = None) -> CycleReport:
    mode = RunMode.ENFORCE if settings.policy.enforce else RunMode.DRY_RUN
    if deletion_override is not None and mode is not RunMode.ENFORCE:
        raise ConfigError("--allow-deletions: deletions happen only with policy.enforce = true")
    if at is not None:
        parse_at(at, settings.schedule.cron, settings.schedule.timezone)  # bad --at: exit 2 before any call
    app = app or build_app(settings)
    try:
        moment = rehearsal_moment(settings, at, app.db) if at else utc_now()
        clock = rehearsal_clock(moment) if at else utc_now
        stop, progress = asyncio.Event(), new_progress(app)
        cycle = app.cycle(clock=clock, stop=stop, progress=progress)
        async with show_progress(progress, settings.logging.progress_interval_seconds, quiet=options.quiet):
            return await run_interruptible(
                lambda: cycle.run(mode=mode, at=moment, deletion_override=deletion_override), stop, progress,
                settings.schedule.shutdown_timeout_seconds)
    finally:
        await app.aclose()


async def run_plan(settings: Settings, *, at: str | None, keep_all: bool, app: App | None = None) -> CycleReport:
    now = utc_now()
    until = moment = None
    if at is not None:
        moment = parse_at(at, settings.schedule.cron, settings.schedule.timezone)
        until = local_date(moment, settings.schedule.timezone)
        if until < local_date(now, settings.schedule.timezone):
            raise ConfigError(f"--at {at}: plan looks ahead; that date is in the past")
    app = app or build_app(settings)
    try:
        stop, progress = asyncio.Event(), new_progress(app)
        cycle = app.cycle(clock=utc_now, stop=stop, progress=progress)
        async with show_progress(progress, settings.logging.progress_interval_seconds, quiet=options.quiet):
            report = await run_interruptible(
                lambda: cycle.run(mode=RunMode.PLAN, at=now, keep_all=keep_all, project_until=until), stop,
                progress, settings.schedule.shutdown_timeout_seconds)
        report.plan_at = moment
        return report
    finally:
        await app.aclose()
