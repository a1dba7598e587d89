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
from dataclasses import replace
from zoneinfo import ZoneInfo

from ..domain import (
    Action,
    Decision,
    ExemptionStatus,
    Facts,
    LabelStatus,
    PolicyConfig,
    Recording,
    RetentionLabel,
    Rule,
    WarningSent,
    local_date,
)
from .covers import Cover, Ending, Survey, Term, survey_covers

__all__ = ["evaluate"]

_DAY = dt.timedelta(days=1)
_RETAINING = {"retain", "retainAsRecord", "retainAsRegulatoryRecord"}
_PRECEDENCE = (Rule.LEGAL_HOLD, Rule.EXEMPTION, Rule.ASSIGNMENT, Rule.PENDING)


def evaluate(recording: Recording, facts: Facts, policy: PolicyConfig, today: dt.date) -> Decision:
    """Keep, warn or delete ``recording`` on ``today`` (design §2).

    ``policy`` must have passed :func:`~.validation.validate_policy` (an unknown time zone raises here). A decision with
    ``needs_label`` must not be acted on: read the label, put it in ``facts`` and evaluate again.
    """
    recorded = local_date(recording.created_at, policy.timezone)
    early = _find_fail_closed(facts, recorded) or _find_label_keep(facts.label, recorded)
    if early is not None:
        return early
    survey = survey_covers(facts, policy, recorded, today)
    episode_start = max((e.on for e in survey.endings), default=None)
    holding = sorted(survey.holding, key=lambda c: _PRECEDENCE.index(c.rule))
    lead = f"Recorded {recorded}{_describe_episode(survey.endings, episode_start)}"
    if any(c.open_ended for c in holding):
        texts = "; ".join(c.text for c in holding)
        return Decision(
            Action.KEEP, holding[0].rule.value, f"{lead}; kept: {texts}.", None, recorded, episode_start
        )
    zone = ZoneInfo(policy.timezone)
    episode = tuple(w for w in facts.warnings if _counts_for_episode(w, survey.endings, episode_start, zone))
    # A warning of the ending's own day that may have come before it gives no notice, but the date it
    # announced is still one the organizer may rely on: it is never brought forward.
    promises = (*episode, *(w for w in facts.warnings if w.sent_on == episode_start and w not in episode))
    decision = _schedule_notice(survey, holding, policy, recorded, today, episode_start, episode, promises, lead)
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
    elif label.behavior in _RETAINING:
        why = f"retains it (behaviour {label.behavior})"
    else:
        shown = "none" if label.behavior is None else label.behavior
        why = (f"does not clearly allow deletion (delete allowed: {label.is_delete_allowed}, behaviour: "
               f"{shown}), so it is treated as a hold")
    reason = f"Recorded {recorded}; kept because retention label '{label.name or '?'}' {why}."
    return Decision(Action.KEEP, Rule.LABEL.value, reason, None, recorded)


def _counts_for_episode(w: WarningSent, endings: tuple[Ending, ...], start: dt.date | None, zone: ZoneInfo) -> bool:
    """Only warnings sent after the episode's ending was known count (design §2 item 6). An ending is known on
    its date or later (a back-dated revocation is known when it is recorded): a warning counts when it was sent
    after that moment, or, when a moment is not known, on a later day than the ending became known."""
    if start is None:
        return True
    known = [e.known_at for e in endings if e.on == start]
    latest_day = max([start, *(k.astimezone(zone).date() for k in known if k is not None)])
    if w.sent_on > latest_day:
        return True
    if w.sent_on < start or w.sent_at is None or any(k is None for k in known):
        return False
    return all(k is not None and w.sent_at >= k for k in known)


def _describe_episode(endings: tuple[Ending, ...], start: dt.date | None) -> str:
    if start is None:
        return ""
    why = " and ".join(sorted({e.text for e in endings if e.on == start}))
    return f"; new notice period from {start} ({why})"


def _schedule_notice(
    survey: Survey,
    holding: list[Cover],
    policy: PolicyConfig,
    recorded: dt.date,
    today: dt.date,
    episode_start: dt.date | None,
    episode: tuple[WarningSent, ...],
    promises: tuple[WarningSent, ...],
    lead: str,
) -> Decision:
    """No open-ended cover: settle the due date, then warn, delete or wait (design §2 items 5-7).
    ``episode``: the warnings that count for the current notice episode."""
    base = recorded + dt.timedelta(days=policy.retention_days)
    base_term = Term(base, Rule.BASE_DUE, f"{policy.retention_days}-day retention ends {base}")
    due = _settle_due([base_term, *survey.known_ends], episode, promises, policy.minimum_notice_days)
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


def _settle_due(terms: list[Term], episode: tuple[WarningSent, ...], promises: tuple[WarningSent, ...],
                notice_days: int) -> Term:
    """The effective due date: never before full notice from the episode's first warning, never before a
    date the organizer was already given."""
    if episode:
        first = min(w.sent_on for w in episode)
        floor = first + dt.timedelta(days=notice_days)
        terms = [*terms, Term(floor, Rule.NOTICE_FLOOR, f"first warning {first} plus {notice_days} days' notice "
                                                        f"ends {floor}")]
    if promises:
        promised = max(w.announced_due for w in promises)
        terms = [*terms, Term(promised, Rule.PROMISED, f"the organizer was promised {promised}")]
    return _pick_latest(terms)


def _find_unsatisfied_offsets(
    due: dt.date, offsets: tuple[int, ...], episode: tuple[WarningSent, ...]
) -> list[dt.date]:
    """The dates (due - k) of offsets no episode warning satisfies; overdue ones collapse into one warning."""
    dates = (due - dt.timedelta(days=k) for k in offsets)
    return sorted(d for d in dates if not any(w.sent_on >= d for w in episode))


def _pick_latest(terms: list[Term]) -> Term:
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
