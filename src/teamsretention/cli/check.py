"""``check``, the preflight: the app's permissions, one read of each kind from Graph, the sender mailbox, the
state store and the schedule, each ✓ or ✗ with its fix. Changes nothing, deletes nothing, creates no store."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated
from urllib.parse import urlsplit

import typer

from ..bootstrap import connect_gateway, utc_now
from ..graph import SimulatorToken, token_roles
from ..ports import GraphGateway
from ..reports.check import check_data, check_lines
from ..settings import Settings
from ..workflows.check import CheckReport, RolesSource
from ..workflows.check_graph import run_check
from .common import ConfigOpt, app, echo_lines, guard, load


def roles_source(settings: Settings, gateway: GraphGateway) -> RolesSource:
    """The token's roles: the configured credential's token; with ``graph.auth = none`` (the simulator on
    loopback only) the token the simulator issues for its scenario's ``app_roles``."""
    if settings.graph.auth == "none" and settings.is_loopback_endpoint and settings.graph.graph_endpoint:
        parts = urlsplit(settings.graph.graph_endpoint)
        token = SimulatorToken(f"{parts.scheme}://{parts.netloc}")
        return lambda: token_roles(token, settings.token_scope)
    return gateway.granted_roles


async def run(settings: Settings, test_mail_to: str | None) -> CheckReport:
    gateway = connect_gateway(settings)
    try:
        return await run_check(settings, gateway, roles_source(settings, gateway), now=utc_now(),
                               test_mail_to=test_mail_to)
    finally:
        await gateway.aclose()


@app.command()
@guard
def check(config: ConfigOpt = None,
          send_test_mail: Annotated[str | None, typer.Option(
              "--send-test-mail", metavar="ADDRESS", help="Also send one test mail from notifications.sender to "
              "ADDRESS and report whether Graph accepted it (the only thing check ever sends).")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="The findings as JSON, for automation.")] = False,
          ) -> None:
    """Preflight: permissions, Graph reads, sender mailbox, state store and schedule, each ✓ or ✗ with its fix.

    Changes nothing and deletes nothing. Exit codes: 0 everything required holds; 1 a check failed (✗);
    2 configuration."""
    settings = load(config, prints_report=True)
    report = asyncio.run(run(settings, send_test_mail))
    if as_json:
        typer.echo(json.dumps(check_data(report), indent=2, ensure_ascii=False))
    else:
        echo_lines(check_lines(report))
    raise typer.Exit(0 if report.ok else 1)
