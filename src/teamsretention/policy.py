"""The retention policy as one pure function (design §2).

``evaluate`` reads no clock and does no I/O: ``today`` is the date of the cycle in the policy time zone.
Facts are read *as of today*: a decision, revocation or tag dated after ``today`` has not happened yet.
That keeps ``plan --at`` and replays of stored facts honest, and it is always the cautious reading.

Vocabulary used below:

* a *cover* keeps a recording (legal hold, exemption, assignment tag, pending request);
* a *known end* is a cover that ends on a date known in advance (time-boxed exception, assignment cap):
  it acts like a due date, warned about ahead of time;
* an *ending* is a cover that stopped without warning (tag closed, exemption revoked, request rejected or
  left undecided, recording restored): it starts a new notice *episode*, and warnings from before it no
  longer count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .domain import (
    Action,
    AssignmentTag,
    Decision,
    Exemption,
    ExemptionKind,
    ExemptionStatus,
    Facts,
    LabelStatus,
    PolicyConfig,
    Recording,
    RetentionLabel,
    Rule,
    WarningSent,
)

__all__ = ["evaluate", "recorded_date", "validate_policy"]

_DAY = dt.timedelta(days=1)
_DECIDED = {
    ExemptionStatus.APPROVED,
    ExemptionStatus.EXPIRED,
    ExemptionStatus.REVOKED,
    ExemptionStatus.REJECTED,
}
_APPROVED = {ExemptionStatus.APPROVED, ExemptionStatus.EXPIRED, ExemptionStatus.REVOKED}
# When several covers hold at once, the reason names the strongest one.
_PRECEDENCE = (Rule.LEGAL_HOLD, Rule.EXEMPTION, Rule.ASSIGNMENT, Rule.PENDING)


def recorded_date(created_at: dt.datetime, timezone: str) -> dt.date:
    """The calendar date, in the policy time zone, on which the recording was made."""
    if created_at.tzinfo is None:
        # Graph's createdDateTime is always UTC; a naive value is UTC that lost its marker on the way.
        created_at = created_at.replace(tzinfo=dt.UTC)
    return created_at.astimezone(ZoneInfo(timezone)).date()


def validate_policy(policy: PolicyConfig) -> list[str]:
    """Problems with a [policy] section, one readable sentence each; empty when it is usable."""
    problems: list[str] = []
    if policy.retention_days < 1:
        problems.append(f"retention_days must be at least 1 (got {policy.retention_days})")
    if policy.assignment_max_days < 1:
        problems.append(f"assignment_max_days must be at least 1 (got {policy.assignment_max_days})")
    if policy.pending_request_grace_days < 0:
        problems.append(
            f"pending_request_grace_days must not be negative (got {policy.pending_request_grace_days})"
        )
    offsets = list(policy.warning_days)
    if not offsets:
        problems.append("warning_days must list at least one offset: no deletion may happen without notice")
    if any(k < 1 for k in offsets):
        problems.append(f"warning_days must all be positive (got {offsets})")
    if len(set(offsets)) != len(offsets):
        problems.append(f"warning_days must be distinct (got {offsets})")
    largest = max(offsets, default=policy.minimum_notice_days)
    if not 1 <= policy.minimum_notice_days <= largest:
        problems.append(
            f"minimum_notice_days must be between 1 and the largest warning offset ({largest}); "
            f"got {policy.minimum_notice_days}"
        )
    try:
        ZoneInfo(policy.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone {policy.timezone!r} is not a known IANA time zone")
    return problems


@dataclass(frozen=True, slots=True)
class _Cover:
    """A cover in force today."""

    rule: Rule
    text: str
    open_ended: bool


@dataclass(frozen=True, slots=True)
class _Term:
    """A candidate for the due date, with the rule it comes from."""

    on: dt.date
    rule: Rule
    text: str


@dataclass(frozen=True, slots=True)
class _Ending:
    """A cover that stopped without a known end, on or before today: a new notice episode starts."""

    on: dt.date
    text: str


@dataclass(frozen=True, slots=True)
class _Survey:
    holding: tuple[_Cover, ...] = ()
    known_ends: tuple[_Term, ...] = ()
    endings: tuple[_Ending, ...] = ()

    def __add__(self, other: _Survey) -> _Survey:
        return _Survey(
            self.holding + other.holding, self.known_ends + other.known_ends, self.endings + other.endings
        )


def evaluate(recording: Recording, facts: Facts, policy: PolicyConfig, today: dt.date) -> Decision:
    """Keep, warn or delete ``recording`` on ``today`` (design §2).

    ``policy`` must have passed :func:`validate_policy` (an unknown time zone raises here). A decision with
    ``needs_label`` must not be acted on: read the label, put it in ``facts`` and evaluate again.
    """
    recorded = recorded_date(recording.created_at, policy.timezone)
    early = _find_fail_closed(facts, recorded) or _find_label_keep(facts.label, recorded)
    if early is not None:
        return early
    survey = _survey_covers(facts, policy, recorded, today)
    episode_start = max((e.on for e in survey.endings), default=None)
    holding = sorted(survey.holding, key=lambda c: _PRECEDENCE.index(c.rule))
    lead = f"Recorded {recorded}{_describe_episode(survey.endings, episode_start)}"
    if any(c.open_ended for c in holding):
        texts = "; ".join(c.text for c in holding)
        return Decision(
            Action.KEEP, holding[0].rule.value, f"{lead}; kept: {texts}.", None, recorded, episode_start
        )
    decision = _schedule_notice(survey, holding, policy, recorded, today, episode_start, facts.warnings, lead)
    if facts.label.status is LabelStatus.UNREAD and decision.action is not Action.KEEP:
        return replace(decision, needs_label=True)
    return decision


def _find_fail_closed(facts: Facts, recorded: dt.date) -> Decision | None:
    """Keep when a fact could not be established or the stored facts contradict themselves."""
    fact, why = "", ""
    if facts.unknown:
        fact = min(facts.unknown)
        why = f"the {fact} could not be established this cycle"
    elif facts.label.status is LabelStatus.FAILED:
        fact, why = "label", "its retention label could not be read"
    else:
        fact, why = _find_contradiction(facts)
    if not fact:
        return None
    reason = f"Recorded {recorded}; kept without warning or deleting because {why} (fail closed)."
    return Decision(Action.KEEP, f"{Rule.FAIL_CLOSED.value}:{fact}", reason, None, recorded)


def _find_contradiction(facts: Facts) -> tuple[str, str]:
    """A stored record whose end date is missing would let old warnings count: refuse to guess."""
    for e in facts.exemptions:
        if e.status is ExemptionStatus.REVOKED and e.revoked_on is None:
            return "exemptions", f"exemption {e.id} is revoked but has no revocation date"
        if e.status is ExemptionStatus.REJECTED and e.decided_on is None:
            return "exemptions", f"exemption request {e.id} is rejected but has no decision date"
        if e.status is ExemptionStatus.EXPIRED and e.valid_until is None and e.revoked_on is None:
            return "exemptions", f"exemption {e.id} is expired but has no end date"
    for t in facts.assignments:
        if not t.active and t.closed_on is None:
            return "assignments", f"assignment {t.assignment_id} is closed but has no closing date"
    return "", ""


def _find_label_keep(label: RetentionLabel, recorded: dt.date) -> Decision | None:
    """Purview wins: a label that retains or locks the file keeps it, whatever else is true."""
    if not label.blocks_deletion:
        return None
    if label.is_delete_allowed is False:
        why = "does not allow deletion"
    elif label.is_record_locked:
        why = "locks it as a record"
    else:
        why = f"retains it (behaviour {label.behavior})"
    reason = f"Recorded {recorded}; kept because retention label '{label.name or '?'}' {why}."
    return Decision(Action.KEEP, Rule.LABEL.value, reason, None, recorded)


def _survey_covers(facts: Facts, policy: PolicyConfig, recorded: dt.date, today: dt.date) -> _Survey:
    survey = _Survey(
        endings=tuple(
            _Ending(r, f"reappeared on {r} (restored or moved back after it was gone)")
            for r in facts.restored_on
            if r <= today
        )
    )
    cap = recorded + dt.timedelta(days=policy.assignment_max_days)
    for tag in facts.assignments:
        survey += _survey_tag(tag, cap, policy.assignment_max_days, today)
    for e in facts.exemptions:
        if e.requested_on <= today:  # a request dated later does not exist yet
            survey += _survey_request(e, policy.pending_request_grace_days, today)
            survey += _survey_approval(e, today)
    return survey


def _survey_tag(tag: AssignmentTag, cap: dt.date, max_days: int, today: dt.date) -> _Survey:
    """A tag covers from tagged_on while the assignment runs and the tag stays, never past the cap."""
    if tag.tagged_on > today or tag.tagged_on >= cap:
        return _Survey()
    stops = [
        (d, what)
        for d, what in ((tag.closed_on, "closed"), (tag.untagged_on, "untagged"))
        if d is not None and d <= today
    ]
    name = f"assignment '{tag.assignment_name}'"
    if stops:
        stopped, what = min(stops)
        if stopped < tag.tagged_on:
            return _Survey()  # tagged after the assignment closed: it never covered anything
        if stopped < cap:
            text = (
                f"{name} closed on {stopped}" if what == "closed" else f"tag to {name} removed on {stopped}"
            )
            return _Survey(endings=(_Ending(stopped, text),))
    known = _Term(
        cap, Rule.ASSIGNMENT, f"tagged to {name}, which keeps it at most {max_days} days, until {cap}"
    )
    holding = (_Cover(Rule.ASSIGNMENT, known.text, False),)
    return _Survey(holding=holding if today < cap else (), known_ends=(known,))


def _survey_request(e: Exemption, grace_days: int, today: dt.date) -> _Survey:
    """The pending phase of a request: kept for the grace, then a new episode unless approved in time."""
    grace_end = e.requested_on + dt.timedelta(days=grace_days)
    decided = _find_decision_date(e, today)
    if decided is None and today < grace_end:
        text = (
            f"exemption request {e.id} of {e.requested_on} awaits a decision (kept at most until {grace_end})"
        )
        return _Survey(holding=(_Cover(Rule.PENDING, text, True),))
    if decided is None or decided >= grace_end:
        text = f"exemption request {e.id} was not decided within {grace_days} days"
        return _Survey(endings=(_Ending(grace_end, text),))
    if e.status is ExemptionStatus.REJECTED:
        text = f"exemption request {e.id} was rejected on {decided}"
        return _Survey(endings=(_Ending(decided, text),))
    return _Survey()  # approved within the grace: the approval takes over without a gap


def _find_decision_date(e: Exemption, today: dt.date) -> dt.date | None:
    """When the request was decided, if by today. An approval without a date counts from the request."""
    if e.status not in _DECIDED:
        return None
    decided = e.decided_on or e.requested_on
    return decided if decided <= today else None


def _survey_approval(e: Exemption, today: dt.date) -> _Survey:
    approved_on = _find_decision_date(e, today)
    if approved_on is None or e.status not in _APPROVED:
        return _Survey()
    revoked = e.revoked_on if e.revoked_on is not None and e.revoked_on <= today else None
    end = None if e.kind is ExemptionKind.LEGAL_HOLD else e.valid_until  # legal holds are open-ended
    who = f" by {e.decided_by}" if e.decided_by else ""
    if revoked is not None and (end is None or revoked < end):
        if revoked < approved_on:
            return _Survey()
        return _Survey(endings=(_Ending(revoked, f"exemption {e.id} was revoked on {revoked}"),))
    if end is None and e.kind is ExemptionKind.LEGAL_HOLD:
        return _Survey(holding=(_Cover(Rule.LEGAL_HOLD, _describe_hold(e, who, today), True),))
    if end is None:
        text = f"exemption {e.id} approved{who} on {approved_on} with no end date"
        return _Survey(holding=(_Cover(Rule.EXEMPTION, text, True),))
    known = _Term(end, Rule.EXEMPTION, f"exemption {e.id} approved{who} keeps it until {end}")
    holding = (_Cover(Rule.EXEMPTION, known.text, False),) if today < end else ()
    return _Survey(holding=holding, known_ends=(known,))


def _describe_hold(e: Exemption, who: str, today: dt.date) -> str:
    if e.review_on is None:
        review = "no review date set"
    elif e.review_on < today:
        review = f"review overdue since {e.review_on}"
    else:
        review = f"review on {e.review_on}"
    return f"legal hold {e.id} approved{who}, {review}"


def _describe_episode(endings: tuple[_Ending, ...], start: dt.date | None) -> str:
    if start is None:
        return ""
    why = " and ".join(sorted({e.text for e in endings if e.on == start}))
    return f"; new notice period from {start} ({why})"


def _schedule_notice(
    survey: _Survey,
    holding: list[_Cover],
    policy: PolicyConfig,
    recorded: dt.date,
    today: dt.date,
    episode_start: dt.date | None,
    warnings: tuple[WarningSent, ...],
    lead: str,
) -> Decision:
    """No open-ended cover: settle the due date, then warn, delete or wait (design §2 items 5-7)."""
    episode = tuple(w for w in warnings if episode_start is None or w.sent_on >= episode_start)
    base = recorded + dt.timedelta(days=policy.retention_days)
    base_term = _Term(base, Rule.BASE_DUE, f"{policy.retention_days}-day retention ends {base}")
    due = _settle_due([base_term, *survey.known_ends], episode, policy.minimum_notice_days)
    covering = holding[0] if holding else None  # a known-end cover still in force names the rule
    why = due.text if covering is None or covering.text == due.text else f"{covering.text}; {due.text}"
    unsatisfied = _find_unsatisfied_offsets(due.on, policy.warning_days, episode)
    # No episode warning at all also counts as owed: an empty warning_days must never mean "no notice".
    if any(d <= today for d in unsatisfied) or (not episode and today >= due.on):
        floor = today + dt.timedelta(days=policy.minimum_notice_days) if not episode else due.on
        announced = max(due.on, today + _DAY, floor)  # a warning never announces today or the past
        rule = covering.rule if covering else (due.rule if announced == due.on else Rule.NOTICE_FLOOR)
        notice_given = f" ({(announced - today).days} days' notice)" if announced > due.on else ""
        tell = f"warning the organizer today that it will be deleted on {announced}{notice_given}"
        reason = f"{lead}; {why}; {tell}."
        return Decision(Action.WARN, rule.value, reason, announced, recorded, episode_start)
    warned = f"organizer warned {_join_dates(sorted({w.sent_on for w in episode}))}"
    if today >= due.on:
        when = (
            "on the due date"
            if today == due.on
            else f"{(today - due.on).days} day(s) after the due date {due.on}"
        )
        reason = f"{lead}; {why}; {warned}; deleted {when}."
        return Decision(Action.DELETE, due.rule.value, reason, due.on, recorded, episode_start)
    upcoming = (
        f"{'next' if episode else 'first'} warning on {min(unsatisfied)}"
        if unsatisfied
        else "no more warnings"
    )
    if covering is not None:
        rule = covering.rule
    elif not episode and today < due.on - dt.timedelta(days=max(policy.warning_days, default=0)):
        rule = Rule.YOUNG
    else:
        rule = due.rule
    so_far = f"{warned}; " if episode else ""
    reason = f"{lead}; {why}; {so_far}{upcoming}, deletion on {due.on}."
    return Decision(Action.KEEP, rule.value, reason, due.on, recorded, episode_start)


def _settle_due(terms: list[_Term], episode: tuple[WarningSent, ...], notice_days: int) -> _Term:
    """The effective due date: never before full notice from the episode's first warning, never before a
    date the organizer was already given."""
    if episode:
        first = min(w.sent_on for w in episode)
        floor = first + dt.timedelta(days=notice_days)
        promised = max(w.announced_due for w in episode)
        terms = [
            *terms,
            _Term(
                floor,
                Rule.NOTICE_FLOOR,
                f"first warning {first} plus {notice_days} days' notice ends {floor}",
            ),
            _Term(promised, Rule.PROMISED, f"the organizer was promised {promised}"),
        ]
    return _pick_latest(terms)


def _find_unsatisfied_offsets(
    due: dt.date, offsets: tuple[int, ...], episode: tuple[WarningSent, ...]
) -> list[dt.date]:
    """The dates (due - k) of offsets no episode warning satisfies; overdue ones collapse into one warning."""
    dates = (due - dt.timedelta(days=k) for k in offsets)
    return sorted(d for d in dates if not any(w.sent_on >= d for w in episode))


def _pick_latest(terms: list[_Term]) -> _Term:
    """The latest date wins; on a tie the earlier term (the more basic reason) keeps the rule."""
    latest = terms[0]
    for term in terms[1:]:
        if term.on > latest.on:
            latest = term
    return latest


def _join_dates(dates: list[dt.date]) -> str:
    texts = [d.isoformat() for d in dates]
    if len(texts) < 2:
        return "".join(texts)
    return f"{', '.join(texts[:-1])} and {texts[-1]}"
