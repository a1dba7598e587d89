"""``pause`` and ``resume``: stop and restart deletions without restarting the daemon.

Both act on the store the daemon uses, never on a new one: without a store they exit 2, naming where they
looked (``bootstrap.open_store``)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from ..bootstrap import open_store, utc_now
from ..store import control
from ..workflows import pause as workflow
from .common import ConfigOpt, app, guard, load

ActorOpt = Annotated[str, typer.Option("--actor", "--by", metavar="NAME",
                                       help="Who does it (audited; default: the OS user).")]


@app.command()
@guard
def pause(reason: Annotated[str, typer.Option("--reason", metavar="WHY", help="Why deletions are paused (audited).")],
          config: ConfigOpt = None, by: ActorOpt = "") -> None:
    """Stop deletions (warnings continue) until `resume`, without restarting the daemon."""
    settings = load(config)
    db = open_store(settings)
    try:
        changed = workflow.pause(db, reason=reason, by=by or getpass.getuser(), now=utc_now())
        state = control.pause_state(db)
    finally:
        db.dispose()
    if changed:
        typer.echo(f"Deletions paused in the state store {db.location}. Warnings still go out; every cycle "
                   "using this store deletes nothing until `teamsretention resume`.")
    else:
        typer.echo(f"Deletions were already paused in the state store {db.location} (since "
                   f"{_since(state)} by {state.by}: {state.reason}); nothing changed.")


@app.command()
@guard
def resume(config: ConfigOpt = None, by: ActorOpt = "") -> None:
    """Allow deletions again after `pause`."""
    settings = load(config)
    db = open_store(settings)
    try:
        changed = workflow.resume(db, by=by or getpass.getuser(), now=utc_now())
    finally:
        db.dispose()
    if changed:
        typer.echo(f"Deletions resumed in the state store {db.location}: the next cycle deletes what is due.")
    else:
        typer.echo(f"Deletions were not paused in the state store {db.location}; nothing changed.")


def _since(state: control.PauseState) -> str:
    return f"{state.since:%Y-%m-%d %H:%M} UTC" if state.since else "an unknown time"
