"""The covers that keep a recording, surveyed as of one day (pure, part of :func:`evaluate`).

A *cover* keeps a recording (legal hold, exemption, assignment tag, pending request). A *known end* is a
cover that ends on a date known in advance (time-boxed exception, assignment cap): it acts like a due date,
warned about ahead of time. An *ending* is a cover that stopped without warning (tag closed, exemption
revoked, request rejected or left undecided, recording restored): it starts a new notice *episode*.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from ..domain import AssignmentTag, Exemption, ExemptionKind, ExemptionStatus, Facts, PolicyConfig, Rule, TargetKind

_DECIDED = {
    ExemptionStatus.APPROVED,
    ExemptionStatus.EXPIRED,
    ExemptionStatus.REVOKED,
    ExemptionStatus.REJECTED,
}
APPROVED = {ExemptionStatus.APPROVED, ExemptionStatus.EXPIRED, ExemptionStatus.REVOKED}  # decided yes, once
# When several covers hold at once, the reason names the strongest one.

@dataclass(frozen=True, slots=True)
class Cover:
    """A cover in force today."""

    rule: Rule
    text: str
    open_ended: bool


@dataclass(frozen=True, slots=True)
class Term:
    """A candidate for the due date, with the rule it comes from."""

    on: dt.date
    rule: Rule
    text: str


@dataclass(frozen=True, slots=True)
class Ending:
    """A cover that stopped without a known end, on or before today: a new notice episode starts.

    ``known_at``: when the ending became known. Only warnings sent after it count for the new episode; when
    it is not known within the day (None), no warning of that day counts (the cautious reading)."""

    on: dt.date
    text: str
    known_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Survey:
    holding: tuple[Cover, ...] = ()
    known_ends: tuple[Term, ...] = ()
    endings: tuple[Ending, ...] = ()

    def __add__(self, other: Survey) -> Survey:
        return Survey(
            self.holding + other.holding, self.known_ends + other.known_ends, self.endings + other.endings
        )


def survey_covers(facts: Facts, policy: PolicyConfig, recorded: dt.date, today: dt.date) -> Survey:
    zone = ZoneInfo(policy.timezone)
    seen: dict[dt.date, dt.datetime] = {}  # restore date -> the latest time it was seen that day
    for at in facts.restored_at:
        day = at.astimezone(zone).date()
        seen[day] = max(at, seen.get(day, at))
    survey = Survey(
        endings=tuple(
            Ending(r, f"reappeared on {r} (restored or moved back after it was gone)", seen.get(r))
            for r in facts.restored_on
            if r <= today
        )
    )
    survey += _survey_enforcement(facts, zone, today)
    cap = recorded + dt.timedelta(days=policy.assignment_max_days)
    for tag in facts.assignments:
        survey += _survey_tag(tag, cap, policy.assignment_max_days, today, zone)
    known = [e for e in facts.exemptions if e.requested_on <= today]  # a request dated later does not exist yet
    for e in known:
        start = grace_start(e, known, today, recorded=recorded, grace_days=policy.pending_request_grace_days)
        if e.cut_on is not None and e.cut_on <= today:
            survey += _survey_cut(e, e.cut_on, start, policy.pending_request_grace_days, zone)
            continue
        survey += _survey_request(e, start, policy.pending_request_grace_days, today, zone)
        survey += _survey_approval(e, today)
    return survey


def _survey_cut(e: Exemption, cut: dt.date, start: dt.date, grace_days: int, zone: ZoneInfo) -> Survey:
    """An exemption of an assignment the recording's tag to it was removed from on ``cut``: what it said up to
    then stands (an end that came before), and a cover it gave then ends there, known when the removal was
    recorded: a fresh notice, never a deletion on warnings of the episode it interrupted."""
    if e.requested_on > cut:
        return Survey()  # asked for after the recording left the assignment: it never covered it
    then = _survey_request(e, start, grace_days, cut, zone) + _survey_approval(e, cut)
    endings = then.endings
    if then.holding:
        endings += (Ending(cut, f"tag to assignment {e.target_id} removed on {cut}, so {e.id} no longer covers it",
                           e.cut_at),)
    return Survey(endings=endings, known_ends=tuple(t for t in then.known_ends if t.on <= cut))


class Request(Protocol):
    """What :func:`grace_start` reads of an exemption (the policy's and the store's both have it)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> ExemptionKind: ...
    @property
    def status(self) -> ExemptionStatus: ...
    @property
    def requested_on(self) -> dt.date: ...
    @property
    def requester(self) -> str: ...
    @property
    def decided_on(self) -> dt.date | None: ...
    @property
    def target_kind(self) -> TargetKind: ...
    @property
    def target_id(self) -> str: ...


def grace_start(e: Request, requests: Sequence[Request], today: dt.date, *, recorded: dt.date | None = None,
                grace_days: int = 0) -> dt.date:
    """The day a request's grace counts from: the first request by the same person (by Entra object id when
    known), of the same kind, for the same target, since one was last approved (as of ``today``), among those
    whose grace could have kept the recording (``recorded``: its date; None: any). Asking again, after a refusal
    or once a grace ran out undecided, adds no days: the grace is there for a decision, not a way to keep a
    recording by asking every fortnight. Someone else's request (the DPO's hold after an organizer's lapsed one),
    a request of the other kind, and a request for a recording made after an old refusal each have a grace of
    their own."""
    def order(r: Request) -> tuple[dt.date, int, str]:  # EX-9 before EX-10
        return r.requested_on, len(r.id), r.id

    same = [r for r in requests if (r.kind, r.target_kind, r.target_id, r.requester) == (
        e.kind, e.target_kind, e.target_id, e.requester) and order(r) <= order(e)
        and (r is e or recorded is None or r.requested_on + dt.timedelta(days=grace_days) > recorded)]
    approvals = [d for r in same if r.status in APPROVED and (d := r.decided_on or r.requested_on) <= today
                 and d <= e.requested_on and r is not e]
    since = max(approvals, default=None)
    return min((r.requested_on for r in same if since is None or r.requested_on >= since), default=e.requested_on)


def _survey_enforcement(facts: Facts, zone: ZoneInfo, today: dt.date) -> Survey:
    """A dry-run period (enforce = false) ends the notice episode: warnings sent before enforcement was switched
    back on do not count, so it starts with fresh warnings, never with deletions. Only said when such a
    warning exists, so recordings never warned before carry no needless episode."""
    since = facts.enforced_since
    if since is None:
        return Survey()
    day = since.astimezone(zone).date()
    earlier = [w for w in facts.warnings
               if w.sent_on < day or (w.sent_on == day and (w.sent_at is None or w.sent_at < since))]
    if day > today or not earlier:
        return Survey()
    return Survey(endings=(Ending(day, f"enforcement was switched back on on {day} after a dry run", since),))


def _survey_tag(tag: AssignmentTag, cap: dt.date, max_days: int, today: dt.date, zone: ZoneInfo) -> Survey:
    """A tag covers from tagged_on while the assignment runs and the tag stays, never past the cap.

    A stop dated before the tag (a closing date put in the past) means the tag never covered anything only when
    the stop was recorded before the day of the tag: tagged to an assignment already closed. Recorded later, the
    tag did keep the recording meanwhile, so its stop ends the cover as any other does, from the day of the tag,
    and only warnings sent after the stop was recorded count (never a deletion on the day it is recorded)."""
    if tag.tagged_on > today or tag.tagged_on >= cap:
        return Survey()
    stops = [
        (d, what)
        for d, what in ((tag.closed_on, "closed"), (tag.untagged_on, "untagged"))
        if d is not None and d <= today
    ]
    name = f"assignment '{tag.assignment_name}'"
    if stops:
        stopped, what = min(stops)
        known_at = tag.closed_at if what == "closed" else tag.untagged_at
        text = f"{name} closed on {stopped}" if what == "closed" else f"tag to {name} removed on {stopped}"
        if stopped < tag.tagged_on:
            if known_at is not None and known_at.astimezone(zone).date() < tag.tagged_on:
                return Survey()  # tagged after the assignment closed: it never covered anything
            return Survey(endings=(Ending(tag.tagged_on, f"{text}, before the recording was tagged to it on "
                                          f"{tag.tagged_on}", known_at),))
        if stopped < cap:
            return Survey(endings=(Ending(stopped, text, known_at),))
    known = Term(
        cap, Rule.ASSIGNMENT, f"tagged to {name}, which keeps it at most {max_days} days, until {cap}"
    )
    holding = (Cover(Rule.ASSIGNMENT, known.text, False),)
    return Survey(holding=holding if today < cap else (), known_ends=(known,))


def _survey_request(e: Exemption, start: dt.date, grace_days: int, today: dt.date, zone: ZoneInfo) -> Survey:
    """The pending phase of a request: kept for the grace (counted from ``start``, :func:`grace_start`), then a
    new episode unless approved in time. A request made once that grace was over keeps nothing and ends
    nothing: asking again neither keeps the recording nor restarts its notice."""
    grace_end = start + dt.timedelta(days=grace_days)
    if grace_end <= e.requested_on and start < e.requested_on:
        return Survey()
    decided = _find_decision_date(e, today)
    if decided is None and today < grace_end:
        since = f", {grace_days} days from the first request for it, on {start}" if start < e.requested_on else ""
        text = (
            f"exemption request {e.id} of {e.requested_on} awaits a decision (kept at most until {grace_end}"
            f"{since})"
        )
        return Survey(holding=(Cover(Rule.PENDING, text, True),))
    if decided is None or decided >= grace_end:
        text = f"exemption request {e.id} was not decided within {grace_days} days"
        # Known in advance, as the grace's day begins; unless the request itself was recorded only later
        # (back-dated): then not before it reached us.
        known = dt.datetime.combine(grace_end, dt.time(0), zone)
        if e.recorded_at is not None and e.recorded_at > known:
            known = e.recorded_at
        return Survey(endings=(Ending(grace_end, text, known),))
    if e.status is ExemptionStatus.REJECTED:
        text = f"exemption request {e.id} was rejected on {decided}"
        return Survey(endings=(Ending(decided, text, e.decided_at),))
    return Survey()  # approved within the grace: the approval takes over without a gap


def _find_decision_date(e: Exemption, today: dt.date) -> dt.date | None:
    """When the request was decided, if by today. An approval without a date counts from the request."""
    if e.status not in _DECIDED:
        return None
    decided = e.decided_on or e.requested_on
    return decided if decided <= today else None


def _survey_approval(e: Exemption, today: dt.date) -> Survey:
    approved_on = _find_decision_date(e, today)
    if approved_on is None or e.status not in APPROVED:
        return Survey()
    revoked = e.revoked_on if e.revoked_on is not None and e.revoked_on <= today else None
    end = None if e.kind is ExemptionKind.LEGAL_HOLD else e.valid_until  # legal holds are open-ended
    who = f" by {e.decided_by}" if e.decided_by else ""
    if revoked is not None and (end is None or revoked < end):
        if revoked < approved_on:
            return Survey()
        return Survey(endings=(Ending(revoked, f"exemption {e.id} was revoked on {revoked}", e.revoked_at),))
    if end is None and e.kind is ExemptionKind.LEGAL_HOLD:
        return Survey(holding=(Cover(Rule.LEGAL_HOLD, _describe_hold(e, who, today), True),))
    if end is None:
        text = f"exemption {e.id} approved{who} on {approved_on} with no end date"
        return Survey(holding=(Cover(Rule.EXEMPTION, text, True),))
    known = Term(end, Rule.EXEMPTION, f"exemption {e.id} approved{who} keeps it until {end}")
    holding = (Cover(Rule.EXEMPTION, known.text, False),) if today < end else ()
    return Survey(holding=holding, known_ends=(known,))


def _describe_hold(e: Exemption, who: str, today: dt.date) -> str:
    if e.review_on is None:
        review = "no review date set"
    elif e.review_on < today:
        review = f"review overdue since {e.review_on}"
    else:
        review = f"review on {e.review_on}"
    return f"legal hold {e.id} approved{who}, {review}"
