"""Step 4 of the cycle: deletions (design §3).

The blast-radius limit first; pause checked before every deletion; a fresh re-read of item and label (and
of the store's tags and exemptions that may cover it) just before each delete, then a delete with If-Match.
423/403 are recorded with Graph's code and message and retried after growing gaps; 403 on every attempt is
a missing permission and fails the cycle.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import StrEnum
from typing import Any

import structlog

from ..domain import Action, LabelStatus, RecordingState, local_date
from ..errors import ForbiddenError, GraphError, LockedError, NotFoundError, PreconditionFailed
from ..policy import evaluate
from ..policy.later import hold_for_later_covers
from ..ports import LabelRead
from ..store import audit, control, digests, recordings
from ..store.audit import AuditKind
from ..store.recordings import StoredRecording
from . import limits
from .config import CycleContext
from .facts import FactIndex, stored_decision
from .limits import DELETE_ROLES, PERMISSION_EVIDENCE, PERMISSION_HINT, DeletionOverride, limit_reason
from .outcome import DeletionBlocked, DeletionDone
from .recheck import Parents, parents_of, recheck, reread_one

log = structlog.get_logger(__name__)

READ_AHEAD = 20  # deletions whose recordings are read from the store at once (their Graph reads go one by one)
# A DELETE refused with 429 (before Graph processed it) is sent again after a fresh read, at most this often.
THROTTLED_RESENDS = 3


class Outcome(StrEnum):
    DELETED = "deleted"
    GONE = "gone"
    SKIPPED = "skipped"  # not attempted: the re-read or the re-evaluation said no
    FORBIDDEN = "forbidden"
    LOCKED = "locked"
    FAILED = "failed"
    THROTTLED = "throttled"  # refused with 429 before it was processed: read it again, then send it again


class DeleteStep:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self._facts: FactIndex | None = None  # loaded once, at the first re-check; refreshed per recording
        self._parents: Parents = {}  # the stored parent folder of the last fresh read

    def _index(self) -> FactIndex:
        if self._facts is None:
            self._facts = FactIndex.load(self.ctx.db)
        return self._facts

    def _audit(self, kind: AuditKind, rec: StoredRecording | None = None, **kw: Any) -> None:
        audit.append(self.ctx.db, self.ctx.event(kind, rec, **kw))

    async def run(self, override: DeletionOverride | None) -> None:
        report, day = self.ctx.report, self.ctx.cycle_date
        due = recordings.due_deletions(self.ctx.db, day)  # ids and dates: the recordings are read 20 at a time
        waiting = {r.id for r in due if r.next_attempt_on is not None and r.next_attempt_on > day}
        # The oldest due first: a batch (--allow-deletions) lets the longest-overdue recordings go first.
        candidates = [r.id for r in sorted(due, key=lambda r: (r.due or day, r.recorded_on, r.id))
                      if r.id not in waiting]
        del due
        report.blocked += len(waiting)
        if override is not None:
            self._audit(AuditKind.DELETION_LIMIT_OVERRIDE, actor=override.actor,
                        reason=f"--allow-deletions {override.limit}: {override.reason} ({len(candidates)} deletions "
                        "planned; at most that many are made this cycle, the oldest due first)",
                        planned=len(candidates), allowed=override.limit)
        self._report_waiting(recordings.get_many(self.ctx.db, waiting))
        if not candidates:
            return
        if override is None and self._over_limit(len(candidates)):
            return
        attempted = 0
        forbidden: list[int] = []
        deleted_before = report.deleted
        ahead: dict[int, StoredRecording] = {}
        for position, rec_id in enumerate(candidates):
            if self.ctx.stop.is_set():  # checkpoint between actions
                return
            if override is not None and report.deleted - deleted_before >= override.limit:
                self._hold_back(override, candidates, candidates[position:], report.deleted - deleted_before)
                break
            self.ctx.checkpoint()
            if rec_id not in ahead:
                room = None if override is None else override.limit - (report.deleted - deleted_before)
                ids = candidates[position:position + min(READ_AHEAD, room or READ_AHEAD)]
                ahead = {rec.id: rec for rec in recordings.get_many(self.ctx.db, ids)}
            rec = ahead.pop(rec_id)
            for resend in range(THROTTLED_RESENDS + 1):
                if self.ctx.stop.is_set() or self._paused(len(candidates) - position):  # no read then
                    return
                read = await self._read_fresh(rec)  # after a 429: the client-wide pause has passed by now
                if self.ctx.stop.is_set() or self._paused(len(candidates) - position):  # a read may wait long
                    return
                outcome = await self._delete_one(rec, read, resend_throttled=resend < THROTTLED_RESENDS)
                if outcome is not Outcome.THROTTLED:
                    break
            attempted += outcome is not Outcome.SKIPPED
            if outcome is Outcome.FORBIDDEN:
                forbidden.append(rec_id)
        if attempted and len(forbidden) == attempted and await self._permission_missing(attempted):
            report.mark_failed(PERMISSION_HINT)
            self._audit(AuditKind.PERMISSION_PROBLEM, reason=PERMISSION_HINT, attempted=attempted)
            # Not holds after all: once the permission is granted, the next cycle tries them again.
            recordings.save(self.ctx.db, [dataclasses.replace(r, next_attempt_on=None, blocked_attempts=0)
                                          for r in recordings.get_many(self.ctx.db, forbidden)])

    def _paused(self, pending: int) -> bool:
        pause = control.pause_state(self.ctx.db)
        if pause.paused:
            self._audit(AuditKind.DELETIONS_PAUSED, reason=f"Deletions are paused: {pause.reason}", pending=pending)
            self.ctx.report.problems.append(f"deletions paused ({pause.reason})")
        return pause.paused

    async def _permission_missing(self, refused: int) -> bool:
        """Every deletion refused with 403 is what a missing Files.ReadWrite.All looks like, but a genuine
        eDiscovery hold answers 403 too, and no label shows it. The token's roles claim tells which; without a
        token to read, only PERMISSION_EVIDENCE refusals or more are taken for a missing permission, fewer stay
        blocked (holds), retried with growing gaps."""
        roles = await self.ctx.gateway.granted_roles()
        if roles is not None:
            return not roles & DELETE_ROLES
        return refused >= PERMISSION_EVIDENCE

    def _over_limit(self, planned: int) -> bool:
        report = self.ctx.report
        why = limit_reason(planned, report.tracked, self.config)
        if why is None:
            return False
        message = limits.stop_message(why)
        self._audit(AuditKind.SAFETY_STOP, reason=message, planned=planned, tracked=report.tracked)
        report.mark_safety_stop(message)
        return True

    def _hold_back(self, override: DeletionOverride, candidates: list[int], rest: list[int], made: int) -> None:
        """The batch is full: what is left stays due (its decision stands) for a later cycle."""
        report = self.ctx.report
        held = recordings.get_many(self.ctx.db, rest)
        message = limits.held_back_message(override, made, len(candidates), len(rest), [r.due for r in held if r.due])
        self._audit(AuditKind.DELETIONS_HELD_BACK, actor=override.actor, reason=message, allowed=override.limit,
                    deleted=made, held_back=len(rest), recordings=[r.ref.key for r in held])
        report.held_back += len(rest)
        report.mark_safety_stop(message)

    async def _read_fresh(self, rec: StoredRecording) -> LabelRead:
        """The item and its label read afresh, alone, just before its DELETE. Graph documents no eTag change for
        a retention label, so the If-Match on the DELETE (412 for a file changed since) may not refuse one
        labelled since it was read: the read has to be the last thing before the DELETE, not one of a batch
        read while the deletions before it went out and throttling waits grew between them."""
        read = await reread_one(self.ctx, rec)
        self._parents = parents_of(self.ctx, [rec], [read])  # the stored parent of this read
        return read

    async def _delete_one(self, rec: StoredRecording, state: LabelRead, *, resend_throttled: bool = False) -> Outcome:
        cfg, report, db = self.config, self.ctx.report, self.ctx.db
        planned = stored_decision(rec)
        key = rec.ref.key
        if isinstance(state, GraphError):
            self._audit(AuditKind.DELETE_FAILED, rec, reason=f"Re-read before deletion failed: {state}")
            report.add_problem(f"re-read of {key} failed: {state.status} {state.code}")
            return Outcome.SKIPPED
        if state is None:
            if rec.delete_attempted_at is not None:  # our earlier request, whose answer was lost, did it
                self._mark_deleted(rec, "Deleted by teamsretention: the delete request sent at "
                                   f"{rec.delete_attempted_at:%Y-%m-%d %H:%M} UTC got no answer, and the file is "
                                   "gone now.", mode=rec.delete_mode or cfg.delete_mode, when=rec.delete_attempted_at)
                return Outcome.DELETED
            self._mark_gone(rec, "Already gone when teamsretention came to delete it (404).")
            return Outcome.GONE
        if rec.delete_attempted_at is not None:
            # An unsettled request of ours, and the file is here: never deleted, or deleted and restored. The
            # cautious reading (a new notice episode) wins; nothing is deleted this cycle.
            await self._settle(rec, immediate=False)
            return Outcome.SKIPPED
        if not (rec.etag and state.etag) or state.etag != rec.etag:
            why = ("the file changed since it was evaluated (eTag differs)" if rec.etag and state.etag
                   else "Graph gave no eTag to prove the file is the one evaluated")
            self._audit(AuditKind.DELETE_SKIPPED, rec, reason=f"Not deleted: {why}; it will be evaluated again "
                        "next cycle.", etag=state.etag)
            return Outcome.SKIPPED
        # Seen afresh, is it still a Teams recording? (A renamed Recordings folder is not in the delta feed.)
        check = await recheck(self.ctx, rec, state, parents=self._parents)
        if not check.recognised:
            if check.event is not None:
                recordings.save(db, [check.recording], events=[check.event])
            else:
                self._audit(AuditKind.DELETE_SKIPPED, rec, reason="Not deleted: the re-read did not say where the "
                            "file is, so it could not be recognised again; it will be looked at again next cycle.")
            return Outcome.SKIPPED
        # Evaluate again with the fresh label and whatever exemption arrived since (fail closed on errors).
        facts = self._index().refreshed(db, rec).facts_for(rec, digests.sent_warnings(db, [rec.id]).get(rec.id, []),
                                                           label=state.label)
        # A hold or tag recorded after midnight (this cycle may run late) is dated tomorrow: it keeps the file too.
        decision = hold_for_later_covers(evaluate(rec.recording(), facts, cfg.policy, self.ctx.cycle_date), facts,
                                         self.ctx.cycle_date)
        if decision.action is not Action.DELETE or decision.needs_label:
            fresh = dataclasses.replace(rec, action=decision.action, rule=decision.rule, reason=decision.reason,
                                        due=decision.due)
            if state.label.status is LabelStatus.PRESENT:
                fresh = dataclasses.replace(fresh, label_name=state.label.name)
            report.redecided((planned.action.value, planned.rule), (decision.action.value, decision.rule))
            recordings.save(db, [fresh], events=[self.ctx.event(
                AuditKind.DECISION, fresh, rule=decision.rule, due=decision.due,
                reason=f"Re-check just before deletion: {decision.reason}", action=decision.action.value)])
            return Outcome.SKIPPED
        permanent = cfg.delete_mode == "permanent"
        rec = self._set_attempt(rec, self.ctx.clock(), cfg.delete_mode)
        try:
            # permanentDelete takes no If-Match: the re-read above is its only guard.
            await self.ctx.gateway.delete_item(rec.drive_id, rec.item_id, None if permanent else state.etag,
                                               permanent)
        except NotFoundError:
            self._mark_gone(rec, "Already gone (404 on delete).")
            return Outcome.GONE
        except (LockedError, ForbiddenError) as exc:
            self._blocked(rec, exc)
            return Outcome.FORBIDDEN if isinstance(exc, ForbiddenError) else Outcome.LOCKED
        except PreconditionFailed:
            rec = self._set_attempt(rec, None)
            self._audit(AuditKind.DELETE_SKIPPED, rec, reason="The file changed just before deletion (412); it "
                        "will be evaluated again next cycle.")
            return Outcome.SKIPPED
        except GraphError as exc:
            unknown = exc.outcome_unknown
            if not unknown:
                rec = self._set_attempt(rec, None)
            if exc.status == 429 and resend_throttled:  # not carried out; the read it followed is old by now
                return Outcome.THROTTLED
            self._audit(AuditKind.DELETE_OUTCOME_UNKNOWN if unknown else AuditKind.DELETE_FAILED, rec,
                        rule=planned.rule, reason=f"Deletion failed: {exc}" + (
                            "; Graph may have carried it out: a re-read settles it" if unknown else ""))
            if unknown and await self._settle(rec, immediate=True) is Outcome.DELETED:
                return Outcome.DELETED
            report.add_problem(f"deletion of {key} failed: {exc.status} {exc.code}")
            return Outcome.FAILED
        where = ("permanently (no recycle bin)" if permanent else
                 f"to the recycle bin (restorable for {cfg.restore_window_days} days)")
        self._mark_deleted(rec, f"Deleted {where}. {decision.reason}", mode=cfg.delete_mode)
        return Outcome.DELETED

    async def settle_pending(self) -> None:
        """Every delete request whose answer was lost is settled by the next re-read of its item, before
        anything else is decided: a marker left standing could later claim someone else's deletion as ours."""
        for rec in recordings.with_pending_delete(self.ctx.db):
            if self.ctx.stop.is_set():
                return
            self.ctx.checkpoint()
            await self._settle(rec, immediate=False)

    async def _settle(self, rec: StoredRecording, *, immediate: bool) -> Outcome | None:
        """Re-read an item whose delete got no answer. Gone: our request did it (the first look after it).
        There: right after the request, it was not carried out; later, it may also have been deleted and
        restored since, so a new notice episode starts (never a second deletion without notice)."""
        try:
            state = await self.ctx.gateway.reread_item(rec.drive_id, rec.item_id)
        except GraphError:
            return None  # still unknown: the marker stays, the next look settles it
        if state is None:
            self._mark_deleted(rec, f"Deleted by teamsretention: the delete request sent at "
                               f"{rec.delete_attempted_at:%Y-%m-%d %H:%M} UTC got no answer, and the file was gone "
                               "when it was read again.", mode=rec.delete_mode or self.config.delete_mode,
                               when=rec.delete_attempted_at)
            return Outcome.DELETED
        if immediate:
            # Graph may still be carrying the request out: the marker stays, the next cycle settles it (a file
            # still there then starts a new notice episode; one gone is ours).
            self._audit(AuditKind.DELETE_SETTLED, rec, reason="The delete request got no answer, and the file was "
                        "still there when read again moments later; the next cycle settles whether it was deleted.")
            return Outcome.FAILED
        again = dataclasses.replace(rec, delete_attempted_at=None,
                                    restored_on=tuple(sorted((*rec.restored_on, self.ctx.cycle_date))),
                                    restored_at=tuple(sorted((*rec.restored_at, self.ctx.clock()))))
        recordings.save(self.ctx.db, [again], events=[self.ctx.event(
            AuditKind.RESTORED, again, reason=f"The delete request sent at {rec.delete_attempted_at:%Y-%m-%d %H:%M} "
            "UTC got no answer and the file is there now: either it was never deleted, or it was deleted and "
            "restored since. A new notice episode starts, with fresh warnings.",
            possibly_deleted_at=str(rec.delete_attempted_at))])
        return None

    def _set_attempt(self, rec: StoredRecording, when: dt.datetime | None, mode: str | None = None) -> StoredRecording:
        """Mark (or clear) a delete request in flight; the mode is kept for a receipt if its answer is lost."""
        marked = dataclasses.replace(rec, delete_attempted_at=when, delete_mode=mode if when else rec.delete_mode)
        recordings.save(self.ctx.db, [marked], before={rec.id: rec})  # the changed columns only
        return marked

    def _mark_gone(self, rec: StoredRecording, reason: str) -> None:
        planned = stored_decision(rec)
        gone = dataclasses.replace(rec, state=RecordingState.GONE, delete_attempted_at=None)
        recordings.save(self.ctx.db, [gone], before={rec.id: rec}, events=[self.ctx.event(
            AuditKind.ALREADY_GONE, gone, rule=planned.rule, due=planned.due, reason=reason, delete_mode=None)])

    def _mark_deleted(self, rec: StoredRecording, reason: str, *, mode: str | None,
                      when: dt.datetime | None = None) -> None:
        """The state change and its evidence in one transaction."""
        planned = stored_decision(rec)
        deleted_at = when or self.ctx.clock()
        deleted = dataclasses.replace(
            rec, state=RecordingState.DELETED, delete_attempted_at=None, deleted_at=deleted_at, delete_mode=mode,
            deleted_on=local_date(deleted_at, self.config.policy.timezone) if when else self.ctx.cycle_date,
            deletion_reported=False, blocked_code=None, blocked_message=None, blocked_attempts=0,
            next_attempt_on=None)
        recordings.save(self.ctx.db, [deleted], before={rec.id: rec}, events=[self.ctx.event(
            AuditKind.DELETED, deleted, rule=planned.rule, due=planned.due, reason=reason, delete_mode=mode)])
        mode = mode or "recycle"
        restore_until = (deleted.deleted_on + dt.timedelta(days=self.config.restore_window_days)
                         if mode == "recycle" and deleted.deleted_on else None)
        done = DeletionDone(deleted.ref.key, deleted.name, self.ctx.organizer(deleted.organizer_id), planned.rule,
                            mode, restore_until)
        self.ctx.report.deleted += 1
        self.ctx.report.deletions.append(done)
        log.info("recording.deleted", run_id=self.ctx.run_id, recording_id=done.recording_id, recording=done.name,
                 **done.organizer.log_fields(), rule=done.rule, due=str(planned.due), delete_mode=mode,
                 restore_until=str(restore_until) if restore_until else None)

    def _blocked(self, rec: StoredRecording, exc: GraphError) -> None:
        planned = stored_decision(rec)
        gaps = self.config.blocked_retry_days or (1,)
        attempts = rec.blocked_attempts + 1
        next_on = self.ctx.cycle_date + dt.timedelta(days=gaps[min(attempts - 1, len(gaps) - 1)])
        blocked = dataclasses.replace(rec, delete_attempted_at=None, blocked_attempts=attempts, next_attempt_on=next_on,
                                      blocked_code=exc.code or str(exc.status), blocked_message=exc.message)
        recordings.save(self.ctx.db, [blocked], before={rec.id: rec}, events=[self.ctx.event(
            AuditKind.DELETE_BLOCKED, blocked, rule=planned.rule, due=planned.due,
            reason=f"Deletion refused by Microsoft 365 ({exc.status} {exc.code}: {exc.message}); next attempt on "
            f"{next_on}.", status=exc.status, code=exc.code, attempts=attempts)])
        self.ctx.report.blocked += 1
        entry = DeletionBlocked(rec.ref.key, rec.name, self.ctx.organizer(rec.organizer_id), planned.rule,
                                exc.status, exc.code, exc.message, attempts, next_on, attempted=True)
        self.ctx.report.blocked_deletions.append(entry)
        log.warning("recording.delete_blocked", run_id=self.ctx.run_id, recording_id=entry.recording_id,
                    recording=entry.name, **entry.organizer.log_fields(), rule=entry.rule, status=exc.status,
                    code=exc.code, error=exc.message, attempts=attempts, next_attempt_on=str(next_on))

    def _report_waiting(self, waiting: list[StoredRecording]) -> None:
        """Deletions refused at an earlier attempt whose next attempt is not due yet: listed, not tried."""
        for rec in waiting:
            self.ctx.report.blocked_deletions.append(DeletionBlocked(
                rec.ref.key, rec.name, self.ctx.organizer(rec.organizer_id), rec.rule, None, rec.blocked_code,
                rec.blocked_message, rec.blocked_attempts, rec.next_attempt_on, attempted=False))
