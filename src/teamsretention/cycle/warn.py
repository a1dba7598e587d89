"""Step 3 of the cycle: one digest per organizer (design §3).

A digest is recorded as *intended* before it is sent and never sent twice for a date; only a send Graph
accepted (202) marks its warnings *sent*, which is what starts a notice clock. A send whose outcome is
unknown (timeout, 5xx) stays *intended*: not repeated that day, and no notice clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import structlog

from ..domain import DigestStatus, Person
from ..errors import GraphError
from ..notify.digest import DeletedItem, Digest, DigestItem
from ..ports import OutgoingMail
from ..store import digests, directory, recordings
from ..store import drives as drive_store
from ..store.audit import AuditEvent, AuditKind
from ..store.digests import Announcement
from ..store.recordings import StoredRecording
from .config import CycleContext
from .facts import evaluated_from, stored_decision
from .outcome import Evaluated

log = structlog.get_logger(__name__)

# Already handled for this date (sent, outcome unknown, undeliverable, or dry-run twice): never twice. A
# failed send may be tried again, and enforcement switched on after a dry run of the same day sends the
# real digest.
_REPLACEABLE = {True: {DigestStatus.FAILED, DigestStatus.DRY_RUN}, False: {DigestStatus.FAILED}}
_INTENT_EVENTS = {DigestStatus.DRY_RUN: AuditKind.WOULD_WARN, DigestStatus.UNDELIVERABLE: AuditKind.WARN_UNDELIVERABLE,
                  DigestStatus.INTENDED: AuditKind.WARN_INTENDED}


class WarnStep:
    def __init__(self, ctx: CycleContext, render: Callable[..., OutgoingMail]) -> None:
        self.ctx, self.render = ctx, render

    async def run(self, enforce: bool) -> None:
        """``enforce`` False: a dry run (policy.enforce = false) that records would-be warnings only.

        Reads this cycle's WARN decisions back from the store one organizer at a time, so memory does not
        grow with the tenant."""
        db, day = self.ctx.db, self.ctx.cycle_date
        names = drive_store.names(db)
        for organizer_id in sorted(recordings.digest_organizers(db, day), key=lambda o: o or ""):
            if self.ctx.stop.is_set():  # checkpoint between digests
                return
            self.ctx.checkpoint()
            warn, receipts = recordings.digest_items(db, day, organizer_id)
            items = [evaluated_from(r, stored_decision(r), names) for r in warn]
            await self._send_digest(enforce, organizer_id or "", items, receipts)

    async def _send_digest(self, enforce: bool, organizer_id: str, items: list[Evaluated],
                           deleted: list[StoredRecording]) -> None:
        cfg, db, report, day = self.ctx.config, self.ctx.db, self.ctx.report, self.ctx.cycle_date
        existing = digests.find(db, organizer_id, day)
        if existing is not None and existing.status not in _REPLACEABLE[enforce]:
            return
        stored = directory.person(db, organizer_id) if organizer_id else None
        organizer = stored.person() if stored else Person(id=organizer_id or "unknown",
                                                          display_name=organizer_id or "unknown organizer")
        fallback = not organizer.reachable
        recipient = cfg.fallback_contact if fallback else organizer.mail
        if not enforce:
            deleted = []  # dry run: no receipts to hand out, and none are marked reported
        digest = Digest(
            organizer=organizer, recipient_address=recipient or "", recipient_is_fallback=fallback, cycle_date=day,
            items=[DigestItem(name=e.recording.name, web_url=e.recording.web_url,
                              recorded_on=e.decision.recorded_on or day, due=e.decision.due or day,
                              rule=e.decision.rule, reason=e.decision.reason, location=e.location) for e in items],
            deleted=[DeletedItem(name=r.name, deleted_on=r.deleted_on or day,
                                 restore_until=(r.deleted_on + dt.timedelta(days=cfg.restore_window_days))
                                 if r.deleted_on and r.delete_mode == "recycle" else None) for r in deleted],
            contact=cfg.contact, approvers=list(cfg.approvers),
            language=None if fallback else organizer.preferred_language)
        if not digest.items and not digest.deleted:
            return
        mail = self.render(digest, default_language=cfg.language, max_items=cfg.max_items_per_digest)
        status = DigestStatus.INTENDED if enforce else DigestStatus.DRY_RUN
        if enforce and not recipient:
            status = DigestStatus.UNDELIVERABLE
        digest_id = digests.record_intent(
            db, replace_id=existing.id if existing else None, run_id=report.run_id or 0, organizer_id=organizer_id,
            recipient=recipient, recipient_is_fallback=fallback, cycle_date=day, status=status,
            language=mail.language, subject=mail.subject,
            announcements=[Announcement(e.row_id, e.decision.due or day) for e in items],
            events=[self._event(_INTENT_EVENTS[status], e, e.decision.reason, recipient=recipient,
                                recipient_is_fallback=fallback) for e in items])
        if status is not DigestStatus.INTENDED:
            if status is DigestStatus.UNDELIVERABLE:
                report.send_failures += 1
                report.problems.append(f"organizer {organizer.upn or organizer_id} has no reachable mailbox "
                                       "and notifications.fallback_contact is not set: not warned")
            return
        assert cfg.sender, "notifications.sender is required when enforce = true"
        try:
            await self.ctx.gateway.send_mail(cfg.sender, OutgoingMail(to=[recipient or ""], subject=mail.subject,
                                                                      text=mail.text, html=mail.html,
                                                                      language=mail.language))
        except GraphError as exc:
            report.send_failures += 1
            error = f"{exc.status} {exc.code}: {exc.message}"
            if exc.outcome_unknown:
                self._record_unknown(digest_id, recipient, items, error)
                return
            self._record_outcome(digest_id, recipient, items, deleted, DigestStatus.FAILED, error)
            report.problems.append(f"digest to {recipient} failed: {exc.status} {exc.code}")
            return
        except Exception as exc:
            report.send_failures += 1
            self._record_unknown(digest_id, recipient, items, type(exc).__name__)
            raise
        self._record_outcome(digest_id, recipient, items, deleted, DigestStatus.SENT, None)
        report.digests_sent += 1
        report.warned += len(items)
        if report.keep_mails:
            report.mails.append(mail)

    def _event(self, kind: AuditKind, e: Evaluated, reason: str, **detail: object) -> AuditEvent:
        return AuditEvent(
            kind=kind, at=self.ctx.clock(), reason=reason, cycle_date=self.ctx.cycle_date, run_id=self.ctx.run_id,
            recording_key=e.recording.ref.key, recording_name=e.recording.name, organizer_id=e.organizer_id,
            rule=e.decision.rule, due=e.decision.due, detail=dict(detail))

    def _record_unknown(self, digest_id: int, recipient: str | None, items: list[Evaluated], error: str) -> None:
        """Graph may have accepted the mail (a timeout, a 5xx after Exchange took it): the digest stays
        'intended', so it is never sent again for this date, and no notice clock starts."""
        digests.record_unknown(self.ctx.db, digest_id, error, [self._event(
            AuditKind.WARN_OUTCOME_UNKNOWN, e, "The send may or may not have been accepted; it is not repeated "
            "today and starts no notice clock.", error=error) for e in items])
        self.ctx.report.problems.append(f"digest to {recipient}: outcome unknown ({error}); not resent today")

    def _record_outcome(self, digest_id: int, recipient: str | None, items: list[Evaluated],
                        deleted: list[StoredRecording], status: DigestStatus, error: str | None) -> None:
        if status is DigestStatus.SENT:
            events = [self._event(AuditKind.WARNED, e, f"Organizer warned: deletion on {e.decision.due}. "
                                  f"{e.decision.reason}", recipient=recipient) for e in items]
        else:
            events = [self._event(AuditKind.WARN_FAILED, e, "The warning could not be sent; no notice clock "
                                  "started.", error=error) for e in items]
        digests.record_outcome(self.ctx.db, digest_id, status=status, error=error,
                               sent_at=self.ctx.clock() if status is DigestStatus.SENT else None, events=events,
                               receipts_for=[r.id for r in deleted])
