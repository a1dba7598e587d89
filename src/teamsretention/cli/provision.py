"""``provision``: create (or check) the Assignments and Retention requests lists in ``[lists] site``."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import typer

from .. import __version__
from ..bootstrap import register_secrets
from ..errors import ForbiddenError
from ..graph import connect
from ..settings import Settings
from ..workflows import provision as workflow
from .common import ConfigOpt, app, echo_lines, fail, guard, load

SITE_ENV = "TEAMSRETENTION_LISTS__SITE"


def site_source(config: Path | None) -> str:
    """Where ``lists.site`` came from, for error messages."""
    if os.environ.get(SITE_ENV):
        return f"environment variable {SITE_ENV}"
    named = config or os.environ.get("TEAMSRETENTION_CONFIG")
    return f"file {named}" if named else "the configuration"


async def run_provision(settings: Settings, source: str,
                        http_client: httpx.AsyncClient | None = None) -> workflow.ProvisionReport:
    gateway = connect(settings.graph_connection(__version__), http_client=http_client)
    try:
        return await workflow.provision(
            gateway, settings.lists.site, workflow.targets(settings.lists.assignments, settings.lists.requests),
            site_source=source)
    finally:
        await gateway.aclose()


@app.command()
@guard
def provision(config: ConfigOpt = None) -> None:
    """Create the Assignments and Retention requests lists (with their columns) in [lists] site, or check them.

    Safe to run again: existing lists are checked, missing columns added, mistyped ones reported (exit 2)."""
    settings = load(config)
    register_secrets(settings)
    workflow.require_site(settings.lists.site)  # before any Graph call
    try:
        report = asyncio.run(run_provision(settings, site_source(config)))
    except ForbiddenError as exc:
        raise fail(1, f"Graph refused ({exc.status} {exc.code}: {exc.message}); nothing more was changed. provision "
                      f"reads the site {settings.lists.site} and creates lists and columns in it: grant the app "
                      "Sites.Selected on that site with the role write, raised to fullcontrol while provisioning "
                      "(README, \"Least privilege for the lists\"), or Sites.ReadWrite.All, then run it again"
                   ) from None
    echo_lines(workflow.report_lines(report))
    problems = workflow.problem_lines(report)
    if problems:
        echo_lines(problems, err=True)
        raise typer.Exit(2)

