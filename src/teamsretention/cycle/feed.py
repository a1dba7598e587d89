"""What a drive's delta feed is read into before it reaches the store (``cycle.drives``): the pages read and
not yet applied, and where the folders their videos sit in are."""

from __future__ import annotations

from collections.abc import Iterable

from ..domain import DriveKind, RecognitionConfig
from ..policy import Location, is_recordings_folder_name
from ..policy.recognition import SPECIAL_RECORDINGS
from ..ports import DeltaPage, ItemChange
from ..store import drives as drive_store
from ..store.database import Database
from ..store.drives import StoredDrive


class DeltaBatch:
    """Delta pages read and not yet applied: each item's latest state, and the ids of the files that are no
    video. One feed may list an item twice: the last state wins, so a video that a later page lists as no
    video is dropped from the batch (as it is dropped from the videos waiting for their parent folder).
    ``size`` counts every item listed; a batch is applied once it reaches ``DriveSync.batch_items``, so it
    holds at most that many and one page more, however the feed is split into pages.

    What is applied is the state at the end of the batch, not each page's in turn, as Graph's own paging does
    within a page: a file a feed lists deleted and then alive again is applied alive (no disappearance and
    return on record, as if the feed had listed it once; one seen gone by an earlier cycle still gets its
    fresh notice), and a video a later page lists as no video is not stamped by a full enumeration, so it is
    no longer tracked. The re-read before any warning or deletion settles each file from Graph."""

    def __init__(self) -> None:
        self.latest: dict[str, ItemChange] = {}
        self.others: set[str] = set()
        self.size = 0

    def add(self, page: DeltaPage) -> None:
        for other in page.others:
            self.latest.pop(other, None)
        for item in page.items:
            self.latest.pop(item.id, None)  # re-inserted: folders and files keep the feed's order
            self.latest[item.id] = item
        self.others.update(page.others)
        self.size += len(page.items) + len(page.others)

    def clear(self) -> None:
        self.latest.clear()
        self.others.clear()
        self.size = 0


def locations(db: Database, drive: StoredDrive, recognition: RecognitionConfig,
              parent_ids: Iterable[str]) -> dict[str, Location]:
    """Per parent folder id: where Teams puts recordings (OneDrive: ``/Recordings``; team sites:
    ``/<channel folder>/Recordings``; or the folder Graph marks special "recordings")? UNKNOWN when the folder,
    or a folder above a Recordings folder that decides it, is not known yet. One read: each folder with its
    parent and its parent's parent."""
    wanted = list(set(parent_ids))
    chains = drive_store.folder_chains(db, drive.id, wanted) if wanted else {}
    channel = drive.kind is DriveKind.CHANNEL
    answer: dict[str, Location] = {}
    for pid in wanted:
        parent, grand, great = chains.get(pid, (None, None, None))
        if parent is None:
            answer[pid] = Location.UNKNOWN
        elif (parent.special or "").lower() == SPECIAL_RECORDINGS:
            answer[pid] = Location.SPECIAL_FOLDER
        elif not (is_recordings_folder_name(parent.name, recognition) and parent.parent_id):
            answer[pid] = Location.ELSEWHERE
        elif grand is None or (channel and not grand.is_root and grand.parent_id and great is None):
            # a folder above the Recordings folder not known yet (a page listed it before them): wait for it
            answer[pid] = Location.UNKNOWN
        else:
            great = great if channel and not grand.is_root else None
            inside = grand.is_root or (great is not None and great.is_root)
            answer[pid] = Location.RECORDINGS_FOLDER if inside else Location.ELSEWHERE
    return answer
