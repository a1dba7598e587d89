"""Covers recorded after the day being decided (pure).

:func:`~.retention.evaluate` decides as of one day, and a cover dated later does not count yet: that is what
lets it reason about a timeline. A live cycle, though, can still be running after midnight: a long cycle, one
that waited for the lock, ``run --once`` started late. A legal hold, an exemption request or its approval, or an
assignment tag recorded then is dated the next day. It exists, and whoever recorded it meant to keep the
recording. :func:`hold_for_later_covers` makes sure no warning or deletion goes ahead over it: the recording is
kept (fail closed), and the next cycle, whose date has caught up, applies the cover itself.

Only starts are looked at. An end dated later (a revocation, a closing, an untagging, a rejection) has not
happened yet as far as the cycle's date goes, so the cover still holds: the safe side already.
"""

from __future__ import annotations

import datetime as dt

from ..domain import Action, Decision, Facts, Rule
from .covers import APPROVED

__all__ = ["LATER_COVER", "hold_for_later_covers", "later_covers"]

LATER_COVER = f"{Rule.FAIL_CLOSED.value}:later_cover"


def later_covers(facts: Facts, today: dt.date) -> list[str]:
    """What in ``facts`` starts to keep the recording after ``today``, each said in a few words."""
    found = []
    for e in facts.exemptions:
        kind = e.kind.value.replace("_", " ")
        approved_later = e.status in APPROVED and e.decided_on is not None and e.decided_on > today
        if e.requested_on > today and approved_later:
            found.append(f"{kind} {e.id} (requested {e.requested_on}, approved {e.decided_on})")
        elif e.requested_on > today:
            found.append(f"{kind} request {e.id} of {e.requested_on}")
        elif approved_later:
            found.append(f"the approval of {kind} {e.id} on {e.decided_on}")
    for tag in facts.assignments:
        if tag.tagged_on > today:
            found.append(f"the tag to assignment '{tag.assignment_name}' of {tag.tagged_on}")
    return found


def hold_for_later_covers(decision: Decision, facts: Facts, today: dt.date) -> Decision:
    """``decision`` (taken on ``today`` with ``facts``), or, when it would warn or delete while a cover recorded
    after ``today`` exists, a fail-closed keep that names it."""
    if decision.action is Action.KEEP:
        return decision
    later = later_covers(facts, today)
    if not later:
        return decision
    what = "; ".join(later)
    verb, pronoun = ("was", "it") if len(later) == 1 else ("were", "them")
    reason = (f"Recorded {decision.recorded_on}; kept without warning or deleting because {what} {verb} recorded "
              f"after the day of this cycle ({today}) had ended; the next cycle applies {pronoun} (fail closed).")
    return Decision(Action.KEEP, LATER_COVER, reason, None, decision.recorded_on)
