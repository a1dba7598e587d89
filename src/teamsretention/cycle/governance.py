"""The governance step: what may keep a recording, brought up to date before the cycle evaluates.

In order, after the inventory (so recordings found today can be tagged) and before evaluation:

1. the Assignments list (``assignment_list``): assignments created, closed or reopened there;
2. the Retention requests list (``request_list``): requests, decisions (identity from version history),
   tag requests;
3. tag rules (``assignment_list.apply_tag_rules``): codes found in recordings' names;
4. expiry (``request_list.expire``): approved exceptions past their end become ``expired``; first, once per
   list, the end dates an earlier release read a day early are corrected (``list_dates``).

A list that cannot be read keeps what the store holds (the store is the record) and is reported: it never
revokes, closes or untags anything.
"""

from __future__ import annotations

from ..domain import RunMode
from . import list_dates, request_list
from .assignment_list import AssignmentSync
from .config import CycleContext


class GovernanceStep:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx

    async def run(self, mode: RunMode) -> None:
        """Each part is filled in by its own module; the order above is the contract."""
        began = self.ctx.clock()
        await AssignmentSync(self.ctx).run(mode)  # 1 and 3: the Assignments list, then the tag rules
        await request_list.RequestListSync(self.ctx).run(mode)  # 2: the Retention requests list
        await list_dates.correct_early_dates(self.ctx, mode, began)  # before 4 reads the end dates
        request_list.expire(self.ctx, mode)  # 4: approved exceptions past their end
