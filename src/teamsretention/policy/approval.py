"""Who may decide an exemption request (pure: the cycle and the CLI resolve identities, this rules).

Only the DPO and the IT administrators decide (approve, reject, revoke); nobody decides their own request
(self-approval), and nobody decides an exemption that covers their own recordings: one of all their
recordings (the target is the decider as organizer), or one recording they organised. Identities are
compared by Entra object id, never by a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    DPO = "dpo"
    IT_ADMIN = "it_admin"


class Refusal(StrEnum):
    NOT_APPROVER = "not_approver"
    SELF_APPROVAL = "self_approval"
    OWN_RECORDINGS = "own_recordings"
    UNKNOWN_IDENTITY = "unknown_identity"


@dataclass(frozen=True, slots=True)
class Decider:
    id: str | None  # Entra object id; None when the list or Graph named nobody we can check
    roles: frozenset[Role]
    name: str = ""


@dataclass(frozen=True, slots=True)
class Covered:
    """What the request is about, as far as ownership goes."""

    requested_by_id: str | None
    organizer_ids: frozenset[str]  # organizers of what it covers (target organizer, the recording's organizer)


def may_decide(decider: Decider, request: Covered) -> Refusal | None:
    """None when ``decider`` may decide ``request``; else why not."""
    if not decider.id:
        return Refusal.UNKNOWN_IDENTITY
    if not decider.roles:
        return Refusal.NOT_APPROVER
    if request.requested_by_id and decider.id.lower() == request.requested_by_id.lower():
        return Refusal.SELF_APPROVAL
    if decider.id.lower() in {o.lower() for o in request.organizer_ids}:
        return Refusal.OWN_RECORDINGS
    return None


def explain(refusal: Refusal, who: str) -> str:
    """A sentence a DPO can read."""
    return {
        Refusal.UNKNOWN_IDENTITY: f"{who} could not be identified as an Entra user",
        Refusal.NOT_APPROVER: f"{who} is neither the DPO nor an IT administrator (approvers.dpo, approvers.it_admins)",
        Refusal.SELF_APPROVAL: f"{who} made the request: nobody decides their own request",
        Refusal.OWN_RECORDINGS: f"{who} organised the recordings it covers: nobody decides on their own recordings",
    }[refusal]
