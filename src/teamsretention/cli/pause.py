"""``pause`` and ``resume``: stop and restart deletions without restarting the daemon."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from ..bootstrap import open_store, utc_now
from ..workflows import pause as workflow
from .common import ConfigOpt, app, guard, load


@app.command()
@guard
def pause(reason: Annotated[str, typer.Option("--reason", metavar="WHY", help="Why deletions are paused (audited).")],
          config: ConfigOpt = None,
          by: Annotated[str, typer.Option("--by", metavar="NAME", help="Who pauses (audited).")] = "") -> None:
    """Stop deletions (warnings continue) until `resume`, without restarting the daemon."""
    settings = load(config)
    db = open_store(settings)
    try:
        changed = workflow.pause(db, reason=reason, by=by or getpass.getuser(), now=utc_now())
    finally:
        db.dispose()
    typer.echo("Deletions paused." if changed else "Deletions were already paused.")


@app.command()
@guard
def resume(config: ConfigOpt = None,
           by: Annotated[str, typer.Option("--by", metavar="NAME", help="Who resumes (audited).")] = "") -> None:
    """Allow deletions again after `pause`."""
    settings = load(config)
    db = open_store(settings)
    try:
        changed = workflow.resume(db, by=by or getpass.getuser(), now=utc_now())
    finally:
        db.dispose()
    typer.echo("Deletions resumed." if changed else "Deletions were not paused.")
