"""The cycle's evidence step: when the evidence of a deleted recording has been kept for
``evidence.keep_years``, its personal data is removed from the store (``store.evidence``).

It is the tool's own data, not the tenant's: it runs in every enforcing and dry-run cycle alike; ``plan``
only reports what would be pruned.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import structlog

from ..domain import RunMode
from ..store import evidence
from .config import CycleContext

log = structlog.get_logger(__name__)


class EvidenceStep:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx

    def run(self, mode: RunMode) -> evidence.Pruned:
        ctx = self.ctx
        cutoff = evidence.cutoff_date(ctx.cycle_date, ctx.config.keep_years)
        moment = dt.datetime.combine(cutoff, dt.time(), tzinfo=ZoneInfo(ctx.config.policy.timezone))
        if mode is RunMode.PLAN:
            result = evidence.due(ctx.db, cutoff=cutoff, cutoff_moment=moment)
        else:
            result = evidence.prune(ctx.db, cutoff=cutoff, cutoff_moment=moment, at=ctx.clock(),
                                    cycle_date=ctx.cycle_date, run_id=ctx.run_id)
            if result.recordings:
                ctx.db.compact()
                log.info("evidence.pruned", cutoff=cutoff.isoformat(), **result.counts())
        ctx.report.evidence = result
        return result
