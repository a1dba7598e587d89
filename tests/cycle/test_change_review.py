"""When a decision is taken again (policy.review): never later than the first day the policy could decide
otherwise, so a recording not evaluated on a day is one whose decision that day would have been the same."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from teamsretention.domain import (
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
    RecordingRef,
    RetentionLabel,
    WarningSent,
)
from teamsretention.policy import evaluate
from teamsretention.policy.review import MARGIN, NEVER, review_on

TZ = ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2026, 5, 4)


def _recording(recorded: dt.date) -> Recording:
    created = dt.datetime.combine(recorded, dt.time(10), TZ).astimezone(dt.UTC)
    return Recording(ref=RecordingRef("d", "i"), name="Sync.mp4", created_at=created)


def _day(rng: random.Random, around: dt.date, spread: int = 60) -> dt.date:
    return around + dt.timedelta(days=rng.randint(-spread, spread))


def _facts(rng: random.Random, recorded: dt.date) -> Facts:
    warnings = tuple(WarningSent(sent_on=s, announced_due=s + dt.timedelta(days=rng.choice((1, 7, 9))))
                     for s in sorted({_day(rng, TODAY - dt.timedelta(days=15), 14) for _ in range(rng.randint(0, 2))})
                     if s < TODAY)
    tags = tuple(AssignmentTag(
        assignment_id=f"a{n}", assignment_name="Case", active=(closed := rng.random() < 0.5),
        tagged_on=_day(rng, recorded, 20),
        closed_on=None if closed else _day(rng, TODAY), untagged_on=_day(rng, TODAY) if rng.random() < 0.2 else None)
        for n in range(rng.choice((0, 0, 1, 2))))
    exemptions = []
    for n in range(rng.choice((0, 0, 1, 2))):
        status = rng.choice(list(ExemptionStatus))
        decided = status is not ExemptionStatus.PENDING
        exemptions.append(Exemption(
            id=f"e{n}", kind=rng.choice(list(ExemptionKind)), status=status, requested_on=_day(rng, TODAY, 30),
            decided_on=_day(rng, TODAY, 30) if decided else None,
            valid_until=_day(rng, TODAY) if rng.random() < 0.6 else None,
            review_on=_day(rng, TODAY) if rng.random() < 0.3 else None,
            revoked_on=_day(rng, TODAY, 30) if status is ExemptionStatus.REVOKED else None))
    restored = tuple(sorted({_day(rng, TODAY, 20)})) if rng.random() < 0.15 else ()
    label = RetentionLabel(status=LabelStatus.NONE) if rng.random() < 0.5 else RetentionLabel()
    return Facts(label=label, assignments=tags, exemptions=tuple(exemptions), warnings=warnings,
                 restored_on=restored)


def _same(a: Decision, b: Decision) -> bool:
    return (a.action, a.rule, a.due, a.episode_start, a.needs_label) == (b.action, b.rule, b.due, b.episode_start,
                                                                          b.needs_label)


@pytest.mark.parametrize("policy", [PolicyConfig(), PolicyConfig(retention_days=60, warning_days=(14, 3),
                                                                 minimum_notice_days=10,
                                                                 pending_request_grace_days=5,
                                                                 assignment_max_days=40)])
def test_no_decision_changes_before_its_review_date(policy):
    """Thousands of random recordings and facts: on every day before the review date the policy decides
    exactly as it did (same action, rule, due date and notice episode): skipping them changes nothing."""
    rng = random.Random(20261202)
    checked = 0
    for _ in range(3000):
        recorded = _day(rng, TODAY - dt.timedelta(days=20), 40)
        rec, facts = _recording(recorded), _facts(rng, recorded)
        decision = evaluate(rec, facts, policy, TODAY)
        review = review_on(rec.created_at, facts, policy, TODAY, decision)
        if review <= TODAY:
            continue
        checked += 1
        last = min(review, TODAY + dt.timedelta(days=500))
        for n in range(1, (last - TODAY).days):
            day = TODAY + dt.timedelta(days=n)
            assert _same(evaluate(rec, facts, policy, day), decision), (facts, decision, day, review)
    assert checked > 500  # the check covered many decisions that are skipped for a while


def test_acting_failing_closed_and_label_decisions_are_taken_again_every_cycle():
    recorded = TODAY - dt.timedelta(days=40)
    rec, policy = _recording(recorded), PolicyConfig()
    warn = evaluate(rec, Facts(label=RetentionLabel(status=LabelStatus.NONE)), policy, TODAY)
    assert warn.action is Action.WARN
    assert review_on(rec.created_at, Facts(), policy, TODAY, warn) <= TODAY
    closed = evaluate(rec, Facts(unknown=frozenset({"inventory"})), policy, TODAY)
    assert closed.is_fail_closed and review_on(rec.created_at, Facts(), policy, TODAY, closed) <= TODAY
    held = RetentionLabel(status=LabelStatus.PRESENT, name="Keep", behavior="retain")
    kept = evaluate(rec, Facts(label=held), policy, TODAY)
    assert kept.rule == "label" and review_on(rec.created_at, Facts(label=held), policy, TODAY, kept) <= TODAY


def test_a_young_recording_is_reviewed_before_its_first_warning_with_a_margin():
    policy = PolicyConfig()  # 30 days, warnings 7 and 1 days ahead, 7 days' notice
    rec = _recording(TODAY)
    decision = evaluate(rec, Facts(), policy, TODAY)
    first_warning = TODAY + dt.timedelta(days=30 - 7)
    assert review_on(rec.created_at, Facts(), policy, TODAY, decision) == first_warning - dt.timedelta(days=MARGIN)


def test_a_legal_hold_without_dates_is_never_reviewed_by_time():
    recorded = TODAY - dt.timedelta(days=200)
    hold = Exemption(id="h", kind=ExemptionKind.LEGAL_HOLD, status=ExemptionStatus.APPROVED,
                     requested_on=recorded, decided_on=recorded)
    rec, facts = _recording(recorded), Facts(exemptions=(hold,))
    decision = evaluate(rec, facts, PolicyConfig(), TODAY)
    assert decision.rule == "legal_hold"
    assert review_on(rec.created_at, facts, PolicyConfig(), TODAY, decision) == NEVER
