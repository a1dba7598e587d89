"""Which drives a cycle reads: every drive with work coming daily, an idle drive every few days.

A drive is *idle* when none of its tracked recordings may change decision (a warning, a deletion, a cover
ending, facts not yet evaluated) within the coming ``policy.max_poll_interval_days`` (``P``): its recordings'
``review_on`` dates say so (``policy.review``). An idle drive is read with delta once every ``P`` days, on the
day a stable hash of its id gives it (``slot``), so the reads spread evenly over the days; and never more than
``P`` days apart whatever the cycles missed. Settings make ``P`` at most ``retention_days - max(warning_days)
- 1``: a recording that arrives in an idle drive is found at most ``P`` days later, before its first warning
is due. Read daily whatever its recordings say: a drive never read or read incomplete last time, one that
came back into scope, one read for the last time more than ``P - 1`` days ago (or, the clock having gone
back, later than today), and every drive when the [recognition] settings changed (what is stored is
classified again).

A skipped drive's recordings are not "incomplete": nothing in them can be due within ``P`` days, and their
facts are what the last read established. A governance change (an assignment closed, an exemption revoked)
can make one of them due at once: the cycle evaluates it with the new facts, and its warning is preceded by
the re-read of the item and its label, as every warning and deletion is; its new ``review_on`` makes the
drive busy, so it is read daily from the next cycle on. No deletion can follow without a warning first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zlib

from ..domain import RecognitionConfig
from ..store import directory as directory_store
from ..store import drives as drive_store
from ..store import evaluation
from ..store.database import Database
from ..store.drives import StoredDrive

RECOGNITION_KEY = "recognition_settings"  # the [recognition] settings the stored inventory was classified with
RELISTED_KEY = "recognition_relisted"  # the drives listed in full (or due to be) for new [recognition] settings


def recognition_fingerprint(recognition: RecognitionConfig) -> str:
    return json.dumps(dataclasses.asdict(recognition), sort_keys=True)


def slot(drive_id: str, interval: int) -> int:
    """The day (modulo ``interval``) an idle drive is read: stable across processes and runs."""
    return zlib.crc32(drive_id.encode("utf-8")) % interval


def must_read(drive: StoredDrive, cycle_date: dt.date, interval: int, busy: set[str]) -> bool:
    """Whether a cycle of ``cycle_date`` reads ``drive`` (``busy``: drives with work within ``interval``)."""
    if interval <= 1 or drive.id in busy or not drive.complete or drive.delta_link is None:
        return True
    if drive.polled_on is None or drive.polled_on > cycle_date:
        return True
    if (cycle_date - drive.polled_on).days >= interval:
        return True
    return cycle_date.toordinal() % interval == slot(drive.id, interval)


def split_idle(db: Database, drives: list[StoredDrive], cycle_date: dt.date, interval: int,
               recognition: RecognitionConfig) -> tuple[list[StoredDrive], list[StoredDrive]]:
    """(drives to read, idle drives skipped this cycle), each in the order given."""
    if interval <= 1 or directory_store.sync_state(db, RECOGNITION_KEY) != recognition_fingerprint(recognition):
        return list(drives), []
    busy = evaluation.drives_with_work(db, cycle_date + dt.timedelta(days=interval))
    read = [d for d in drives if must_read(d, cycle_date, interval, busy)]
    chosen = {d.id for d in read}
    return read, [d for d in drives if d.id not in chosen]


def relist_for_new_folder_names(db: Database, drives: list[StoredDrive], stored: str | None,
                                recognition: RecognitionConfig, relisted: dict[str, str],
                                enumerated: set[str]) -> None:
    """``[recognition] folder_names`` gained a name (``stored``: the settings the inventory was classified with):
    a drive holding a folder of that name is listed in full by the next cycle, since no video outside a
    Recordings folder was stored (those listed in full this cycle came with what they hold)."""
    try:
        before = json.loads(stored or "")["folder_names"]
    except (ValueError, KeyError, TypeError):
        return  # never classified, or settings of an older release: every drive is read as it is
    added = {n.casefold() for n in recognition.folder_names} - {str(n).casefold() for n in before}
    if not added:
        return
    # once per drive for these settings, though they come into force only when every drive was read
    try:
        done = json.loads(directory_store.sync_state(db, RELISTED_KEY) or "{}")
    except ValueError:
        done = {}
    already = set(done.get("drives", ())) if isinstance(done, dict) and done.get("settings") == \
        recognition_fingerprint(recognition) else set()
    wanted = [d.id for d in drives if d.id not in enumerated and d.id not in already]
    found = {drive_id: name for drive_id, name in drive_store.folder_names(db, wanted)
             if name.strip().casefold() in added}
    for drive_id, name in found.items():
        relisted[drive_id] = f"[recognition] folder_names now names {name!r}, a folder it holds"
    drive_store.relist(db, found)
    directory_store.set_sync_state(db, RELISTED_KEY, json.dumps({
        "settings": recognition_fingerprint(recognition), "drives": sorted(already | set(found) | enumerated)}))
