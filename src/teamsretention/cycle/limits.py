"""The blast-radius limit (design §3.4) and the admin's override of it, shared by the delete step and by
what ``plan`` says a cycle would do.

Without an override, a cycle whose planned deletions exceed ``policy.max_deletions_per_cycle`` (or
``policy.max_deletion_share`` of the tracked recordings, counted above ``policy.deletion_share_minimum``)
deletes nothing, exit 3. ``run --once --allow-deletions N --reason ... [--actor ...]`` replaces those limits
for one cycle with N: it deletes at most N recordings, the oldest due first; the rest stay due, are reported
and audited, and the cycle exits 3 as well (a limit, the operator's own, held due deletions back), so a
backlog can be let through in batches until a cycle exits 0.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from ..store.control import PauseState

# The other stop on deletions: every one attempted in a cycle refused with 403 is a missing permission, not holds,
# when the token's roles say so, or (with no token to read) from PERMISSION_EVIDENCE refusals on.
PERMISSION_EVIDENCE = 3
DELETE_ROLES = frozenset({"Files.ReadWrite.All", "Sites.ReadWrite.All", "Sites.FullControl.All"})
PERMISSION_HINT = ("every deletion attempted this cycle was refused with 403: that is a missing permission, "
                   "not holds. Grant the app registration the Microsoft Graph application permission "
                   "Files.ReadWrite.All (or Sites.ReadWrite.All) with admin consent.")


class Limits(Protocol):
    """The blast-radius settings (a :class:`~.config.CycleConfig` has them)."""

    @property
    def max_deletions_per_cycle(self) -> int: ...
    @property
    def max_deletion_share(self) -> float: ...
    @property
    def deletion_share_minimum(self) -> int: ...


@dataclass(frozen=True, slots=True)
class DeletionOverride:
    """``--allow-deletions``: at most ``limit`` deletions this cycle, recorded with who and why."""

    limit: int
    actor: str
    reason: str


def limit_reason(planned: int, tracked: int, cfg: Limits) -> str | None:
    """Why the configured limits stop ``planned`` deletions, or None when they allow them."""
    share = planned / max(tracked, 1)
    if planned > cfg.max_deletions_per_cycle:
        return (f"{planned} planned deletions exceed policy.max_deletions_per_cycle = "
                f"{cfg.max_deletions_per_cycle}")
    if planned > cfg.deletion_share_minimum and share > cfg.max_deletion_share:
        return (f"{planned} planned deletions are {share:.0%} of {tracked} tracked recordings, above "
                f"policy.max_deletion_share = {cfg.max_deletion_share:.0%}")
    return None


def stop_message(why: str) -> str:
    """What the cycle says when the configured limits stop its deletions (``why``: :func:`limit_reason`)."""
    return (f"Safety limit: {why}. No deletion at all this cycle; warnings still went out. Raise the limit, or let "
            "them through in batches with `teamsretention run --once --allow-deletions N --reason ...` (at most N, "
            "the oldest due first).")


def held_back_message(override: DeletionOverride, made: int, due: int, left: int, dues: list[dt.date]) -> str:
    """What the cycle says when an ``--allow-deletions`` batch is full: ``made`` of ``due`` deletions went
    through, ``left`` stay due (``dues``: their due dates)."""
    span = f", due {min(dues)} to {max(dues)}" if dues else ""
    return (f"Deletion batch: --allow-deletions {override.limit} (by {override.actor}: {override.reason}) let {made} "
            f"of {due} due deletions through, the oldest due first; {left} stay due{span}. The next cycle applies "
            "the configured limits again; run another batch to let more through.")


@dataclass(frozen=True, slots=True)
class DeletionOutlook:
    """What ``plan`` says about the deletions of the cycle it shows (``at``): how many, whether the limit
    would stop them (and from which projected cycle on), whether deletions are paused."""

    at: dt.date
    planned: int  # deletions the cycle of ``at`` would make (with a stop: would have made)
    stopped_from: dt.date | None  # the first projected cycle the limit stops; every later one stays stopped
    why: str | None  # the limit's reason at that cycle
    pause: PauseState


def deletion_outlook(deletion_days: list[dt.date], *, today: dt.date, at: dt.date, tracked: int,
                     cfg: Limits, pause: PauseState) -> DeletionOutlook:
    """``deletion_days``: the day each recording would be deleted, cycle by cycle from ``today`` to ``at``.
    A cycle the limit stops deletes nothing, so what it would have deleted is still due the next day:
    once stopped, every later cycle is stopped too until an admin acts."""
    per_day = Counter(deletion_days)
    backlog = 0
    stopped_from: dt.date | None = None
    why: str | None = None
    day = today
    while day <= at:
        planned = backlog + per_day.get(day, 0)
        reason = limit_reason(planned, tracked, cfg) if planned else None
        if reason is not None:
            stopped_from = stopped_from or day
            why = reason
            backlog = planned
        else:
            backlog = 0
        if day == at:
            return DeletionOutlook(at, planned, stopped_from, why, pause)
        day += dt.timedelta(days=1)
    return DeletionOutlook(at, 0, None, None, pause)
