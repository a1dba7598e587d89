"""Step 4 of the cycle: deletions (design §3).

The blast-radius limit first; pause checked before every deletion; a fresh re-read of item and label (and
of the store's exemptions) just before each delete, then a delete with If-Match. 423/403 are recorded
with Graph's code and message and retried after growing gaps; 403 on every attempt is a missing
permission and fails the cycle.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select

from .domain import Action, LabelStatus
from .errors import ForbiddenError, GraphError, LockedError, NotFoundError, PreconditionFailed
from .evidence import audit as _audit
from .evidence import outcome_unknown, this_cycle
from .facts import Evaluated, FactIndex, evaluated_from, sent_warnings, stored_decision, to_recording
from .policy import evaluate, recorded_date
from .ports import GraphGateway
from .store import Database
from .store.tables import DriveRow, RecordingRow

if TYPE_CHECKING:
    from .service import CycleConfig, CycleReport

log = structlog.get_logger(__name__)

# Refusals (all 403) in one cycle from which a missing permission is taken for granted.
PERMISSION_EVIDENCE = 3
PERMISSION_HINT = ("every deletion attempted this cycle was refused with 403: that is a missing permission, "
                   "not holds. Grant the app registration the Microsoft Graph application permission "
                   "Files.ReadWrite.All (or Sites.ReadWrite.All) with admin consent.")


class DeleteStep:
    def __init__(self, db: Database, gateway: GraphGateway, config: CycleConfig, clock: Callable[[], dt.datetime],
                 report: CycleReport, stop: asyncio.Event, checkpoint: Callable[[], None] = lambda: None) -> None:
        self.db, self.gateway, self.config, self.clock = db, gateway, config, clock
        self.report, self.stop, self.checkpoint = report, stop, checkpoint

    def _audit(self, event: str, cycle_date: dt.date, row: RecordingRow | None = None, **kw: Any) -> None:
        with self.db.session() as s:
            _audit(s, self.clock, cycle_date, self.report.run_id, event, row, **kw)

    async def run(self, cycle_date: dt.date, allow_deletions: int | None) -> None:
        report = self.report
        due = this_cycle(cycle_date, Action.DELETE)
        with self.db.session() as s:
            drive_names = {d.id: d.name for d in s.scalars(select(DriveRow))}
            ids = list(s.scalars(select(RecordingRow.id).where(due).order_by(RecordingRow.id)))
            waiting = set(s.scalars(select(RecordingRow.id).where(due, RecordingRow.next_attempt_on > cycle_date)))
        candidates = [i for i in ids if i not in waiting]
        report.blocked += len(waiting)
        if not candidates:
            return
        if self._over_limit(len(candidates), cycle_date, allow_deletions):
            return
        attempted = 0
        forbidden: list[int] = []
        for row_id in candidates:
            if self.stop.is_set():  # checkpoint between actions
                return
            self.checkpoint()
            with self.db.session() as s:
                row = s.get(RecordingRow, row_id)
                assert row is not None
                ev = evaluated_from(row, stored_decision(row), drive_names)
            paused, reason = self.db.is_paused()
            if paused:
                self._audit("deletions_paused", cycle_date, reason=f"Deletions are paused: {reason}",
                            pending=len(candidates))
                report.problems.append(f"deletions paused ({reason})")
                return
            outcome = await self._delete_one(ev, cycle_date)
            attempted += outcome != "skipped"
            if outcome == "forbidden":
                forbidden.append(row_id)
        refused_403 = len(forbidden)
        if attempted and refused_403 == attempted:
            report.exit_code = max(report.exit_code, 1)
            report.status = "failed"
            report.problems.append(PERMISSION_HINT)
            self._audit("permission_problem", cycle_date, reason=PERMISSION_HINT, attempted=attempted)
            if attempted >= PERMISSION_EVIDENCE:
                # Not holds after all: once the permission is granted, the next cycle tries them again. With
                # fewer refusals they may well be holds (eDiscovery): those keep their growing gaps.
                with self.db.session() as s:
                    for row in s.scalars(select(RecordingRow).where(RecordingRow.id.in_(forbidden))):
                        row.next_attempt_on, row.blocked_attempts = None, 0

    def _over_limit(self, planned: int, cycle_date: dt.date, allow: int | None) -> bool:
        cfg, report = self.config, self.report
        share = planned / max(report.tracked, 1)
        if allow is not None:
            self._audit("deletion_limit_override", cycle_date, actor="admin",
                        reason=f"--allow-deletions {allow} given for this run ({planned} deletions planned)",
                        planned=planned, allowed=allow)
            too_many, why = planned > allow, f"{planned} planned deletions exceed --allow-deletions {allow}"
        elif planned > cfg.max_deletions_per_cycle:
            too_many, why = True, (f"{planned} planned deletions exceed policy.max_deletions_per_cycle = "
                                   f"{cfg.max_deletions_per_cycle}")
        elif planned > cfg.deletion_share_minimum and share > cfg.max_deletion_share:
            too_many, why = True, (f"{planned} planned deletions are {share:.0%} of {report.tracked} tracked "
                                   f"recordings, above policy.max_deletion_share = {cfg.max_deletion_share:.0%}")
        else:
            return False
        if too_many:
            message = (f"Safety limit: {why}. No deletion at all this cycle; warnings still went out. Raise the "
                       "limit, or run `teamsretention run --once --allow-deletions N` once.")
            self._audit("safety_stop", cycle_date, reason=message, planned=planned, tracked=report.tracked)
            report.status, report.exit_code = "safety_stop", 3
            report.problems.append(message)
        return too_many

    async def _delete_one(self, ev: Evaluated, cycle_date: dt.date) -> str:
        cfg, report = self.config, self.report
        with self.db.session() as s:
            row = s.get(RecordingRow, ev.row_id)
            assert row is not None
        key = f"{row.drive_id}/{row.item_id}"
        log_ = log.bind(run_id=report.run_id, recording_id=key)
        try:
            state = await self.gateway.reread_item(row.drive_id, row.item_id)
        except GraphError as exc:
            self._audit("delete_failed", cycle_date, row, reason=f"Re-read before deletion failed: {exc}")
            report.problems.append(f"re-read of {key} failed: {exc.status} {exc.code}")
            report.exit_code = max(report.exit_code, 1)
            return "skipped"
        if state is None:
            if row.delete_attempted_at is not None:  # our earlier request, whose answer was lost, did it
                self._mark(row.id, cycle_date, "deleted", "deleted", "Deleted by teamsretention: the delete request "
                           f"sent at {row.delete_attempted_at:%Y-%m-%d %H:%M} UTC got no answer, and the file is gone "
                           "now.", ev, mode=row.delete_mode or cfg.delete_mode, when=row.delete_attempted_at)
                return "deleted"
            self._mark(row.id, cycle_date, "gone", "already_gone", "Already gone when teamsretention came to "
                       "delete it (404).", ev)
            return "gone"
        if row.delete_attempted_at is not None:  # still there: an earlier unanswered request did not delete it
            self._set_attempt(row.id, None)
        if not (row.etag and state.etag) or state.etag != row.etag:
            why = ("the file changed since it was evaluated (eTag differs)" if row.etag and state.etag
                   else "Graph gave no eTag to prove the file is the one evaluated")
            self._audit("delete_skipped", cycle_date, row, reason=f"Not deleted: {why}; it will be evaluated "
                        "again next cycle.", etag=state.etag)
            return "skipped"
        # Evaluate again with the fresh label and whatever exemption arrived since (fail closed on errors).
        with self.db.session() as s:
            index = FactIndex.load(s)
            fresh_row = s.get(RecordingRow, row.id)
            assert fresh_row is not None
            warnings = sent_warnings(s, [row.id]).get(row.id, [])
            facts = index.facts_for(fresh_row, warnings, label=state.label)
        decision = evaluate(to_recording(row), facts, cfg.policy, cycle_date)
        if decision.action is not Action.DELETE or decision.needs_label:
            with self.db.session() as s:
                fresh = s.get(RecordingRow, row.id)
                assert fresh is not None
                fresh.action, fresh.rule, fresh.reason, fresh.due = (decision.action.value, decision.rule,
                                                                     decision.reason, decision.due)
                if state.label.status is LabelStatus.PRESENT:
                    fresh.label_name = state.label.name
                _audit(s, self.clock, cycle_date, report.run_id, "decision", fresh, rule=decision.rule,
                       due=decision.due, reason=f"Re-check just before deletion: {decision.reason}",
                       action=decision.action.value)
            return "skipped"
        permanent = cfg.delete_mode == "permanent"
        self._set_attempt(row.id, self.clock(), cfg.delete_mode)
        try:
            # permanentDelete takes no If-Match: the re-read above is its only guard.
            await self.gateway.delete_item(row.drive_id, row.item_id, None if permanent else state.etag, permanent)
        except NotFoundError:
            self._mark(row.id, cycle_date, "gone", "already_gone", "Already gone (404 on delete).", ev)
            return "gone"
        except (LockedError, ForbiddenError) as exc:
            self._blocked(row.id, cycle_date, exc, ev)
            return "forbidden" if isinstance(exc, ForbiddenError) else "locked"
        except PreconditionFailed:
            self._set_attempt(row.id, None)
            self._audit("delete_skipped", cycle_date, row, reason="The file changed just before deletion (412); "
                        "it will be evaluated again next cycle.")
            return "skipped"
        except GraphError as exc:
            unknown = outcome_unknown(exc)
            if not unknown:
                self._set_attempt(row.id, None)
            self._audit("delete_outcome_unknown" if unknown else "delete_failed", cycle_date, row,
                        rule=ev.decision.rule, reason=f"Deletion failed: {exc}" + (
                            "; Graph may have carried it out: the next inventory will tell" if unknown else ""))
            report.problems.append(f"deletion of {key} failed: {exc.status} {exc.code}")
            report.exit_code = max(report.exit_code, 1)
            return "failed"
        where = ("permanently (no recycle bin)" if permanent else
                 f"to the recycle bin (restorable for {cfg.restore_window_days} days)")
        self._mark(row.id, cycle_date, "deleted", "deleted", f"Deleted {where}. {decision.reason}", ev,
                   mode=cfg.delete_mode)
        report.deleted += 1
        log_.info("recording.deleted", rule=decision.rule, due=str(decision.due))
        return "deleted"

    def _set_attempt(self, row_id: int, when: dt.datetime | None, mode: str | None = None) -> None:
        """Mark (or clear) a delete request in flight; the mode is kept for a receipt if its answer is lost."""
        with self.db.session() as s:
            row = s.get(RecordingRow, row_id)
            assert row is not None
            row.delete_attempted_at = when
            if when is not None:
                row.delete_mode = mode

    def _mark(self, row_id: int, cycle_date: dt.date, state: str, event: str, reason: str, ev: Evaluated,
              mode: str | None = None, when: dt.datetime | None = None) -> None:
        with self.db.session() as s:  # the state change and its evidence in one transaction
            row = s.get(RecordingRow, row_id)
            assert row is not None
            row.state, row.delete_attempted_at = state, None
            if state == "deleted":
                deleted_at = when or self.clock()
                row.deleted_at, row.delete_mode = deleted_at, mode
                row.deleted_on = recorded_date(deleted_at, self.config.policy.timezone) if when else cycle_date
                row.deletion_reported = False
                row.blocked_code = row.blocked_message = None
                row.blocked_attempts, row.next_attempt_on = 0, None
            _audit(s, self.clock, cycle_date, self.report.run_id, event, row, rule=ev.decision.rule,
                   due=ev.decision.due, reason=reason, delete_mode=mode)

    def _blocked(self, row_id: int, cycle_date: dt.date, exc: GraphError, ev: Evaluated) -> None:
        gaps = self.config.blocked_retry_days or (1,)
        with self.db.session() as s:
            row = s.get(RecordingRow, row_id)
            assert row is not None
            row.delete_attempted_at = None
            row.blocked_attempts = (row.blocked_attempts or 0) + 1
            gap = gaps[min(row.blocked_attempts - 1, len(gaps) - 1)]
            row.next_attempt_on = cycle_date + dt.timedelta(days=gap)
            row.blocked_code, row.blocked_message = exc.code or str(exc.status), exc.message
            _audit(s, self.clock, cycle_date, self.report.run_id, "delete_blocked", row, rule=ev.decision.rule,
                   due=ev.decision.due, reason=f"Deletion refused by Microsoft 365 ({exc.status} {exc.code}: "
                   f"{exc.message}); next attempt on {row.next_attempt_on}.", status=exc.status, code=exc.code,
                   attempts=row.blocked_attempts)
        self.report.blocked += 1
