"""Step 3 of the cycle: one digest per organizer (design §3).

A digest is recorded as *intended* before it is sent and never sent twice for a date; only a send Graph
accepted (202) marks its warnings *sent*, which is what starts a notice clock. A send whose outcome is
unknown (timeout, 5xx) stays *intended*: not repeated that day, and no notice clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select

from .domain import Action, Person
from .errors import GraphError
from .evidence import audit as _audit
from .evidence import outcome_unknown, this_cycle
from .facts import Evaluated, evaluated_from, stored_decision
from .inventory import person_from_row
from .notify.digest import DeletedItem, Digest, DigestItem
from .ports import GraphGateway, OutgoingMail
from .store import Database
from .store.tables import DigestRow, DriveRow, PersonRow, RecordingRow, WarningRow

if TYPE_CHECKING:
    from .service import CycleConfig, CycleReport

log = structlog.get_logger(__name__)


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


def _person(row: PersonRow | None, organizer_id: str) -> Person:
    if row is None:
        return Person(id=organizer_id or "unknown", display_name=organizer_id or "unknown organizer", mail=None)
    return person_from_row(row)
