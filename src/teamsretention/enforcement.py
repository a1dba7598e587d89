"""Steps 3 and 4 of the cycle: warn organizers, then delete what is due (design §3).

Warnings: one digest per organizer per cycle date, recorded as *intended* before it is sent and never sent
twice for a date; only a send Graph accepted (202) marks its warnings *sent*, which is what starts a
notice clock. Deletions: blast-radius limit first, pause checked before every deletion, a fresh re-read of
item and label (and of the store's exemptions) just before each delete, then delete with If-Match.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select

from .domain import Action, LabelStatus, Person
from .errors import ForbiddenError, GraphError, LockedError, NotFoundError, PreconditionFailed
from .facts import Evaluated, FactIndex, evaluated_from, sent_warnings, stored_decision, to_recording
from .inventory import person_from_row
from .notify.digest import DeletedItem, Digest, DigestItem
from .policy import evaluate
from .ports import GraphGateway, OutgoingMail
from .store import Database
from .store.tables import AuditRow, DigestRow, DriveRow, PersonRow, RecordingRow, WarningRow

if TYPE_CHECKING:
    from .service import CycleConfig, CycleReport

log = structlog.get_logger(__name__)

PERMISSION_HINT = ("every deletion attempted this cycle was refused with 403: that is a missing permission, "
                   "not holds. Grant the app registration the Microsoft Graph application permission "
                   "Files.ReadWrite.All (or Sites.ReadWrite.All) with admin consent.")


def _audit(s: Any, clock: Callable[[], dt.datetime], cycle_date: dt.date, run_id: int | None, event: str,
           row: RecordingRow | None = None, *, rule: str | None = None, due: dt.date | None = None,
           reason: str = "", actor: str = "teamsretention", **detail: Any) -> None:
    s.add(AuditRow(at=clock(), cycle_date=cycle_date, run_id=run_id, actor=actor, event=event,
                   recording_key=f"{row.drive_id}/{row.item_id}" if row else None,
                   recording_name=row.name if row else None, organizer_id=row.organizer_id if row else None,
                   rule=rule, due=due, reason=reason, detail=detail))


class WarnStep:
    def __init__(self, db: Database, gateway: GraphGateway, config: CycleConfig, render: Callable[..., OutgoingMail],
                 clock: Callable[[], dt.datetime], report: CycleReport, stop: asyncio.Event,
                 checkpoint: Callable[[], None] = lambda: None) -> None:
        self.db, self.gateway, self.config, self.render = db, gateway, config, render
        self.clock, self.report, self.stop, self.checkpoint = clock, report, stop, checkpoint

    async def run(self, enforce: bool, cycle_date: dt.date) -> None:
        """``enforce`` False: a dry run (policy.enforce = false) that records would-be warnings only.

        Reads this cycle's WARN decisions back from the store one organizer at a time, so memory does not
        grow with the tenant."""
        warn_rows = this_cycle(cycle_date, Action.WARN)
        with self.db.session() as s:
            drive_names = {d.id: d.name for d in s.scalars(select(DriveRow))}
            organizers = set(s.scalars(select(RecordingRow.organizer_id).where(warn_rows).distinct()))
            organizers |= set(s.scalars(select(RecordingRow.organizer_id).where(
                RecordingRow.state == "deleted", RecordingRow.deletion_reported.is_(False)).distinct()))
        for organizer_id in sorted(organizers, key=lambda o: o or ""):
            if self.stop.is_set():  # checkpoint between digests
                return
            self.checkpoint()
            same = (RecordingRow.organizer_id == organizer_id if organizer_id is not None
                    else RecordingRow.organizer_id.is_(None))
            with self.db.session() as s:
                items = [evaluated_from(r, stored_decision(r), drive_names)
                         for r in s.scalars(select(RecordingRow).where(warn_rows, same).order_by(RecordingRow.id))]
                receipts = list(s.scalars(select(RecordingRow).where(
                    same, RecordingRow.state == "deleted", RecordingRow.deletion_reported.is_(False))))
            await self._send_digest(enforce, cycle_date, organizer_id or "", items, receipts)

    async def _send_digest(self, enforce: bool, cycle_date: dt.date, organizer_id: str,
                           items: list[Evaluated], deleted: list[RecordingRow]) -> None:
        cfg = self.config
        with self.db.session() as s:
            existing = s.scalar(select(DigestRow).where(DigestRow.organizer_id == organizer_id,
                                                        DigestRow.cycle_date == cycle_date))
            # Already handled for this date (sent, outcome unknown, undeliverable, or dry-run twice): never
            # twice. A failed send may be tried again, and enforcement switched on after a dry run of the
            # same day sends the real digest.
            replaceable = {"failed", "dry_run"} if enforce else {"failed"}
            if existing is not None and existing.status not in replaceable:
                return
            person_row = s.get(PersonRow, organizer_id) if organizer_id else None
        organizer = _person(person_row, organizer_id)
        fallback = not organizer.reachable
        recipient = cfg.fallback_contact if fallback else organizer.mail
        if not enforce:
            deleted = []  # dry run: no receipts to hand out, and none are marked reported
        digest = Digest(
            organizer=organizer, recipient_address=recipient or "", recipient_is_fallback=fallback,
            cycle_date=cycle_date,
            items=[DigestItem(name=e.recording.name, web_url=e.recording.web_url,
                              recorded_on=e.decision.recorded_on or cycle_date, due=e.decision.due or cycle_date,
                              rule=e.decision.rule, reason=e.decision.reason, location=e.location) for e in items],
            deleted=[DeletedItem(name=r.name, deleted_on=r.deleted_on or cycle_date,
                                 restore_until=(r.deleted_on + dt.timedelta(days=cfg.restore_window_days))
                                 if r.deleted_on and r.delete_mode == "recycle" else None) for r in deleted],
            contact=cfg.contact, approvers=list(cfg.approvers),
            language=None if fallback else organizer.preferred_language)
        if not digest.items and not digest.deleted:
            return
        mail = self.render(digest, default_language=cfg.language, max_items=cfg.max_items_per_digest)
        status = "intended" if enforce else "dry_run"
        if enforce and not recipient:
            status = "undeliverable"
        digest_id = self._record_intent(cycle_date, organizer_id, recipient, fallback, mail, items, status,
                                        existing_id=existing.id if existing else None)
        if status != "intended":
            if status == "undeliverable":
                self.report.send_failures += 1
                self.report.problems.append(f"organizer {organizer.upn or organizer_id} has no reachable mailbox "
                                            "and notifications.fallback_contact is not set: not warned")
            return
        assert cfg.sender, "notifications.sender is required when enforce = true"
        try:
            await self.gateway.send_mail(cfg.sender, OutgoingMail(to=[recipient or ""], subject=mail.subject,
                                                                  text=mail.text, html=mail.html,
                                                                  language=mail.language))
        except GraphError as exc:
            self.report.send_failures += 1
            if outcome_unknown(exc):
                self._record_unknown(digest_id, cycle_date, items, f"{exc.status} {exc.code}: {exc.message}")
                return
            self._record_outcome(digest_id, cycle_date, items, deleted, "failed", f"{exc.status} {exc.code}: "
                                 f"{exc.message}")
            self.report.problems.append(f"digest to {recipient} failed: {exc.status} {exc.code}")
            return
        except Exception as exc:
            self.report.send_failures += 1
            self._record_unknown(digest_id, cycle_date, items, type(exc).__name__)
            raise
        self._record_outcome(digest_id, cycle_date, items, deleted, "sent", None)
        self.report.digests_sent += 1
        self.report.warned += len(items)
        if self.report.keep_mails:
            self.report.mails.append(mail)

    def _record_intent(self, cycle_date: dt.date, organizer_id: str, recipient: str | None, fallback: bool,
                       mail: OutgoingMail, items: list[Evaluated], status: str, existing_id: int | None) -> int:
        with self.db.session() as s:
            if existing_id is not None:  # a failed send of this date may be tried again
                digest = s.get(DigestRow, existing_id)
                assert digest is not None
                digest.status, digest.run_id, digest.error = status, self.report.run_id or 0, None
                digest.recipient, digest.recipient_is_fallback = recipient, fallback
                digest.language, digest.subject = mail.language, mail.subject
                for w in s.scalars(select(WarningRow).where(WarningRow.digest_id == existing_id)):
                    s.delete(w)
            else:
                digest = DigestRow(run_id=self.report.run_id or 0, organizer_id=organizer_id, recipient=recipient,
                                   recipient_is_fallback=fallback, cycle_date=cycle_date, status=status,
                                   language=mail.language, subject=mail.subject)
                s.add(digest)
            s.flush()
            for e in items:
                s.add(WarningRow(digest_id=digest.id, recording_id=e.row_id, cycle_date=cycle_date,
                                 announced_due=e.decision.due or cycle_date, status=status))
                row = s.get(RecordingRow, e.row_id)
                event = {"dry_run": "would_warn", "undeliverable": "warn_undeliverable"}.get(status, "warn_intended")
                _audit(s, self.clock, cycle_date, self.report.run_id, event, row, rule=e.decision.rule,
                       due=e.decision.due, reason=e.decision.reason, recipient=recipient,
                       recipient_is_fallback=fallback)
            return digest.id

    def _record_unknown(self, digest_id: int, cycle_date: dt.date, items: list[Evaluated], error: str) -> None:
        """Graph may have accepted the mail (a timeout, a 5xx after Exchange took it): the digest stays
        'intended', so it is never sent again for this date, and no notice clock starts."""
        with self.db.session() as s:
            digest = s.get(DigestRow, digest_id)
            assert digest is not None
            digest.error = f"outcome unknown: {error}"
            for e in items:
                _audit(s, self.clock, cycle_date, self.report.run_id, "warn_outcome_unknown",
                       s.get(RecordingRow, e.row_id), rule=e.decision.rule, due=e.decision.due,
                       reason="The send may or may not have been accepted; it is not repeated today and "
                       "starts no notice clock.", error=error)
        self.report.problems.append(f"digest to {digest.recipient}: outcome unknown ({error}); not resent today")

    def _record_outcome(self, digest_id: int, cycle_date: dt.date, items: list[Evaluated],
                        deleted: list[RecordingRow], status: str, error: str | None) -> None:
        with self.db.session() as s:
            digest = s.get(DigestRow, digest_id)
            assert digest is not None
            digest.status, digest.error = status, error
            digest.sent_at = self.clock() if status == "sent" else None
            for w in s.scalars(select(WarningRow).where(WarningRow.digest_id == digest_id)):
                w.status = status
            for e in items:
                row = s.get(RecordingRow, e.row_id)
                if status == "sent":
                    _audit(s, self.clock, cycle_date, self.report.run_id, "warned", row, rule=e.decision.rule,
                           due=e.decision.due, reason=f"Organizer warned: deletion on {e.decision.due}. "
                           f"{e.decision.reason}", recipient=digest.recipient)
                else:
                    _audit(s, self.clock, cycle_date, self.report.run_id, "warn_failed", row, rule=e.decision.rule,
                           due=e.decision.due, reason="The warning could not be sent; no notice clock started.",
                           error=error)
            if status == "sent":
                for r in deleted:
                    merged = s.get(RecordingRow, r.id)
                    if merged is not None:
                        merged.deletion_reported = True


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
            # Not holds after all: once the permission is granted, the next cycle tries them again.
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
            self._mark(row.id, cycle_date, "gone", "already_gone", "Already gone when teamsretention came to "
                       "delete it (404).", ev)
            return "gone"
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
        self._set_attempt(row.id, self.clock())
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

    def _set_attempt(self, row_id: int, when: dt.datetime | None) -> None:
        with self.db.session() as s:
            row = s.get(RecordingRow, row_id)
            assert row is not None
            row.delete_attempted_at = when

    def _mark(self, row_id: int, cycle_date: dt.date, state: str, event: str, reason: str, ev: Evaluated,
              mode: str | None = None) -> None:
        with self.db.session() as s:  # the state change and its evidence in one transaction
            row = s.get(RecordingRow, row_id)
            assert row is not None
            row.state, row.delete_attempted_at = state, None
            if state == "deleted":
                row.deleted_at, row.deleted_on, row.delete_mode = self.clock(), cycle_date, mode
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


def outcome_unknown(exc: GraphError) -> bool:
    """No HTTP answer (timeout, network) or a 5xx: Graph may have carried the request out."""
    return exc.status == 0 or exc.status >= 500


def this_cycle(cycle_date: dt.date, action: Action) -> Any:
    """Tracked recordings whose decision, taken by this cycle's evaluation, is ``action``."""
    return ((RecordingRow.state == "tracked") & (RecordingRow.action == action.value)
            & (RecordingRow.decided_on == cycle_date))


def _person(row: PersonRow | None, organizer_id: str) -> Person:
    if row is None:
        return Person(id=organizer_id or "unknown", display_name=organizer_id or "unknown organizer", mail=None)
    return person_from_row(row)
