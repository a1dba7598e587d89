"""Exemptions and legal holds from the command line: request, approve, reject, revoke, list, show.

The host running the CLI is the trust boundary: whoever can run it with the store's credentials can name any
``--actor``. The actor is still looked up in Entra (a UPN or an object id), checked against the roles, and
recorded in the audit trail with ``source = cli``; self-approval and decisions on one's own recordings are
refused as on the list. Every check runs before anything is written: bad input changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..cycle import targets
from ..cycle.roles import Roles
from ..domain import ExemptionKind, ExemptionStatus, Person, TargetKind, local_date
from ..errors import InvalidInput
from ..policy.approval import explain, may_decide
from ..ports import GraphGateway
from ..store import assignments
from ..store import exemptions as store
from ..store.database import Database
from ..store.exemptions import NewRequest, StoredExemption

SOURCE = "cli"
KINDS = {"legal_hold": ExemptionKind.LEGAL_HOLD, "legal-hold": ExemptionKind.LEGAL_HOLD,
         "exception": ExemptionKind.EXCEPTION}


@dataclass(frozen=True, slots=True)
class Target:
    recording: str | None = None  # web URL, store id, or <drive id>/<item id>
    organizer: str | None = None  # UPN or object id: all recordings they organised
    assignment: str | None = None  # assignment code
    site: str | None = None  # the team site's document library link, a drive id or a team id


def parse_date(option: str, value: str | None) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def actor_label(person: Person) -> str:
    return person.upn or person.id


async def identify(gateway: GraphGateway, actor: str) -> Person:
    if not actor.strip():
        raise InvalidInput("--actor: who acts is required (a UPN or an Entra object id; it is audited)")
    person = await gateway.get_user(actor.strip())
    if person is None:
        raise InvalidInput(f"--actor: {actor!r} is no user in Entra (give a UPN or an Entra object id)")
    return person


def _check_terms(kind: ExemptionKind, reason: str, legal_basis: str, until: dt.date | None,
                 review: dt.date | None, today: dt.date) -> None:
    if not reason.strip():
        raise InvalidInput("--reason: a reason is required (it goes into the audit trail and the DPO digest)")
    if not legal_basis.strip():
        raise InvalidInput("--legal-basis: the legal basis is required (the law, contract or decision it rests on)")
    if kind is ExemptionKind.EXCEPTION:
        if until is None:
            raise InvalidInput("--until: an exception needs an end date (YYYY-MM-DD)")
        if until <= today:
            raise InvalidInput(f"--until: {until} is not after today ({today})")
        if review is not None:
            raise InvalidInput("--review: only a legal hold has a review date; an exception ends on --until")
    else:
        if review is None:
            raise InvalidInput("--review: a legal hold needs a review date (YYYY-MM-DD)")
        if review <= today:
            raise InvalidInput(f"--review: {review} is not after today ({today})")
        if until is not None:
            raise InvalidInput("--until: a legal hold is open-ended; give its review date with --review")


async def _resolve_target(db: Database, gateway: GraphGateway, target: Target) -> tuple[TargetKind, str]:
    given = [(name, value) for name, value in (("--recording", target.recording), ("--organizer", target.organizer),
                                               ("--assignment", target.assignment), ("--site", target.site))
             if value is not None and value.strip()]
    if len(given) != 1:
        raise InvalidInput("give exactly one of --recording, --organizer, --assignment, --site (what is kept)")
    option, value = given[0][0], given[0][1].strip()
    if option == "--recording":
        ref = await targets.resolve_recording(db, gateway, value)
        if ref is None:
            raise InvalidInput(f"--recording: {value!r} is no recording (not found through Graph's shares API "
                               "nor in the store)")
        return TargetKind.RECORDING, ref.key
    if option == "--organizer":
        person = await gateway.get_user(value)
        if person is None:
            raise InvalidInput(f"--organizer: {value!r} is no user in Entra")
        return TargetKind.ORGANIZER, person.id
    if option == "--assignment":
        if not assignments.has_assignment(db, value):
            raise InvalidInput(f"--assignment: {value!r} is no known assignment code")
        return TargetKind.ASSIGNMENT, value
    site = await targets.resolve_site(db, gateway, value)
    if site is None:
        raise InvalidInput(f"--site: {value!r} is no team site in the inventory (give its document library's "
                           "link, a drive id or a team id)")
    return TargetKind.SITE, site


async def request(db: Database, gateway: GraphGateway, *, actor: str, kind: str, target: Target, reason: str,
                  legal_basis: str, until: str | None, review: str | None, now: dt.datetime,
                  timezone: str) -> StoredExemption:
    today = local_date(now, timezone)
    if kind not in KINDS:
        raise InvalidInput(f"--kind: {kind!r} is not one of legal_hold, exception")
    kind_ = KINDS[kind]
    end, review_on = parse_date("--until", until), parse_date("--review", review)
    _check_terms(kind_, reason, legal_basis, end, review_on, today)
    person = await identify(gateway, actor)
    target_kind, target_id = await _resolve_target(db, gateway, target)
    return store.request(db, NewRequest(
        kind=kind_, target_kind=target_kind, target_id=target_id, reason=reason.strip(),
        legal_basis=legal_basis.strip(), requested_on=today, requested_by=actor_label(person),
        requested_by_id=person.id, valid_until=end, review_on=review_on, source=SOURCE),
        actor=actor_label(person), at=now, day=today)


async def decide(db: Database, gateway: GraphGateway, roles: Roles, *, actor: str, exemption_id: str,
                 status: ExemptionStatus, note: str, now: dt.datetime, timezone: str) -> StoredExemption:
    """Approve, reject or revoke, as ``actor``: refused (InvalidInput, nothing written) for anyone outside the
    roles, for the requester, and on the actor's own recordings."""
    found = store.get(db, exemption_id)
    if found is None:
        raise InvalidInput(f"{exemption_id!r}: no such exemption (see `teamsretention exemptions list`)")
    if status is ExemptionStatus.REJECTED and not note.strip():
        raise InvalidInput("--note: say why the request is rejected (the requester and the DPO read it)")
    person = await identify(gateway, actor)
    decider = await roles.decider(person.id, actor_label(person))
    refusal = may_decide(decider, targets.covered(db, found))
    if refusal is not None:
        problems = f" ({'; '.join(roles.problems)})" if roles.problems else ""
        raise InvalidInput(f"refused: {explain(refusal, actor_label(person))}{problems}; exemption "
                           f"{exemption_id} is unchanged")
    return store.decide(db, exemption_id, status, actor=actor_label(person), at=now,
                        day=local_date(now, timezone), note=note.strip(), source=SOURCE)


def list_exemptions(db: Database, status: str | None) -> list[StoredExemption]:
    if status is None:
        return store.list_all(db)
    try:
        wanted = ExemptionStatus(status)
    except ValueError:
        choices = ", ".join(s.value for s in ExemptionStatus)
        raise InvalidInput(f"--status: {status!r} is not one of {choices}") from None
    return store.list_all(db, wanted)


def show(db: Database, exemption_id: str) -> StoredExemption:
    found = store.get(db, exemption_id)
    if found is None:
        raise InvalidInput(f"{exemption_id!r}: no such exemption (see `teamsretention exemptions list`)")
    return found
