"""When a decision must be taken again (pure): the first day on which :func:`~.retention.evaluate` could
decide otherwise by the passing of time alone, the facts staying as they are.

The policy compares ``today`` only with dates it finds in the recording, the facts and the policy: the
recorded date plus the retention, the due date and its warning offsets, the dates of exemptions (requested,
decided, valid until, revoked, reviewed, the end of a request's grace), of assignment tags (tagged, closed,
untagged, the cap), of reappearances and of enforcement switched back on. Every such date still to come is a
day the decision may change; it is reviewed ``lead`` days before the earliest of them (the largest warning
offset or the minimum notice, whichever is longer, plus :data:`MARGIN`), so a warning is never late and a
drive with work coming is read daily ahead of it. A decision that acts (warn, delete), fails closed, rests on
a label (read only when acting) or needs its label is reviewed every cycle: :func:`review_on` then returns
the recording's own date, which is always in the past.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ..domain import Action, Decision, Facts, PolicyConfig, Rule, local_date
from .covers import grace_start

__all__ = ["MARGIN", "NEVER", "review_on"]

MARGIN = 2  # days of review ahead of the lead: a conservative cushion
NEVER = dt.date(9999, 12, 31)  # nothing in the facts changes by time (a legal hold with no date): never by time


def review_on(created_at: dt.datetime, facts: Facts, policy: PolicyConfig, today: dt.date,
              decision: Decision) -> dt.date:
    """The first cycle date on which ``decision`` (taken on ``today`` with ``facts``) must be taken again."""
    recorded = local_date(created_at, policy.timezone)
    every_cycle = recorded if recorded <= today else today  # a past date: due at every cycle
    if (decision.action is not Action.KEEP or decision.needs_label or decision.is_fail_closed
            or decision.rule == Rule.LABEL.value):
        return every_cycle
    lead = dt.timedelta(days=max(max(policy.warning_days, default=0), policy.minimum_notice_days) + MARGIN)
    if decision.due is not None and decision.due - lead <= today:
        return every_cycle  # its warnings or its deletion are near: every cycle until then
    coming = [day for day in _dates(recorded, facts, policy, decision) if day > today]
    return min(coming) - lead if coming else NEVER


def _dates(recorded: dt.date, facts: Facts, policy: PolicyConfig, decision: Decision) -> Iterator[dt.date]:
    """Every date the policy may compare ``today`` with for this recording (a superset is harmless)."""
    yield recorded + dt.timedelta(days=policy.retention_days)
    if decision.due is not None:
        yield decision.due
    yield from facts.restored_on
    yield from (w.sent_on for w in facts.warnings)
    if facts.enforced_since is not None:
        yield local_date(facts.enforced_since, policy.timezone)
    cap = recorded + dt.timedelta(days=policy.assignment_max_days)
    for tag in facts.assignments:
        yield from (d for d in (tag.tagged_on, tag.closed_on, tag.untagged_on, cap) if d is not None)
    grace = dt.timedelta(days=policy.pending_request_grace_days)
    for e in facts.exemptions:
        # the grace may count from an earlier request for the same target (covers.grace_start): as of its own
        # day and of any day after, both ends are listed
        chained = grace_start(e, facts.exemptions, dt.date.max, recorded=recorded,
                              grace_days=policy.pending_request_grace_days) + grace
        yield from (d for d in (e.requested_on, e.requested_on + grace, chained, e.decided_on, e.valid_until,
                                e.revoked_on, e.review_on) if d is not None)
