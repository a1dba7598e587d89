"""Step 3 of the cycle: one digest per organizer (design §3).

A digest is recorded as *intended* before it is sent and never sent twice for a date; only a send Graph
accepted (202) marks its warnings *sent*, which is what starts a notice clock. A send whose outcome is
unknown (timeout, 5xx) stays *intended*: not repeated that day, and no notice clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import structlog

from ..domain import DigestStatus
from ..endpoints import tenant_link_problem
from ..errors import GraphError, SenderRefused, SignInError
from ..notify.digest import DeletedItem, Digest, DigestItem
from ..ports import OutgoingMail
from ..store import digests, recordings
from ..store import drives as drive_store
from ..store.audit import AuditEvent, AuditKind
from ..store.digests import Announcement, StoredDigest
from ..store.recordings import StoredRecording
from .config import CycleContext
from .facts import evaluated_from, stored_decision
from .outcome import DigestOutcome, Evaluated, Organizer
from .recipients import TEAM_PREFIX, Recipients
from .request_list import list_url

log = structlog.get_logger(__name__)


# Already handled for this date (sent, outcome unknown, undeliverable, or dry-run twice): never twice. A
# failed send may be tried again, and enforcement switched on after a dry run of the same day sends the
# real digest.
_REPLACEABLE = {True: {DigestStatus.FAILED, DigestStatus.DRY_RUN}, False: {DigestStatus.FAILED}}
_INTENT_EVENTS = {DigestStatus.DRY_RUN: AuditKind.WOULD_WARN, DigestStatus.UNDELIVERABLE: AuditKind.WARN_UNDELIVERABLE,
                  DigestStatus.INTENDED: AuditKind.WARN_INTENDED}


@dataclass(frozen=True, slots=True)
class _Batch:
    """A batch of organizers' digests: (key, warnings, receipts) each, and what was recorded today by key."""

    digests: list[tuple[str, list[Evaluated], list[StoredRecording]]]
    existing: dict[str, StoredDigest]


def _still_due(existing: StoredDigest | None, enforce: bool) -> bool:
    """Not yet handled for this date (or handled in a way that may be done again)."""
    return existing is None or existing.status in _REPLACEABLE[enforce]


class WarnStep:
    def __init__(self, ctx: CycleContext, render: Callable[..., OutgoingMail]) -> None:
        self.ctx, self.render = ctx, render
        self._recipients = Recipients(ctx)
        self._sender_refused: SenderRefused | None = None  # set by the first refusal about the sender
        # Until Graph has accepted one digest, digests go one at a time: a sender Graph refuses is refused once,
        # not once per digest in flight.
        self._sender_proven = False
        self._probe = asyncio.Lock()

    async def run(self, enforce: bool) -> None:
        """``enforce`` False: a dry run (policy.enforce = false) that records would-be warnings only.

        Reads this cycle's WARN decisions back from the store a batch of organizers at a time (one query for
        the batch's recordings, one for the digests already recorded today), so memory does not grow with the
        tenant and the queries do not grow with the organizers. A refusal that is about the sender
        (notifications.sender) stops the sending: every other digest would be refused the same way; they are
        left unsent, for the next cycle."""
        batches = self._batches()
        for batch in batches:
            attempted = await self._send_batch(enforce, batch)
            if self.ctx.stop.is_set():
                return
            if self._sender_refused is not None:
                rest = [(batch.existing, d) for d in batch.digests if d[0] not in attempted]
                rest += [(b.existing, d) for b in batches for d in b.digests]  # the batches not read yet
                left = [(i, r) for done, (k, i, r) in rest if (i or r) and _still_due(done.get(k), enforce)]
                self._report_sender_refused(self._sender_refused, len(left), sum(len(i) for i, _ in left))
                return

    async def _send_batch(self, enforce: bool, batch: _Batch) -> set[str]:
        """The batch's digests, up to ``max_concurrency`` at a time (the throttle gate bounds the requests in
        flight anyway). Each is its own organizer's, recorded as intended before it is sent, so running them
        side by side changes nothing about "one per organizer per date". No new send starts once the stop
        signal came or the sender was refused; those already under way finish. Until the first digest is
        accepted they go one at a time (``_probe``), so a refused sender costs one refusal. The report lists the digests
        in the batch's order, whatever order they finished in. Returns the keys attempted."""
        gate = asyncio.Semaphore(max(1, self.ctx.config.max_concurrency))
        attempted: set[str] = set()
        first = len(self.ctx.report.digests)
        failures: list[Exception] = []

        async def one(key: str, items: list[Evaluated], receipts: list[StoredRecording]) -> None:
            async with gate, (contextlib.nullcontext() if self._sender_proven else self._probe):
                # checkpoint between digests; none starts after a failure (no intent recorded for it)
                if self.ctx.stop.is_set() or self._sender_refused is not None or failures:
                    return
                try:
                    self.ctx.checkpoint()
                    attempted.add(key)
                    await self._send_digest(enforce, key, items, receipts, batch.existing.get(key))
                except Exception as exc:  # noqa: BLE001 - raised below, once the sends under way have ended
                    failures.append(exc)

        # Their organizers and the mailboxes due to be asked about, in one query and a few JSON batches.
        await self._recipients.prepare(key for key, items, receipts in batch.digests
                                       if (items or receipts) and _still_due(batch.existing.get(key), enforce))
        # Not a TaskGroup: a failure (a sign-in error, the lock lost) must not cancel sends already under way,
        # whose digests are recorded as intended and would then go unsent all day; they finish, no new one
        # starts, and the first failure is raised as the sequential loop raised it.
        await asyncio.gather(*(one(key, items, receipts) for key, items, receipts in batch.digests))
        self._order_outcomes(batch, first)
        if failures:
            raise failures[0]
        return attempted

    def _order_outcomes(self, batch: _Batch, first: int) -> None:
        """The batch's digests in the report in the batch's order, whatever order they finished in."""
        order = {key: n for n, (key, _, _) in enumerate(batch.digests)}
        done = self.ctx.report.digests[first:]
        done.sort(key=lambda o: order.get(o.organizer.id or "", len(order)))
        self.ctx.report.digests[first:] = done

    def _batches(self) -> Iterator[_Batch]:
        """The digests of this cycle, :data:`~..store.digests.DIGEST_BATCH` organizers at a time, read from the
        store as they are needed."""
        db, day = self.ctx.db, self.ctx.cycle_date
        names = drive_store.names(db)
        teams = drive_store.teams_of(db)
        organizers = sorted(recordings.digest_organizers(db, day), key=lambda o: o or "")
        for start in range(0, len(organizers), digests.DIGEST_BATCH):
            chunk = organizers[start:start + digests.DIGEST_BATCH]
            content = digests.content(db, day, chunk)
            due: list[tuple[str, list[Evaluated], list[StoredRecording]]] = []
            for organizer_id in chunk:
                warn, receipts = content.warn.get(organizer_id, []), content.receipts.get(organizer_id, [])
                if organizer_id is not None:
                    due.append((organizer_id, [evaluated_from(r, stored_decision(r), names) for r in warn], receipts))
                    continue
                # No user recorded it (a channel recording made by Teams' own service): its team's owners are
                # warned, one digest per team; recordings of no known team go to the fallback contact.
                for team_id in sorted({teams.get(r.drive_id) or "" for r in (*warn, *receipts)}):
                    mine = [r for r in warn if (teams.get(r.drive_id) or "") == team_id]
                    theirs = [r for r in receipts if (teams.get(r.drive_id) or "") == team_id]
                    items = [evaluated_from(r, stored_decision(r), names) for r in mine]
                    due.append((f"{TEAM_PREFIX}{team_id}" if team_id else "", items, theirs))
            yield _Batch(due, digests.existing(db, day, [key for key, _, _ in due]))

    def _report_sender_refused(self, exc: SenderRefused, digests_left: int, recordings_left: int) -> None:
        sender, sent = self.ctx.config.sender, self.ctx.report.digests_sent
        before = f"{sent} digests were sent before it, no more were tried" if sent else "No digest was sent"
        waiting = (f"; {digests_left} more digests ({recordings_left} recordings) were not attempted and go out "
                   "with the next cycle" if digests_left else "")
        self.ctx.report.problems.append(
            f"notifications.sender = {sender}: Graph refused to send from this mailbox ({exc.status} {exc.code}: "
            f"{exc.message}); {exc.hint or 'check notifications.sender'}. {before}{waiting}; no notice clock "
            "started for them, so nothing that needed these warnings is deleted.")
        log.error("digest.sender_refused", sender=sender, status=exc.status, code=exc.code,
                  digests_not_attempted=digests_left)

    async def _send_digest(self, enforce: bool, organizer_id: str, items: list[Evaluated],
                           deleted: list[StoredRecording], existing: StoredDigest | None) -> None:
        """``existing``: the digest already recorded for this organizer and date (read with its batch)."""
        cfg, db, report, day = self.ctx.config, self.ctx.db, self.ctx.report, self.ctx.cycle_date
        if not enforce:
            deleted = []  # dry run: no receipts to hand out, and none are marked reported
        if not _still_due(existing, enforce):
            assert existing is not None
            if items or deleted:  # handled by an earlier run of this date: said so, never sent twice
                self._outcome(DigestOutcome(self._who(organizer_id), existing.recipient, False, len(items),
                                            len(deleted), existing.status.value, existing.error, earlier=True))
            return
        organizer, addresses = await self._recipients.of(organizer_id, items)
        fallback = not addresses
        recipient = cfg.fallback_contact if fallback else ", ".join(addresses)
        digest = Digest(
            organizer=organizer, recipient_address=recipient or "", recipient_is_fallback=fallback, cycle_date=day,
            items=[DigestItem(name=e.recording.name, web_url=self._link(e),
                              recorded_on=e.decision.recorded_on or day, due=e.decision.due or day,
                              rule=e.decision.rule, reason=e.decision.reason, location=e.location) for e in items],
            deleted=[DeletedItem(name=r.name, deleted_on=r.deleted_on or day,
                                 restore_until=(r.deleted_on + dt.timedelta(days=cfg.restore_window_days))
                                 if r.deleted_on and r.delete_mode == "recycle" else None) for r in deleted],
            contact=cfg.contact, approvers=list(cfg.approvers), requests_url=list_url(self.ctx),
            pending_grace_days=cfg.policy.pending_request_grace_days,
            language=None if fallback else organizer.preferred_language)
        if not digest.items and not digest.deleted:
            return
        mail = self.render(digest, default_language=cfg.language, max_items=cfg.max_items_per_digest)
        if not fallback:
            mail = dataclasses.replace(mail, to=addresses)
        status = DigestStatus.INTENDED if enforce else DigestStatus.DRY_RUN
        if enforce and not recipient:
            status = DigestStatus.UNDELIVERABLE
        digest_id = digests.record_intent(
            db, replace_id=existing.id if existing else None, run_id=report.run_id or 0, organizer_id=organizer_id,
            recipient=recipient, recipient_is_fallback=fallback, cycle_date=day, status=status,
            language=mail.language, subject=mail.subject if cfg.keep_mail_bodies else "",
            body=mail.text if cfg.keep_mail_bodies else None,
            announcements=[Announcement(e.row_id, e.decision.due or day) for e in items],
            events=[self._event(_INTENT_EVENTS[status], e, e.decision.reason, recipient=recipient,
                                recipient_is_fallback=fallback) for e in items])
        who = Organizer(organizer_id, organizer.display_name or None, organizer.upn or None)

        def outcome(status: str, error: str | None = None) -> None:
            self._outcome(DigestOutcome(who, recipient, fallback, len(items), len(deleted), status, error))

        if status is not DigestStatus.INTENDED:
            outcome(status.value)
            if status is DigestStatus.UNDELIVERABLE:
                report.send_failures += 1
                report.problems.append(f"organizer {organizer.upn or organizer_id} has no reachable mailbox "
                                       "and notifications.fallback_contact is not set: not warned")
            return
        assert cfg.sender, "notifications.sender is required when enforce = true"
        try:
            await self.ctx.gateway.send_mail(cfg.sender, OutgoingMail(to=list(mail.to), subject=mail.subject,
                                                                      text=mail.text, html=mail.html,
                                                                      language=mail.language))
        except GraphError as exc:
            report.send_failures += 1
            error = f"{exc.status} {exc.code}: {exc.message}"
            if exc.outcome_unknown:
                self._record_unknown(digest_id, recipient, items, error)
                outcome("outcome_unknown", error)
                return
            self._record_outcome(digest_id, recipient, items, deleted, DigestStatus.FAILED, error)
            if isinstance(exc, SenderRefused):
                # one problem about the sender, said by run(); the recipient did nothing wrong
                self._sender_refused = exc
                outcome(DigestStatus.FAILED.value, "the sender mailbox was refused (see notifications.sender)")
            else:
                outcome(DigestStatus.FAILED.value, error)
                report.problems.append(f"digest to {recipient} failed: {exc.status} {exc.code}")
            return
        except SignInError as exc:
            # No token, so no request was made: certainly not sent, and sent again by a later cycle.
            report.send_failures += 1
            self._record_outcome(digest_id, recipient, items, deleted, DigestStatus.FAILED, str(exc))
            raise
        except Exception as exc:
            report.send_failures += 1
            self._record_unknown(digest_id, recipient, items, type(exc).__name__)
            raise
        self._record_outcome(digest_id, recipient, items, deleted, DigestStatus.SENT, None)
        self._sender_proven = True
        outcome(DigestStatus.SENT.value)
        report.digests_sent += 1
        report.warned += len(items)
        if report.keep_mails:
            report.mails.append(mail)

    def _who(self, organizer_id: str) -> Organizer:
        if organizer_id.startswith(TEAM_PREFIX) or not organizer_id:
            return Organizer(organizer_id or None, "the owners of a team" if organizer_id else None)
        return self.ctx.organizer(organizer_id)

    def _outcome(self, outcome: DigestOutcome) -> None:
        """Into the report (``run --once`` lists it) and one log line (names under personal keys only)."""
        self.ctx.report.digests.append(outcome)
        event = {"sent": "digest.sent", "dry_run": "digest.would_send"}.get(outcome.status, f"digest.{outcome.status}")
        if outcome.earlier:
            event = "digest.handled_earlier_today"
        quiet = outcome.status in {"sent", "dry_run"} or outcome.earlier
        (log.info if quiet else log.warning)(
            event, run_id=self.ctx.run_id, cycle_date=str(self.ctx.cycle_date), **outcome.organizer.log_fields(),
            recipient=outcome.recipient, fallback=outcome.fallback, warned=outcome.warned, receipts=outcome.receipts,
            status=outcome.status, error=outcome.error)

    def _link(self, e: Evaluated) -> str | None:
        """The recording's link for the mail, only when it points to the tenant's own SharePoint or OneDrive
        (a mail must never lead its reader elsewhere); otherwise the digest names the recording without it."""
        url = e.recording.web_url
        if not url:
            return None
        problem = tenant_link_problem(url, self.ctx.config.cloud, self.ctx.config.sharepoint_tenant)
        if problem is None:
            return url
        log.warning("digest.link_dropped", recording_id=e.recording.ref.key, problem=problem,
                    hint="the digest names the recording without a link; check the item in SharePoint, and "
                         "notifications.sharepoint_tenant")
        return None

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
