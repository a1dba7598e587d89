"""Step 1b of the cycle: what recordings the drives in scope hold.

get → transform → load, per drive, a few delta pages at a time: about ``DriveSync.batch_items`` items
are applied together (flat memory; one read of their known items and one batched write, one commit), and
the drive's deltaLink is stored only when the whole feed was read, with the last pages. A drive whose feed
broke off is marked incomplete (what was read before the break is applied): its recordings get neither
warnings nor deletions this cycle (the partial result never drives a deletion), and the next cycle replays
the same deltaLink.

Delta reports a renamed or moved folder but not what it holds (driveitem-delta, Remarks), so a changed
folder's recordings are classified again from the folder map; the re-read before any warning or deletion
re-establishes recognition from Graph itself (``cycle.recheck``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import structlog

from ..domain import DriveKind, RecordingState, local_date
from ..errors import GraphError
from ..policy import Location, Recognition, Verdict, classify, is_video
from ..policy.recognition import FACETS_SAY
from ..ports import ItemChange
from ..store import drives as drive_store
from ..store import moves as store_moves
from ..store import recordings
from ..store.audit import AuditEvent, AuditKind
from ..store.drives import StoredDrive
from ..store.moves import Arrival
from ..store.recordings import StoredRecording
from .config import CycleContext
from .feed import DeltaBatch, locations

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Seen:
    """A stored recording as recognition reads it (no facets: those are authoritative and never change)."""

    name: str | None
    mime_type: str | None
    source_application: str | None = None
    content_category: str | None = None


class DriveSync:
    # Delta items (of any kind) read before they are applied in one transaction: a few of Graph's pages
    # (about 200 items each), so a typical drive costs one set of reads and writes and one commit, and memory
    # stays flat however large the drive.
    batch_items = 1000

    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self.stats = ctx.report.inventory
        self.timezone = ctx.config.policy.timezone
        self.recognition = ctx.config.recognition
        # drives with a batch of the current listing applied; those a folder change after it asks to list again
        self._listed_before, self._relisted_while_read = set[str](), set[str]()

    async def run(self, drive: StoredDrive) -> bool:
        """Read the drive's changes; True when the feed was read to its deltaLink."""
        db = self.ctx.db
        generation = drive.sync_generation
        full = finished = False
        pending: dict[str, ItemChange] = {}  # videos whose parent folder had not been seen yet, by id
        batch = DeltaBatch()  # pages read and not yet applied: a few of Graph's pages go in one transaction
        try:
            async for page in self.ctx.gateway.drive_delta(drive.id, drive.delta_link, videos_only=True):
                self.ctx.checkpoint()  # a long drive keeps the cycle lock alive, and stops if it was lost
                if page.reset:  # a (re)started full enumeration: earlier pages of this feed no longer count
                    self._apply_batch(drive, batch, pending, generation)  # (what came before it, as it came)
                    full, generation = True, generation + 1
                    pending.clear()
                    self._listed_before.discard(drive.id)
                for other in page.others:  # a file that is no video now: an earlier state waiting is stale
                    pending.pop(other, None)
                for item in page.items:  # a later state replaces any waiting earlier one
                    pending.pop(item.id, None)
                batch.add(page)
                if page.delta_link:  # the last pages, the rest of the feed and the deltaLink: one transaction
                    with db.unit():
                        self._apply_batch(drive, batch, pending, generation)
                        self._finish(drive, list(pending.values()), generation, full, page.delta_link)
                    pending.clear()
                    finished = True
                    break  # the deltaLink ends the feed: nothing after it may change what was just completed
                if batch.size >= self.batch_items:
                    self._apply_batch(drive, batch, pending, generation)
            if not finished:
                raise GraphError(0, "incompleteFeed", "the delta feed ended without a deltaLink")
        except GraphError as exc:
            with db.unit():  # what was read before the feed broke off, and the drive marked incomplete: one commit
                self._apply_batch(drive, batch, pending, generation)
                # A full enumeration that broke off has stamped what it listed with its generation: the next one
                # counts from there, so what it does not list again (deleted in between) is known to be gone.
                drive_store.mark_incomplete(db, drive.id, str(exc), generation=generation if full else None)
            self.stats.drives_incomplete.append(drive.id)
            self.stats.drive_errors[drive.id] = exc
            log.warning("drive.incomplete", drive_id=drive.id, error=str(exc))
            return False
        return True

    def _apply_batch(self, drive: StoredDrive, batch: DeltaBatch, pending: dict[str, ItemChange],
                     generation: int) -> None:
        """The pages read since the last transaction, in one (their folders, their files, what they moved): the
        store's statements and commits go with the batch, not with Graph's page size."""
        if not batch.size:
            return
        with self.ctx.db.unit():
            waiting = self._apply_page(drive, list(batch.latest.values()), generation, tuple(batch.others))
        pending.update((i.id, i) for i in waiting)
        self._listed_before.add(drive.id)
        batch.clear()

    def _finish(self, drive: StoredDrive, waiting: list[ItemChange], generation: int, full: bool,
                delta_link: str) -> None:
        """Inside the last batch's transaction: the videos still waiting for a parent folder, what a full
        enumeration did not list, and the deltaLink. One commit for the last pages and the drive's completion: a
        crash before it leaves the drive as it was (the stored link is replayed), never half-finished."""
        self._apply_files(drive, waiting, generation, final=True)
        if full:
            self._forget_unlisted(drive, generation)
            self.stats.drives_enumerated.add(drive.id)
            if drive.id not in self._relisted_while_read:  # listed in full: what the folder holds came with it,
                self.stats.drives_relisted.pop(drive.id, None)  # unless it came before the folder's change did
        again = drive.id in self.stats.drives_relisted
        drive_store.mark_complete(self.ctx.db, drive.id, delta_link=None if again else delta_link,
                                 generation=generation, at=self.ctx.clock(), on=None if again else self.ctx.cycle_date)

    def _apply_page(self, drive: StoredDrive, items: list[ItemChange], generation: int,
                    others: tuple[str, ...] = ()) -> list[ItemChange]:
        """A batch of delta pages: its folders, then its files (``others``: the ids of those that are no video);
        returns the videos waiting for their parent folder."""
        folders = [i for i in items if i.is_folder or i.is_root]
        changed = drive_store.apply_folders(self.ctx.db, drive.id, folders)
        files = [i for i in items if not (i.is_folder or i.is_root)]
        waiting = self._apply_files(drive, files, generation, final=False)
        if changed:
            self._reclassify(drive, changed, skip={i.id for i in files} | set(others))
        return waiting

    # --- applying a page ----------------------------------------------------------------------------
    def _apply_files(self, drive: StoredDrive, items: list[ItemChange], gen: int, final: bool) -> list[ItemChange]:
        """Apply file changes in one read and one write; returns the videos that must wait for their parent
        folder (only when not ``final``)."""
        if not items:
            return []
        videos = [i for i in items if not i.deleted and is_video(i)]  # anything else is no business of ours
        known = recordings.in_drive(self.ctx.db, drive.id, [i.id for i in items if i.deleted] + [i.id for i in videos])
        where = locations(self.ctx.db, drive, self.recognition, {i.parent_id for i in videos if i.parent_id})
        moves = store_moves.moved_from(self.ctx.db, drive.id, [
            Arrival(i.id, i.name or "", i.created_at, i.size) for i in videos
            if i.id not in known and i.created_at is not None]) if videos else {}
        changed: list[StoredRecording] = []
        new: list[StoredRecording] = []
        events: list[AuditEvent] = []
        waiting: list[ItemChange] = []
        for item in items:
            rec = known.get(item.id)
            if item.deleted:
                if rec is not None and rec.state in (RecordingState.TRACKED, RecordingState.UNSURE):
                    changed.append(self._gone(rec, events, "Deleted in Microsoft 365 outside teamsretention "
                                              "(by a person or another policy); no longer tracked."))
                continue
            if not is_video(item):
                continue
            location = where.get(item.parent_id, Location.UNKNOWN) if item.parent_id else Location.ELSEWHERE
            if location is Location.UNKNOWN and not final:
                waiting.append(item)
                continue
            seen = classify(item, location, self.recognition)
            if seen.verdict is Verdict.UNSURE:
                self.stats.unsure_videos += 1
            if rec is None:
                if seen.verdict is not Verdict.NOT_RECORDING and item.created_at is not None:
                    new.append(self._discovered(drive, item, gen, seen, events, moves.get(item.id)))
            else:
                updated = self._seen(drive, rec, item, gen, seen, events)
                if updated is not None:
                    changed.append(updated)
        recordings.save(self.ctx.db, changed, new=new, events=events, before={r.id: r for r in known.values()})
        return waiting

    def _discovered(self, drive: StoredDrive, item: ItemChange, gen: int, seen: Recognition,
                    events: list[AuditEvent], moved: StoredRecording | None) -> StoredRecording:
        assert item.created_at is not None
        now = self.ctx.clock()
        unsure = seen.verdict is Verdict.UNSURE
        rec = StoredRecording(
            id=0, drive_id=drive.id, item_id=item.id, name=item.name or "", created_at=item.created_at,
            recorded_on=local_date(item.created_at, self.timezone), first_seen=now, last_seen=now, etag=item.etag,
            web_url=item.web_url, organizer_id=self._organizer(drive, item), drive_kind=drive.kind, size=item.size,
            sync_generation=gen, state=RecordingState.UNSURE if unsure else RecordingState.TRACKED,
            evidence=seen.evidence, recognition_note=seen.note or None, parent_id=item.parent_id,
            mime_type=item.mime_type)
        if moved is not None:  # an unsure copy too: once recognised, what covered the original covers it
            rec = dataclasses.replace(rec, moved_from=moved.ref.key)
            events.append(self.ctx.event(AuditKind.MOVED, rec, reason=f"Has the name, creation time and size of "
                                         f"{moved.ref.key} on another drive (moved or copied here): the "
                                         "exemptions, holds and tags of that recording cover this one too.",
                                         moved_from=moved.ref.key, evidence=rec.evidence))
        if unsure:
            events.append(self.ctx.event(AuditKind.UNSURE, rec, reason=f"A video in a Recordings folder that is not "
                                         f"taken for a Teams recording: {seen.note}. It is never warned about or "
                                         "deleted.", note=seen.note))
            return rec
        self.stats.recordings_new += 1
        events.append(self.ctx.event(AuditKind.DISCOVERED, rec, evidence=rec.evidence, reason=(
            f"Teams recording found, recorded {rec.recorded_on.isoformat()}; recognised by "
            f"{rec.evidence}.")))
        return rec

    def _seen(self, drive: StoredDrive, rec: StoredRecording, item: ItemChange, gen: int, seen: Recognition,
              events: list[AuditEvent]) -> StoredRecording | None:
        if seen.verdict is Verdict.NOT_RECORDING and rec.state is not RecordingState.TRACKED:
            if rec.state is RecordingState.UNSURE:  # left the Recordings folder: no longer our business
                events.append(self.ctx.event(AuditKind.VANISHED, rec, reason=f"No longer listed as unsure: "
                                             f"{seen.note}."))
                return dataclasses.replace(rec, state=RecordingState.GONE)
            return None
        restored, seen_at = rec.restored_on, rec.restored_at
        now = self.ctx.clock()
        if rec.state in (RecordingState.DELETED, RecordingState.GONE) or rec.delete_attempted_at is not None:
            restored, seen_at = (*restored, self.ctx.cycle_date), (*seen_at, now)
            events.append(self._back_event(rec))
        fresh = dataclasses.replace(
            rec, delete_attempted_at=None,  # listed alive: no delete of ours is pending
            restored_on=tuple(sorted(restored)), restored_at=tuple(sorted(seen_at)), name=item.name or rec.name,
            etag=item.etag, web_url=item.web_url, size=item.size, last_seen=now, sync_generation=gen,
            organizer_id=self._organizer(drive, item) or rec.organizer_id, parent_id=item.parent_id,
            mime_type=item.mime_type or rec.mime_type)
        return self._recognise(fresh, seen, events, "")

    def _back_event(self, rec: StoredRecording) -> AuditEvent:
        if rec.state is RecordingState.DELETED:
            self.stats.recordings_restored += 1
            why = ("Reappeared after teamsretention deleted it (restored from the recycle bin): a new notice "
                   "episode starts, with fresh warnings.")
            return self.ctx.event(AuditKind.RESTORED, rec, reason=why)
        if rec.delete_attempted_at is not None:
            # The delete request got no answer, and the file is listed alive: either the request was never
            # carried out, or it was and the organizer restored the file. We cannot tell, so both are on record
            # and the cautious reading wins: a new notice episode, never a second deletion without notice.
            self.stats.recordings_restored += 1
            why = (f"The delete request sent at {rec.delete_attempted_at:%Y-%m-%d %H:%M} UTC got no answer and the "
                   "file is here now: either it was never deleted, or it was deleted by teamsretention and "
                   "restored since. A new notice episode starts, with fresh warnings.")
            return self.ctx.event(AuditKind.RESTORED, rec, reason=why, possibly_deleted_at=str(rec.delete_attempted_at))
        # Whoever brought it back may be counting on it: it gets fresh warnings, like a restore.
        return self.ctx.event(AuditKind.REAPPEARED, rec, reason="Reappeared after it was deleted or moved away "
                              "outside teamsretention: a new notice episode starts, with fresh warnings.")

    def _recognise(self, rec: StoredRecording, seen: Recognition, events: list[AuditEvent],
                   why: str) -> StoredRecording:
        """Tracked and unsure follow what recognition says now, each change on record."""
        if seen.verdict is Verdict.RECORDING:
            if rec.state is RecordingState.UNSURE:
                # Back under governance after a time out of it: like a reappearance, it gets fresh warnings.
                events.append(self.ctx.event(AuditKind.RECOGNISED, rec, evidence=seen.evidence, reason=(
                    f"Now recognised as a Teams recording by {seen.evidence}{why}; a new notice episode starts, "
                    "with fresh warnings.")))
                return dataclasses.replace(
                    rec, state=RecordingState.TRACKED, evidence=seen.evidence, recognition_note=None,
                    restored_on=tuple(sorted((*rec.restored_on, self.ctx.cycle_date))),
                    restored_at=tuple(sorted((*rec.restored_at, self.ctx.clock()))))
            return dataclasses.replace(rec, state=RecordingState.TRACKED, evidence=seen.evidence,
                                       recognition_note=None)
        note = seen.note or "not recognised"
        if rec.state is RecordingState.TRACKED:
            events.append(self.ctx.event(AuditKind.UNTRACKED, rec, reason=(
                f"No longer recognised as a Teams recording{why}: {note}. teamsretention keeps it, will not warn "
                "about it or delete it, and lists it in plan."), note=note))
        return dataclasses.replace(rec, state=RecordingState.UNSURE, recognition_note=note)

    def _reclassify(self, drive: StoredDrive, folders: set[str], skip: set[str]) -> None:
        """A folder was renamed or moved: what it holds, and what its sub-folders hold, is classified again."""
        db = self.ctx.db
        affected = folders | drive_store.child_folders(db, drive.id, folders)
        now = locations(db, drive, self.recognition, affected)
        if any(where in (Location.RECORDINGS_FOLDER, Location.SPECIAL_FOLDER) for where in now.values()):
            # delta reports the folder, never what it holds, and no video outside a Recordings folder is stored;
            # written with the folder change, so a read that breaks off after it still lists the drive in full
            self.stats.drives_relisted[drive.id] = "a folder renamed or moved now counts as a Recordings folder"
            self._relisted_while_read |= {drive.id} & self._listed_before
            drive_store.relist(db, [drive.id])
        held = [r for r in recordings.in_folders(db, drive.id, affected) if r.item_id not in skip and r.parent_id]
        self._classify_again(drive, held, " (its folder was renamed or moved)")

    def reclassify_all(self, drive: StoredDrive) -> None:
        """The [recognition] settings changed (a suffix or folder name added): every tracked and unsure
        recording of the drive is classified again with them."""
        held = [r for r in recordings.governed_in_drive(self.ctx.db, drive.id) if r.parent_id]
        self._classify_again(drive, held, " (the recognition settings changed)")

    def _classify_again(self, drive: StoredDrive, held: list[StoredRecording], why: str) -> None:
        db = self.ctx.db
        if not held:
            return
        where = locations(self.ctx.db, drive, self.recognition, {r.parent_id for r in held if r.parent_id})
        events: list[AuditEvent] = []
        changed = []
        for rec in held:
            if (rec.evidence is not None and rec.evidence.value.endswith("facets")) or (
                    rec.recognition_note or "").startswith(FACETS_SAY):
                continue  # Graph's own facets said what it is: the folder it sits in does not matter
            seen = classify(_Seen(rec.name, rec.mime_type), where.get(rec.parent_id or "", Location.ELSEWHERE),
                            self.recognition)
            updated = self._recognise(rec, seen, events, why)
            if (updated.state, updated.evidence) != (rec.state, rec.evidence):
                changed.append(updated)
        recordings.save(db, changed, events=events)

    @staticmethod
    def _organizer(drive: StoredDrive, item: ItemChange) -> str | None:
        # A channel recording's createdBy.user is whoever pressed Record; an application (Teams' own service)
        # leaves no user: then the team's owners are warned (cycle.warn).
        return drive.owner_id if drive.kind is DriveKind.ONEDRIVE else item.created_by_id

    def _gone(self, rec: StoredRecording, events: list[AuditEvent], why: str) -> StoredRecording:
        """It left the drive: our own delete whose answer was lost, or someone else's doing."""
        if rec.delete_attempted_at is not None:
            return self._our_deletion(rec, events)
        if rec.state is RecordingState.TRACKED:
            self.stats.recordings_vanished += 1
        events.append(self.ctx.event(AuditKind.VANISHED, rec, reason=why))
        return dataclasses.replace(rec, state=RecordingState.GONE)

    def _our_deletion(self, rec: StoredRecording, events: list[AuditEvent]) -> StoredRecording:
        """Our delete request got no definite answer (timeout, shutdown), and no re-read has settled it since:
        the first time the file is seen gone is tied to that request."""
        assert rec.delete_attempted_at is not None
        deleted_on = local_date(rec.delete_attempted_at, self.timezone)
        events.append(self.ctx.event(AuditKind.DELETED, rec, rule=rec.rule, due=rec.due, reason=(
            f"Deleted by teamsretention: the delete request sent on {deleted_on} got no answer, and the file had "
            "left the drive when it was next looked at.")))
        return dataclasses.replace(rec, state=RecordingState.DELETED, deleted_at=rec.delete_attempted_at,
                                   deleted_on=deleted_on, delete_mode=rec.delete_mode or self.ctx.config.delete_mode,
                                   deletion_reported=False, delete_attempted_at=None)

    def _forget_unlisted(self, drive: StoredDrive, generation: int) -> None:
        """After a full enumeration, tracked recordings it did not list are gone."""
        events: list[AuditEvent] = []
        changed = [self._gone(rec, events, "Not listed by a full re-enumeration of its drive; no longer tracked.")
                   for rec in recordings.unlisted(self.ctx.db, drive.id, generation)]
        recordings.save(self.ctx.db, changed, events=events)
