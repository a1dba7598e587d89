"""Step 2 of the cycle: evaluate every tracked recording with the pure policy, and store each decision.

Memory stays flat on large tenants: one batch of recordings is in memory at a time, labels are read for
that batch only (and only where the decision would warn or delete, design §3.2), and (except for ``plan``,
which prints them) decisions are not kept: the warn and delete steps read this cycle's decisions back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import structlog

from ..domain import Action, Decision, DriveKind, Facts, LabelStatus, RetentionLabel, Rule, RunMode
from ..errors import GraphError
from ..policy import evaluate, project
from ..ports import ItemState
from ..store import digests, recordings
from ..store import drives as drive_store
from ..store.audit import AuditEvent, AuditKind
from ..store.recordings import StoredRecording
from .config import CycleContext
from .facts import FactIndex, evaluated_from
from .recheck import recheck, reread_all

log = structlog.get_logger(__name__)

EVALUATE_BATCH = 500  # recordings evaluated (and labels read) per batch: bounds memory and open work


class EvaluateStep:
    def __init__(self, ctx: CycleContext, mode: RunMode, *, keep_all: bool = False,
                 project_until: dt.date | None = None) -> None:
        self.ctx, self.mode, self.keep_all, self.project_until = ctx, mode, keep_all, project_until
        self.policy = ctx.config.policy

    async def run(self, complete: set[str]) -> None:
        """``complete``: the drives whose inventory was read to the end this cycle (the others fail closed)."""
        db, report = self.ctx.db, self.ctx.report
        index = FactIndex.load(db)
        names = drive_store.names(db)
        ids = recordings.tracked_ids(db)
        report.tracked = len(ids)
        for start in range(0, len(ids), EVALUATE_BATCH):
            if self.ctx.stop.is_set():
                return
            self.ctx.checkpoint()
            batch = recordings.get_many(db, ids[start:start + EVALUATE_BATCH])
            warnings = digests.sent_warnings(db, [r.id for r in batch])
            first: list[tuple[StoredRecording, Facts, Decision]] = []
            for rec in batch:
                facts = index.facts_for(rec, warnings.get(rec.id, []), drive_complete=rec.drive_id in complete)
                first.append((rec, facts, evaluate(rec.recording(), facts, self.policy, self.ctx.cycle_date)))
            # A warning or a deletion needs the label and a fresh look at the item (design §3.2): one re-read.
            wanting = [rec for rec, _, decision in first if decision.needs_label]
            fresh = dict(zip((r.id for r in wanting), await self._reread(wanting), strict=True))
            changed: list[StoredRecording] = []
            events: list[AuditEvent] = []
            for rec, facts, decision in first:
                if rec.id in fresh:
                    rec, facts, decision = await self._with_fresh_read(rec, facts, decision, fresh[rec.id], events)
                recorded = self._record(rec, decision, facts, names, events)
                if recorded is not None:
                    changed.append(recorded)
            if self.mode is not RunMode.PLAN:
                recordings.save(db, changed, events=events)

    async def _with_fresh_read(self, rec: StoredRecording, facts: Facts, decision: Decision,
                               read: ItemState | None | GraphError, events: list[AuditEvent]
                               ) -> tuple[StoredRecording, Facts, Decision]:
        """The decision again, with the label and recognition the re-read established (fail closed)."""
        day = self.ctx.cycle_date
        if isinstance(read, GraphError):
            facts = dataclasses.replace(facts, label=RetentionLabel(status=LabelStatus.FAILED))
        elif read is None:  # gone since the inventory read it: the next delta says by whom; nothing is done now
            facts = dataclasses.replace(facts, unknown=facts.unknown | {"inventory"})
        else:
            first_warning = decision.action is Action.WARN and not facts.warnings
            check = await recheck(self.ctx, rec, read, before_first_warning=first_warning)
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
        return rec, facts, evaluate(rec.recording(), facts, self.policy, day)

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
            log.debug("recording.decision", run_id=self.ctx.run_id, recording_id=rec.ref.key, recording=rec.name,
                      **self.ctx.organizer(rec.organizer_id).log_fields(), action=decision.action.value,
                      rule=decision.rule, due=str(decision.due) if decision.due else None, previous_rule=rec.rule)
        return dataclasses.replace(rec, action=decision.action, rule=decision.rule, reason=decision.reason,
                                   due=decision.due, episode_start=decision.episode_start, decided_on=day)
