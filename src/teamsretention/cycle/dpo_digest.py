"""The weekly DPO digest: pending requests with their age, legal holds due for review, decisions that were
ignored and why, exceptions ending in the next 30 days.

Sent once per ISO week by the first enforcing cycle on or after ``notifications.dpo_digest_weekday``, to
``notifications.dpo_digest_to``, else the mailboxes of ``approvers.dpo``. Like the organizers' digests it is
recorded as intended before it is sent and never sent twice for its week; a send whose outcome is unknown
stays intended (not repeated), a definite refusal may be tried again by the next cycle of the week.
"""

from __future__ import annotations

import datetime as dt

from ..domain import ExemptionKind, ExemptionStatus
from ..errors import GraphError
from ..notify.dpo_digest import DpoDigest, DpoEntry, IgnoredDecision, render_dpo_digest
from ..policy.approval import Role
from ..policy.covers import grace_start
from ..store import audit
from ..store import directory as sync_store
from ..store import exemptions as store
from ..store.audit import AuditKind
from ..store.exemptions import StoredExemption
from .config import CycleContext
from .request_list import list_url
from .roles import cycle_roles

REVIEW_AHEAD = dt.timedelta(days=7)  # holds whose review date is this close are listed
ENDING_AHEAD = dt.timedelta(days=30)
LAST_SENT_KEY = "dpo_digest_last_sent"
_DONE = ("intended", "sent")


def week_key(day: dt.date) -> str:
    iso = day.isocalendar()
    return f"dpo_digest:{iso.year}-W{iso.week:02d}"


def _entry(e: StoredExemption, on: dt.date | None) -> DpoEntry:
    return DpoEntry(e.id, e.kind.value, e.describe_target(), e.requested_by, e.requested_on, e.reason,
                    e.legal_basis, e.source, on)


def build(ctx: CycleContext, since: dt.datetime | None) -> DpoDigest:
    day, grace = ctx.cycle_date, dt.timedelta(days=ctx.config.policy.pending_request_grace_days)
    known = store.list_all(ctx.db)
    # a request's grace counts from the first request for its target since one was approved (covers.grace_start)
    pending = [_entry(e, grace_start(e, known, day) + grace) for e in known if e.status is ExemptionStatus.PENDING]
    approved = [e for e in known if e.status is ExemptionStatus.APPROVED]
    review = [_entry(e, e.review_on) for e in approved if e.kind is ExemptionKind.LEGAL_HOLD
              and e.review_on is not None and e.review_on <= day + REVIEW_AHEAD]
    ending = [_entry(e, e.valid_until) for e in approved if e.kind is ExemptionKind.EXCEPTION
              and e.valid_until is not None and day <= e.valid_until <= day + ENDING_AHEAD]
    ignored = [IgnoredDecision(a.at, a.actor, a.reason)
               for kind in (AuditKind.DECISION_IGNORED, AuditKind.LIST_ITEM_DELETED)
               for a in audit.entries(ctx.db, kind=kind) if since is None or a.at > since]
    return DpoDigest(day, pending, sorted(review, key=lambda e: e.on or day), sorted(ignored, key=lambda i: i.at),
                     sorted(ending, key=lambda e: e.on or day), list_url(ctx))


class DpoDigestStep:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx

    async def run(self) -> None:
        """Only enforcing cycles call this (a dry run sends no mail)."""
        ctx, cfg, day = self.ctx, self.ctx.config, self.ctx.cycle_date
        key = week_key(day)
        if day.weekday() < cfg.dpo_digest_weekday or sync_store.sync_state(ctx.db, key) in _DONE:
            return
        last = sync_store.sync_state(ctx.db, LAST_SENT_KEY)
        digest = build(ctx, dt.datetime.fromisoformat(last) if last else None)
        if digest.empty:
            return
        roles = cycle_roles(ctx)
        to = list(cfg.dpo_digest_to) or await roles.addresses(Role.DPO)
        counts = {"pending": len(digest.pending), "review": len(digest.review), "ignored": len(digest.ignored),
                  "ending": len(digest.ending)}
        if not to or not cfg.sender:
            problem = ("the DPO digest has nobody to go to: set notifications.dpo_digest_to, or approvers.dpo to "
                       "users with a mailbox" if not to else "notifications.sender is not set: no DPO digest")
            ctx.report.add_problem(problem)
            failed = ctx.event(AuditKind.DPO_DIGEST_FAILED, None, reason=problem, **counts)
            store.record_digest_state(ctx.db, key, "failed", [failed])
            return
        mail = render_dpo_digest(digest, to=to, language=cfg.language)
        intended = ctx.event(AuditKind.DPO_DIGEST_INTENDED, None, reason=f"weekly DPO digest to {', '.join(to)}",
                             recipient=to, **counts)
        store.record_digest_state(ctx.db, key, "intended", [intended])
        try:
            await ctx.gateway.send_mail(cfg.sender, mail)
        except GraphError as exc:
            error = f"{exc.status} {exc.code}: {exc.message}"
            if exc.outcome_unknown:
                ctx.report.add_problem(f"DPO digest to {', '.join(to)}: outcome unknown ({error}); not resent")
                return
            ctx.report.add_problem(f"DPO digest to {', '.join(to)} failed: {error}; the next cycle tries again")
            failed = ctx.event(AuditKind.DPO_DIGEST_FAILED, None, reason=error, recipient=to, **counts)
            store.record_digest_state(ctx.db, key, "failed", [failed])
            return
        now = ctx.clock()
        sync_store.set_sync_state(ctx.db, LAST_SENT_KEY, now.isoformat())
        sent = ctx.event(AuditKind.DPO_DIGEST_SENT, None, reason=f"weekly DPO digest sent to {', '.join(to)}",
                         recipient=to, **counts)
        store.record_digest_state(ctx.db, key, "sent", [sent])
        if ctx.report.keep_mails:
            ctx.report.mails.append(mail)
        ctx.report.problems += [p for p in roles.problems if p not in ctx.report.problems]
