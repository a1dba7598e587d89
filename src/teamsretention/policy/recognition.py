"""Deciding whether a driveItem is a Teams meeting recording. Pure: no I/O.

Conservative by design: an item we are not confident about is *not* a recording, and is never deleted.
Signals (graph-notes.md "Recognising a recording"):

* strong: ``source.application == "teams"`` and ``media.mediaSource.contentCategory == "meeting"``
  (documented on the beta driveItem; v1.0 delta may or may not return them, so they are optional);
* fallback: a video file (``file.mimeType`` video/* or ``.mp4``) directly inside a folder named
  ``Recordings`` (OneDrive root, or ``<channel folder>/Recordings`` in a team site) whose name carries the
  Teams timestamp ``-yyyymmdd_hhmmss`` (with an optional ``UTC`` and localised suffix such as
  "Meeting Recording" / "Mötesinspelning"). Both the folder and the name must match.

Any contradicting strong signal (another application, another content category) wins over the fallback.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ..ports import ItemChange

RECORDINGS_FOLDER_NAMES = frozenset({"recordings", "inspelningar"})
# "<Subject>-20240315_101502-Meeting Recording.mp4", "...-20240315_101502UTC-Mötesinspelning.mp4"
_TEAMS_NAME = re.compile(r"-\d{8}_\d{6}(UTC)?-[^/]*\.mp4$", re.IGNORECASE)


class Verdict(StrEnum):
    RECORDING = "recording"
    NOT_RECORDING = "not_recording"
    UNSURE = "unsure"  # a video in a Recordings folder that does not look like a Teams recording: counted


def is_video(item: ItemChange) -> bool:
    mime = (item.mime_type or "").lower()
    return mime.startswith("video/") or (item.name or "").lower().endswith(".mp4")


def classify(item: ItemChange, parent_is_recordings_folder: bool) -> Verdict:
    if item.is_folder or item.deleted or not is_video(item):
        return Verdict.NOT_RECORDING
    app = (item.source_application or "").lower() or None
    category = (item.content_category or "").lower() or None
    if app is not None or category is not None:
        # Graph sent the facets: they are authoritative. Both must say Teams meeting.
        if app == "teams" and category == "meeting":
            return Verdict.RECORDING
        return Verdict.UNSURE if parent_is_recordings_folder else Verdict.NOT_RECORDING
    if not parent_is_recordings_folder:
        return Verdict.NOT_RECORDING
    if _TEAMS_NAME.search(item.name or ""):
        return Verdict.RECORDING
    return Verdict.UNSURE


def is_recordings_folder_name(name: str | None) -> bool:
    return (name or "").strip().lower() in RECORDINGS_FOLDER_NAMES
