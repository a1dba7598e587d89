"""Step 2 of the cycle: evaluate the tracked recordings with the pure policy, and store each decision.

Only the recordings whose decision may have changed are evaluated (``cycle.selection``): an unchanged cycle
costs what changed and what is near, not the tenant. A decision that did not change writes nothing, except
that a decision to warn or delete is stamped with the cycle's date (``decided_on``): the warn and delete
steps act only on decisions taken this cycle, on facts read this cycle.

Memory stays flat on large tenants: one batch of recordings is in memory at a time, labels are read for
that batch only (and only where the decision would warn or delete, design §3.2), and (except for ``plan``,
which prints them) decisions are not kept: the warn and delete steps read this cycle's decisions back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import structlog

from ..domain import Action, Decision, DriveKind, Facts, LabelStatus, RetentionLabel, Rule, RunMode
from ..errors import GraphError
from ..policy import evaluate, project
from ..policy.later import hold_for_later_covers
from ..policy.review import review_on
from ..ports import ItemState
from ..store import digests, evaluation, recordings
from ..store import drives as drive_store
from ..store.audit import AuditEvent, AuditKind
from ..store.recordings import StoredRecording
from .config import CycleContext
from .facts import FactIndex, evaluated_from
from .recheck import Parents, parents_of, recheck, reread_all
from .selection import basis_of, record, select

log = structlog.get_logger(__name__)

EVALUATE_BATCH = 500  # recordings evaluated (and labels read) per batch: bounds memory and open work


class EvaluateStep:
    def __init__(self, ctx: CycleContext, mode: RunMode, *, keep_all: bool = False,
                 project_until: dt.date | None = None) -> None:
        self.ctx, self.mode, self.keep_all, self.project_until = ctx, mode, keep_all, project_until
        self.policy = ctx.config.policy
        self._debug = logging.getLogger(__name__).isEnabledFor(logging.DEBUG)  # structlog's stdlib logger

    async def run(self, complete: set[str]) -> None:
        """``complete``: the drives whose inventory was read to the end this cycle (the others fail closed)."""
        db, report = self.ctx.db, self.ctx.report
        index = FactIndex.load(db)
        names = drive_store.names(db)
        basis = basis_of(self.ctx.config, self.mode, index, self.ctx.cycle_date)
        failed = [d for d in report.inventory.drives_incomplete if d not in complete]
        ids, why = select(db, basis, self.mode, failed, index)
        report.reevaluated = len(ids)
        log.info("evaluate.selected", run_id=self.ctx.run_id, recordings=len(ids), all=why is not None, why=why)
        await self._evaluate(ids, complete, index, names)
        if self.mode is RunMode.PLAN:
            report.tracked = len(ids)
            return
        actions, rules = evaluation.decision_counts(db)  # every tracked recording, by its standing decision
        report.tracked = sum(actions.values())
        report.actions.clear()
        report.actions.update(actions)
        report.rules.clear()
        report.rules.update(rules)
        if not self.ctx.stop.is_set():
            record(db, basis, index)

    async def _evaluate(self, ids: list[int], complete: set[str], index: FactIndex, names: dict[str, str]) -> None:
        db = self.ctx.db
        for start in range(0, len(ids), EVALUATE_BATCH):
            if self.ctx.stop.is_set():
                return
            self.ctx.checkpoint()
            batch = recordings.get_many(db, ids[start:start + EVALUATE_BATCH])
            warnings = digests.sent_warnings(db, [r.id for r in batch])
            first: list[tuple[StoredRecording, Facts, Decision]] = []
            stored = {rec.id: rec for rec in batch}
            for rec in batch:
                facts = index.facts_for(rec, warnings.get(rec.id, []), drive_complete=rec.drive_id in complete)
                first.append((rec, facts, self._decide(rec, facts, self.ctx.cycle_date)))
            # A warning or a deletion needs the label and a fresh look at the item (design §3.2): one re-read.
            wanting = [rec for rec, _, decision in first if decision.needs_label]
            reads = await self._reread(wanting)
            fresh = dict(zip((r.id for r in wanting), reads, strict=True))
            parents = parents_of(self.ctx, wanting, reads)
            changed: list[StoredRecording] = []
            events: list[AuditEvent] = []
            for rec, facts, decision in first:
                if rec.id in fresh:
                    rec, facts, decision = await self._with_fresh_read(rec, facts, decision, fresh[rec.id], events,
                                                                       parents)
                recorded = self._record(rec, decision, facts, names, events)
                if recorded is not None and (recorded != stored[rec.id] or decision.action is not Action.KEEP):
                    changed.append(recorded)  # unchanged and not acting: nothing is written
            if self.mode is not RunMode.PLAN:
                recordings.save(db, changed, events=events, evaluated=True, before=stored)

    async def _with_fresh_read(self, rec: StoredRecording, facts: Facts, decision: Decision,
                               read: ItemState | None | GraphError, events: list[AuditEvent],
                               parents: Parents) -> tuple[StoredRecording, Facts, Decision]:
        """The decision again, with the label and recognition the re-read established (fail closed)."""
        day = self.ctx.cycle_date
        if isinstance(read, GraphError):
            facts = dataclasses.replace(facts, label=RetentionLabel(status=LabelStatus.FAILED))
        elif read is None:  # gone since the inventory read it: the next delta says by whom; nothing is done now
            facts = dataclasses.replace(facts, unknown=facts.unknown | {"inventory"})
        else:
            first_warning = decision.action is Action.WARN and not facts.warnings
            check = await recheck(self.ctx, rec, read, before_first_warning=first_warning, parents=parents)
            rec = check.recording
            if check.event is not None:
                events.append(check.event)
            facts = dataclasses.replace(facts, label=read.label)
            if check.unknown:
                facts = dataclasses.replace(facts, unknown=facts.unknown | {"recognition"})
            elif not check.recognised:
                return rec, facts, Decision(Action.KEEP, f"{Rule.FAIL_CLOSED.value}:recognition",
                                            f"Kept and no longer governed: {rec.recognition_note}.", None,
                                            rec.recorded_on)
            if read.label.status is LabelStatus.PRESENT and self.mode is not RunMode.PLAN:
                rec = dataclasses.replace(rec, label_name=read.label.name)
        return rec, facts, self._decide(rec, facts, day)

    def _decide(self, rec: StoredRecording, facts: Facts, day: dt.date) -> Decision:
        """The policy's decision, kept back (fail closed) while a cover recorded after ``day`` exists."""
        return hold_for_later_covers(evaluate(rec.recording(), facts, self.policy, day), facts, day)

    async def _reread(self, batch: list[StoredRecording]) -> list[ItemState | None | GraphError]:
        return await reread_all(self.ctx, batch)

    def _record(self, rec: StoredRecording, decision: Decision, facts: Facts, names: dict[str, str],
                events: list[AuditEvent]) -> StoredRecording | None:
        """Count the decision; for plan, keep it to print; otherwise the recording with it, and an audit event
        when it changed."""
        report, day = self.ctx.report, self.ctx.cycle_date
        delete_on = None
        if self.mode is RunMode.PLAN and self.project_until and self.project_until > day:
            decision, delete_on = project(rec.recording(), facts, self.policy, day, self.project_until)
        report.actions[decision.action.value] += 1
        report.rules[decision.rule] += 1
        if self.mode is RunMode.PLAN:
            noted = rec.ref.key in report.governance.notes  # a tag or code plan must speak of
            if decision.action is not Action.KEEP or self.keep_all or decision.is_fail_closed or noted:
                entry = evaluated_from(rec, decision, names, delete_on)
                if rec.drive_kind is DriveKind.ONEDRIVE:  # an admin reading the plan needs whose OneDrive
                    entry.location = f"OneDrive of {names.get(rec.drive_id) or rec.organizer_id}"
                report.evaluated.append(entry)
            return None
        if (rec.action, rec.rule, rec.due) != (decision.action, decision.rule, decision.due):
            events.append(self.ctx.event(
                AuditKind.DECISION, rec, rule=decision.rule, due=decision.due, reason=decision.reason,
                action=decision.action.value, previous_rule=rec.rule,
                previous_due=rec.due.isoformat() if rec.due else None,
                episode_start=decision.episode_start.isoformat() if decision.episode_start else None))
            if self._debug:  # one line per changed decision, only when asked for: its organizer is looked up
                log.debug("recording.decision", run_id=self.ctx.run_id, recording_id=rec.ref.key,
                          recording=rec.name, **self.ctx.organizer(rec.organizer_id).log_fields(),
                          action=decision.action.value, rule=decision.rule,
                          due=str(decision.due) if decision.due else None, previous_rule=rec.rule)
        same = (rec.action, rec.rule, rec.reason, rec.due, rec.episode_start) == (
            decision.action, decision.rule, decision.reason, decision.due, decision.episode_start)
        acting = decision.action is not Action.KEEP  # stamped today: the warn and delete steps act on it
        review = review_on(rec.created_at, facts, self.policy, day, decision)
        if review <= day and rec.review_on is not None and rec.review_on <= day:
            review = rec.review_on  # due at every cycle either way: no write just to say so again
        return dataclasses.replace(rec, action=decision.action, rule=decision.rule, reason=decision.reason,
                                   due=decision.due, episode_start=decision.episode_start,
                                   decided_on=rec.decided_on if same and not acting else day, review_on=review)
