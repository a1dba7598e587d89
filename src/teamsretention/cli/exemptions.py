"""``exemptions request|approve|reject|revoke|list|show``: exemptions and legal holds from the command line.

The host running the CLI is the trust boundary for these commands: ``--actor`` names who acts, and is looked
up in Entra, checked against ``[approvers]`` and audited (source ``cli``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from .. import bootstrap
from ..cycle.roles import Roles
from ..domain import ExemptionStatus
from ..errors import InvalidInput
from ..ports import GraphGateway
from ..settings import Settings
from ..store import Database
from ..store.exemptions import StoredExemption
from ..workflows import exemptions as workflow
from .common import ConfigOpt, app, echo_lines, fail, guard, load

exemptions_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False,
                             help="Exemptions and legal holds: request, decide, list.")
app.add_typer(exemptions_app, name="exemptions")

T = TypeVar("T")
ActorOpt = Annotated[str, typer.Option("--actor", metavar="NAME",
                                       help="Who acts: a UPN or an Entra object id (checked against "
                                       "[approvers], audited).")]
NoteOpt = Annotated[str, typer.Option("--note", metavar="NOTE", help="The decision note (audited).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="The exemption's id (EX-1).")]


def _open_store(settings: Settings) -> Database:
    """The store must exist already: admin commands never create one (one line to swap)."""
    return bootstrap.open_store(settings)


def _with_graph(settings: Settings, work: Callable[[Database, GraphGateway], Awaitable[T]]) -> T:
    db = _open_store(settings)
    gateway = bootstrap.connect_gateway(settings)

    async def run() -> T:
        try:
            return await work(db, gateway)
        finally:
            await gateway.aclose()
    try:
        return asyncio.run(run())
    finally:
        db.dispose()


def _refusing(command: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except InvalidInput as exc:
        raise fail(2, f"exemptions {command}: {exc}") from None


def _roles(settings: Settings, gateway: GraphGateway) -> Roles:
    return Roles(gateway, dpo=tuple(settings.approvers.dpo), it_admins=tuple(settings.approvers.it_admins))


def _line(e: StoredExemption) -> str:
    ends = f"until {e.valid_until}" if e.valid_until else (f"review {e.review_on}" if e.review_on else "")
    return (f"{e.id:<7} {e.kind.value:<10} {e.status.value:<9} {e.describe_target():<50} {ends:<17} "
            f"requested {e.requested_on} by {e.requested_by} ({e.source})")


@exemptions_app.command("request")
@guard
def request(kind: Annotated[str, typer.Option("--kind", metavar="KIND",
                                              help="legal_hold (open-ended, --review) or exception "
                                              "(--until).")],
            reason: Annotated[str, typer.Option("--reason", metavar="WHY", help="Why it must be kept.")],
            legal_basis: Annotated[str, typer.Option("--legal-basis", metavar="BASIS",
                                                     help="The law, contract or decision.")],
            actor: ActorOpt,
            recording: Annotated[str | None, typer.Option("--recording", metavar="RECORDING",
                                                          help="One recording: its web URL, "
                                                          "store id, or <drive>/<item>.")] = None,
            organizer: Annotated[str | None, typer.Option("--organizer", metavar="USER",
                                                          help="All recordings of an organizer "
                                                          "(UPN or object id).")] = None,
            assignment: Annotated[str | None, typer.Option("--assignment", metavar="CODE",
                                                           help="All recordings tagged to an "
                                                           "assignment code.")] = None,
            site: Annotated[str | None, typer.Option("--site", metavar="SITE",
                                                     help="All recordings of a team site (its library "
                                                     "link, drive id or team id).")] = None,
            until: Annotated[str | None, typer.Option("--until", metavar="DATE",
                                                      help="An exception's end (YYYY-MM-DD).")] = None,
            review: Annotated[str | None, typer.Option("--review", metavar="DATE",
                                                       help="A legal hold's review date.")] = None,
            config: ConfigOpt = None) -> None:
    """Request an exemption or a legal hold (pending until the DPO or an IT admin approves it)."""
    settings = load(config)
    target = workflow.Target(recording, organizer, assignment, site)
    made = _refusing("request", lambda: _with_graph(settings, lambda db, gw: workflow.request(
        db, gw, actor=actor, kind=kind, target=target, reason=reason, legal_basis=legal_basis, until=until,
        review=review, now=bootstrap.utc_now(), timezone=settings.schedule.timezone)))
    typer.echo(f"Requested {made.id}: {made.kind.value} for {made.describe_target()}, pending a decision by the "
               f"DPO or an IT admin (teamsretention exemptions approve {made.id} --actor ...).")


def _decide(command: str, status: ExemptionStatus, exemption_id: str, actor: str, note: str,
            config: ConfigOpt) -> None:
    settings = load(config)
    done = _refusing(command, lambda: _with_graph(settings, lambda db, gw: workflow.decide(
        db, gw, _roles(settings, gw), actor=actor, exemption_id=exemption_id, status=status, note=note,
        now=bootstrap.utc_now(), timezone=settings.schedule.timezone)))
    typer.echo(f"Exemption {done.id} is now {done.status.value} ({done.kind.value} for {done.describe_target()}).")


@exemptions_app.command("approve")
@guard
def approve(exemption_id: IdArg, actor: ActorOpt,
            note: NoteOpt = "", config: ConfigOpt = None) -> None:
    """Approve a pending request (the DPO or an IT admin; never one's own request or recordings)."""
    _decide("approve", ExemptionStatus.APPROVED, exemption_id, actor, note, config)


@exemptions_app.command("reject")
@guard
def reject(exemption_id: IdArg, actor: ActorOpt,
           note: NoteOpt = "", config: ConfigOpt = None) -> None:
    """Reject a pending request (a note saying why is required)."""
    _decide("reject", ExemptionStatus.REJECTED, exemption_id, actor, note, config)


@exemptions_app.command("revoke")
@guard
def revoke(exemption_id: IdArg, actor: ActorOpt,
           note: NoteOpt = "", config: ConfigOpt = None) -> None:
    """Revoke an approved exemption: its recordings get fresh warnings before anything is deleted."""
    _decide("revoke", ExemptionStatus.REVOKED, exemption_id, actor, note, config)


@exemptions_app.command("list")
@guard
def list_(status: Annotated[str | None, typer.Option("--status", metavar="STATUS", help="Only this status.")] = None,
          as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Every exemption and legal hold in the store."""
    settings = load(config)
    db = _open_store(settings)
    try:
        found = _refusing("list", lambda: workflow.list_exemptions(db, status))
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps([e.as_dict() for e in found], indent=2))
    elif not found:
        typer.echo(f"No exemptions{f' with status {status}' if status else ''} in the store.")
    else:
        echo_lines([_line(e) for e in found])


@exemptions_app.command("show")
@guard
def show(exemption_id: IdArg,
         as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """One exemption with everything recorded about it."""
    settings = load(config)
    db = _open_store(settings)
    try:
        e = _refusing("show", lambda: workflow.show(db, exemption_id))
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(e.as_dict(), indent=2))
        return
    echo_lines([f"{k.replace('_', ' ')}: {v}" for k, v in e.as_dict().items() if v not in (None, "")])
