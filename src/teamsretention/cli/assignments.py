"""``assignments add|close|reopen|list|show|import`` and ``tag`` / ``untag``: client assignments and the
recordings tagged to them.

The acting identity is ``--actor`` (a UPN or an Entra object id), defaulting to the operating-system user
running the command; it is written to the audit trail with source ``cli`` (``csv`` for an import). The host
running the CLI is the trust boundary for what it records.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import bootstrap
from ..domain import local_date
from ..settings import Settings
from ..store import assignments as store
from ..store.assignments import Assignment, StoredTag
from ..store.database import Database
from ..store.recordings import StoredRecording
from ..workflows import assignments as workflow
from .common import ConfigOpt, app, echo_lines, guard, load

assignments_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False,
                              help="Client assignments that keep their recordings.")
app.add_typer(assignments_app, name="assignments")

ActorOpt = Annotated[str, typer.Option("--actor", metavar="NAME",
                                       help="Who acts (UPN or Entra object id; audited). Default: the "
                                       "operating-system user running the command.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
CodeArg = Annotated[str, typer.Argument(metavar="CODE", help="The assignment code, e.g. ACME-0042.")]
AssignmentOpt = Annotated[str, typer.Option("--assignment", "-a", metavar="CODE", help="The assignment code.")]
RecordingArg = Annotated[str, typer.Argument(metavar="RECORDING", help="The recording's id in the store (plan "
                                             "--json shows it) or its web URL (resolved through Graph).")]


def open_existing_store(settings: Settings) -> Database:
    """The store, which an admin command never creates (a missing one is an error naming where it looked)."""
    return bootstrap.open_store(settings)


def _admin(settings: Settings, db: Database, actor: str) -> workflow.Admin:
    now = bootstrap.utc_now()
    return workflow.Admin(db, actor.strip() or getpass.getuser(), now, local_date(now, settings.schedule.timezone),
                          settings.lists.site, settings.lists.assignments)


def _date(value: str | None, option: str) -> dt.date | None:
    return workflow.parse_date(value, option) if value else None


@assignments_app.command("add")
@guard
def add(code: CodeArg, title: Annotated[str, typer.Option("--title", metavar="TITLE",
                                                          help="What the assignment is called.")],
        client: Annotated[str, typer.Option("--client", metavar="CLIENT", help="The client it is for.")] = "",
        opened: Annotated[str | None, typer.Option("--opened", metavar="DATE",
                                                   help="Opening date YYYY-MM-DD (default today).")]
        = None, actor: ActorOpt = "", config: ConfigOpt = None) -> None:
    """Create an assignment (active): recordings tagged to it are kept while it runs, within the cap."""
    settings = load(config)
    opened_on = _date(opened, "--opened")
    db = open_existing_store(settings)
    try:
        a = workflow.add(_admin(settings, db, actor), code, title=title, client=client, opened_on=opened_on)
    finally:
        db.dispose()
    typer.echo(f"Assignment {a.code} ({a.title}) added to {settings.database_url_shown()}, active since "
               f"{a.opened_on}. Tag recordings with "
               f"`teamsretention tag RECORDING --assignment {a.code}`.")


@assignments_app.command("close")
@guard
def close(code: CodeArg, on: Annotated[str | None, typer.Option("--on", metavar="DATE", help="Closing date YYYY-MM-DD "
                                                                 "(default today).")] = None,
          actor: ActorOpt = "", config: ConfigOpt = None) -> None:
    """Close an assignment: its recordings fall back to the normal rule, with warnings before any deletion."""
    settings = load(config)
    closed_on = _date(on, "--on")
    db = open_existing_store(settings)
    try:
        a, changed = workflow.close(_admin(settings, db, actor), code, closed_on=closed_on)
        tagged = sum(1 for t in store.tags_to(db, a.code) if t.active)
    finally:
        db.dispose()
    if not changed:
        typer.echo(f"Assignment {a.code} was already closed on {a.closed_on}; nothing changed.")
        return
    typer.echo(f"Assignment {a.code} closed on {a.closed_on} in {settings.database_url_shown()}. Its {tagged} "
               "tagged recording(s) fall back to the "
               "normal retention rule: organizers are warned before anything is deleted (`teamsretention plan` "
               "shows when).")


@assignments_app.command("reopen")
@guard
def reopen(code: CodeArg, actor: ActorOpt = "", config: ConfigOpt = None) -> None:
    """Reopen a closed assignment: its tagged recordings are kept again."""
    settings = load(config)
    db = open_existing_store(settings)
    try:
        a, changed = workflow.reopen(_admin(settings, db, actor), code)
    finally:
        db.dispose()
    store_url = settings.database_url_shown()
    typer.echo(f"Assignment {a.code} reopened in {store_url}: its tagged recordings are kept again." if changed
               else f"Assignment {a.code} is active, not closed; nothing changed.")


@assignments_app.command("import")
@guard
def import_(file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="Columns: " + ", ".join(
                workflow.CSV_COLUMNS) + " (code, title, opened_on required).")],
            actor: ActorOpt = "", config: ConfigOpt = None) -> None:
    """Create or update assignments from a CSV file: every row or none."""
    settings = load(config)
    db = open_existing_store(settings)
    try:
        changed = workflow.import_csv(_admin(settings, db, actor), file)
    finally:
        db.dispose()
    typer.echo(f"{file}: {len(changed)} assignment(s) created or changed in {settings.database_url_shown()}"
               + (f" ({', '.join(changed)})." if changed else "; the store already held every row as it is."))


def _as_dict(a: Assignment, tags: list[StoredTag] | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"code": a.code, "title": a.title, "client": a.client, "status": a.status.value,
                         "opened_on": a.opened_on.isoformat(),
                         "closed_on": a.closed_on.isoformat() if a.closed_on else None, "source": a.source,
                         "list_item_id": a.list_item_id, "created_by": a.created_by}
    if tags is not None:
        d["tags"] = [{"recording": t.ref.key, "tagged_on": t.tagged_on.isoformat(), "tagged_by": t.tagged_by,
                      "source": t.source, "untagged_on": t.untagged_on.isoformat() if t.untagged_on else None,
                      "untagged_by": t.untagged_by} for t in tags]
    return d


@assignments_app.command("list")
@guard
def list_(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Every assignment in the store."""
    settings = load(config)
    db = open_existing_store(settings)
    try:
        found = store.list_all(db)
        counts = {a.code: sum(1 for t in store.tags_to(db, a.code) if t.active) for a in found}
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps([{**_as_dict(a), "tagged": counts[a.code]} for a in found], indent=2,
                              ensure_ascii=False))
        return
    if not found:
        typer.echo("No assignments in the store. Add one with `teamsretention assignments add CODE --title ...`.")
        return
    lines = [f"{'CODE':<16} {'STATUS':<7} {'OPENED':<10} {'CLOSED':<10} {'TAGGED':>6}  {'SOURCE':<14} TITLE"]
    for a in found:
        source = f"list item {a.list_item_id}" if a.list_item_id else a.source
        lines.append(f"{a.code:<16} {a.status.value:<7} {a.opened_on!s:<10} {a.closed_on or '-'!s:<10} "
                     f"{counts[a.code]:>6}  {source:<14} {a.title}" + (f" ({a.client})" if a.client else ""))
    echo_lines(lines)


@assignments_app.command("show")
@guard
def show(code: CodeArg, as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """One assignment with every recording ever tagged to it."""
    settings = load(config)
    db = open_existing_store(settings)
    try:
        a = workflow.existing(_admin(settings, db, "-"), code)
        tags = store.tags_to(db, a.code)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(_as_dict(a, tags), indent=2, ensure_ascii=False))
        return
    owner = f"item {a.list_item_id} of the {settings.lists.assignments} list" if a.list_item_id else a.source
    lines = [f"Assignment {a.code}: {a.title}" + (f" for {a.client}" if a.client else ""),
             f"  status {a.status.value}, opened {a.opened_on}" + (f", closed {a.closed_on}" if a.closed_on else ""),
             f"  created by {a.created_by} through {owner}", f"  tagged recordings ({len(tags)}):"]
    lines += [f"    {t.ref.key}: tagged {t.tagged_on} by {t.tagged_by} ({t.source})"
              + (f", untagged {t.untagged_on} by {t.untagged_by}" if t.untagged_on else "") for t in tags]
    echo_lines(lines)


async def _find(settings: Settings, admin: workflow.Admin, recording: str) -> StoredRecording:
    if recording.strip().isdigit():
        return await workflow.find_recording(admin, recording, None)
    gateway = bootstrap.connect_gateway(settings)
    try:
        return await workflow.find_recording(admin, recording, gateway)
    finally:
        await gateway.aclose()


@app.command("tag")
@guard
def tag(recording: RecordingArg, assignment: AssignmentOpt, actor: ActorOpt = "", config: ConfigOpt = None) -> None:
    """Tag a recording to an active assignment: it is kept while the assignment runs, within the cap."""
    settings = load(config)
    db = open_existing_store(settings)
    try:
        admin = _admin(settings, db, actor)
        rec = asyncio.run(_find(settings, admin, recording))
        made = workflow.tag(admin, rec, assignment)
    finally:
        db.dispose()
    typer.echo(f"{rec.name} (recording {rec.id}) tagged to {assignment.strip()}." if made
               else f"{rec.name} (recording {rec.id}) was already tagged to {assignment.strip()}; nothing changed.")


@app.command("untag")
@guard
def untag(recording: RecordingArg, assignment: AssignmentOpt, actor: ActorOpt = "",
          config: ConfigOpt = None) -> None:
    """Remove a recording's tag: it falls back to the normal rule (warned first); tag rules leave it alone."""
    settings = load(config)
    db = open_existing_store(settings)
    try:
        admin = _admin(settings, db, actor)
        rec = asyncio.run(_find(settings, admin, recording))
        removed = workflow.untag(admin, rec, assignment)
    finally:
        db.dispose()
    typer.echo(f"{rec.name} (recording {rec.id}) untagged from {assignment.strip()}: it falls back to the normal "
               "retention rule, organizers are warned before any deletion." if removed
               else f"{rec.name} (recording {rec.id}) was not tagged to {assignment.strip()}; nothing changed.")
