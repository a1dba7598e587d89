"""Step 1b of the cycle: what recordings the drives in scope hold.

get → transform → load, per drive, page by page: a delta page is applied to the store as soon as it
arrives (flat memory; one read of the page's known items and one batched write), and the drive's deltaLink
is stored only when the whole feed was read. A drive whose feed broke off is marked incomplete: its
recordings get neither warnings nor deletions this cycle (the partial result never drives a deletion), and
the next cycle replays the same deltaLink.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import structlog

from ..domain import DriveKind, RecordingState, local_date
from ..errors import GraphError
from ..policy import Verdict, classify, is_recordings_folder_name, is_video
from ..ports import ItemChange
from ..store import drives as drive_store
from ..store import recordings
from ..store.audit import AuditEvent, AuditKind
from ..store.drives import StoredDrive
from ..store.recordings import StoredRecording
from .config import CycleContext

log = structlog.get_logger(__name__)


class DriveSync:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self.stats = ctx.report.inventory
        self.timezone = ctx.config.policy.timezone

    async def run(self, drive: StoredDrive) -> bool:
        """Read the drive's changes; True when the feed was read to its deltaLink."""
        db = self.ctx.db
        generation = drive.sync_generation
        full = False
        final_link: str | None = None
        pending: dict[str, ItemChange] = {}  # videos whose parent folder had not been seen yet, by id
        try:
            async for page in self.ctx.gateway.drive_delta(drive.id, drive.delta_link):
                self.ctx.checkpoint()  # a long drive keeps the cycle lock alive, and stops if it was lost
                if page.reset:  # a (re)started full enumeration: earlier pages of this feed no longer count
                    full, generation = True, generation + 1
                    pending.clear()
                latest: dict[str, ItemChange] = {}
                for item in page.items:  # one feed may list an item twice: the last one wins
                    pending.pop(item.id, None)  # ...and a later state replaces any waiting earlier one
                    latest.pop(item.id, None)
                    latest[item.id] = item
                folders = [i for i in latest.values() if i.is_folder or i.is_root]
                drive_store.apply_folders(db, drive.id, folders)
                files = [i for i in latest.values() if not (i.is_folder or i.is_root)]
                pending.update((i.id, i) for i in self._apply_files(drive, files, generation, final=False))
                if page.delta_link:
                    final_link = page.delta_link
            if final_link is None:
                raise GraphError(0, "incompleteFeed", "the delta feed ended without a deltaLink")
        except GraphError as exc:
            drive_store.mark_incomplete(db, drive.id, str(exc))
            self.stats.drives_incomplete.append(drive.id)
            log.warning("drive.incomplete", drive_id=drive.id, error=str(exc))
            return False
        self._apply_files(drive, list(pending.values()), generation, final=True)
        if full:
            self._forget_unlisted(drive, generation)
        drive_store.mark_complete(db, drive.id, delta_link=final_link, generation=generation, at=self.ctx.clock())
        return True

    # --- recognition --------------------------------------------------------------------------------
    def _recordings_folders(self, drive: StoredDrive, parent_ids: Iterable[str]) -> dict[str, bool | None]:
        """Per parent folder id: is it a Recordings folder where Teams puts recordings (OneDrive:
        ``/Recordings``; team sites: ``/<channel folder>/Recordings``)? None when the folder is not known yet.
        Three batched reads at most: the parents, their parents, and (team sites) theirs."""
        db = self.ctx.db
        parents = drive_store.folders(db, drive.id, parent_ids)
        named = {pid: f for pid, f in parents.items() if is_recordings_folder_name(f.name) and f.parent_id}
        grands = drive_store.folders(db, drive.id, (f.parent_id for f in named.values() if f.parent_id))
        channel = drive.kind is DriveKind.CHANNEL
        greats = drive_store.folders(db, drive.id, (
            g.parent_id for g in grands.values() if channel and not g.is_root and g.parent_id))
        answer: dict[str, bool | None] = {}
        for pid in parent_ids:
            parent = parents.get(pid)
            if parent is None:
                answer[pid] = None
                continue
            if pid not in named:
                answer[pid] = False
                continue
            grand = grands.get(parent.parent_id or "")
            if grand is None:
                answer[pid] = False
            elif grand.is_root:
                answer[pid] = True
            else:
                great = greats.get(grand.parent_id or "") if channel else None
                answer[pid] = great is not None and great.is_root
        return answer

    # --- applying a page ----------------------------------------------------------------------------
    def _apply_files(self, drive: StoredDrive, items: list[ItemChange], gen: int, final: bool) -> list[ItemChange]:
        """Apply file changes in one read and one write; returns the videos that must wait for their parent
        folder (only when not ``final``)."""
        if not items:
            return []
        known = recordings.in_drive(self.ctx.db, drive.id, [i.id for i in items])
        videos = [i for i in items if not i.deleted and is_video(i)]
        in_folder = self._recordings_folders(drive, {i.parent_id for i in videos if i.parent_id})
        changed: list[StoredRecording] = []
        new: list[StoredRecording] = []
        events: list[AuditEvent] = []
        waiting: list[ItemChange] = []
        for item in items:
            rec = known.get(item.id)
            tracked = rec is not None and rec.state is RecordingState.TRACKED
            if item.deleted:
                if rec is not None and tracked:
                    changed.append(self._gone(rec, events, "Deleted in Microsoft 365 outside teamsretention "
                                              "(by a person or another policy); no longer tracked."))
                continue
            if not is_video(item):
                continue
            folder = in_folder.get(item.parent_id) if item.parent_id else False
            if folder is None and not final:
                waiting.append(item)
                continue
            verdict = classify(item, bool(folder))
            if verdict is Verdict.UNSURE:
                self.stats.unsure_videos += 1
            if verdict is not Verdict.RECORDING or item.created_at is None:
                if rec is not None and tracked:
                    changed.append(dataclasses.replace(rec, state=RecordingState.GONE))
                    events.append(self.ctx.event(AuditKind.UNTRACKED, rec, reason="No longer recognised as a "
                                                 "Teams recording (moved or renamed); teamsretention will not "
                                                 "delete it."))
                continue
            if rec is None:
                new.append(self._discovered(drive, item, gen, events))
            else:
                changed.append(self._seen(drive, rec, item, gen, events))
        recordings.save(self.ctx.db, changed, new=new, events=events)
        return waiting

    def _discovered(self, drive: StoredDrive, item: ItemChange, gen: int, events: list[AuditEvent]) -> StoredRecording:
        assert item.created_at is not None
        now = self.ctx.clock()
        rec = StoredRecording(
            id=0, drive_id=drive.id, item_id=item.id, name=item.name or "", created_at=item.created_at,
            recorded_on=local_date(item.created_at, self.timezone), first_seen=now, last_seen=now, etag=item.etag,
            web_url=item.web_url, organizer_id=self._organizer(drive, item), drive_kind=drive.kind, size=item.size,
            sync_generation=gen)
        self.stats.recordings_new += 1
        events.append(self.ctx.event(AuditKind.DISCOVERED, rec,
                                     reason=f"Teams recording found, recorded {rec.recorded_on.isoformat()}."))
        return rec

    def _seen(self, drive: StoredDrive, rec: StoredRecording, item: ItemChange, gen: int,
              events: list[AuditEvent]) -> StoredRecording:
        restored = rec.restored_on
        if rec.state is RecordingState.DELETED:
            restored = (*restored, self.ctx.cycle_date)
            self.stats.recordings_restored += 1
            events.append(self.ctx.event(AuditKind.RESTORED, rec, reason="Reappeared after teamsretention deleted "
                                         "it (restored from the recycle bin): a new notice episode starts, with "
                                         "fresh warnings."))
        elif rec.state is RecordingState.GONE:
            # Whoever brought it back may be counting on it: it gets fresh warnings, like a restore.
            restored = (*restored, self.ctx.cycle_date)
            events.append(self.ctx.event(AuditKind.REAPPEARED, rec, reason="Reappeared after it was deleted or "
                                         "moved away outside teamsretention: a new notice episode starts, with "
                                         "fresh warnings."))
        return dataclasses.replace(
            rec, state=RecordingState.TRACKED, delete_attempted_at=None,  # listed alive: no delete of ours pending
            restored_on=tuple(sorted(restored)), name=item.name or rec.name, etag=item.etag, web_url=item.web_url,
            size=item.size, last_seen=self.ctx.clock(), sync_generation=gen,
            organizer_id=self._organizer(drive, item) or rec.organizer_id)

    @staticmethod
    def _organizer(drive: StoredDrive, item: ItemChange) -> str | None:
        return drive.owner_id if drive.kind is DriveKind.ONEDRIVE else item.created_by_id

    def _gone(self, rec: StoredRecording, events: list[AuditEvent], why: str) -> StoredRecording:
        """It left the drive: our own delete whose answer was lost, or someone else's doing."""
        if rec.delete_attempted_at is not None:
            return self._our_deletion(rec, events)
        self.stats.recordings_vanished += 1
        events.append(self.ctx.event(AuditKind.VANISHED, rec, reason=why))
        return dataclasses.replace(rec, state=RecordingState.GONE)

    def _our_deletion(self, rec: StoredRecording, events: list[AuditEvent]) -> StoredRecording:
        """Our delete request got no definite answer (timeout, shutdown); its effect shows now."""
        assert rec.delete_attempted_at is not None
        deleted_on = local_date(rec.delete_attempted_at, self.timezone)
        events.append(self.ctx.event(AuditKind.DELETED, rec, rule=rec.rule, due=rec.due, reason=(
            f"Deleted by teamsretention: the delete request sent on {deleted_on} got no answer, and the file has "
            "since left the drive.")))
        return dataclasses.replace(rec, state=RecordingState.DELETED, deleted_at=rec.delete_attempted_at,
                                   deleted_on=deleted_on, delete_mode=rec.delete_mode or self.ctx.config.delete_mode,
                                   deletion_reported=False, delete_attempted_at=None)

    def _forget_unlisted(self, drive: StoredDrive, generation: int) -> None:
        """After a full enumeration, tracked recordings it did not list are gone."""
        events: list[AuditEvent] = []
        changed = [self._gone(rec, events, "Not listed by a full re-enumeration of its drive; no longer tracked.")
                   for rec in recordings.unlisted(self.ctx.db, drive.id, generation)]
        recordings.save(self.ctx.db, changed, events=events)
