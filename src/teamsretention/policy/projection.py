"""``plan --at T``: what the policy will decide on a later day, assuming every warning due before then
goes out on schedule. Pure: it replays the policy one day at a time with hypothetical warnings (a day on which a
cover recorded later already exists keeps the recording, as the cycle of that day would: ``policy.later``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from ..domain import Action, Decision, Facts, PolicyConfig, Recording, WarningSent
from .later import hold_for_later_covers
from .retention import evaluate


def project(recording: Recording, facts: Facts, policy: PolicyConfig, start: dt.date,
            until: dt.date) -> tuple[Decision, dt.date | None]:
    """The decision on ``until`` and, when the recording would be deleted on or before it, that date."""
    warnings = list(facts.warnings)
    day = start
    decision = hold_for_later_covers(evaluate(recording, facts, policy, day), facts, day)
    while True:
        if decision.action is Action.DELETE:
            return decision, day
        if decision.action is Action.WARN:
            warnings.append(WarningSent(sent_on=day, announced_due=decision.due or day))
        if day >= until:
            return decision, None
        day += dt.timedelta(days=1)
        decision = hold_for_later_covers(evaluate(recording, replace(facts, warnings=tuple(warnings)), policy, day),
                                         facts, day)
