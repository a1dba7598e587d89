"""Deciding whether a driveItem is a Teams meeting recording. Pure: no I/O.

Conservative by design: an item we are not confident about is *not* a recording, and is never deleted.
Signals (graph-notes.md "Recognising a recording"):

* the Teams facets ``source.application == "teams"`` and ``media.mediaSource.contentCategory == "meeting"``:
  documented on the beta driveItem only; v1.0 does not declare them, so on a real tenant they are usually
  absent. When Graph does send them they are authoritative: both must say Teams meeting;
* otherwise a video (``file.mimeType`` video/* or ``.mp4``) directly inside a Recordings folder where Teams
  puts recordings (a OneDrive's ``/Recordings``, a team site's ``/<channel folder>/Recordings``; or the
  folder Graph marks with the ``specialFolder`` facet ``recordings``), whose name carries the Teams
  timestamp and one of the known Teams suffixes (``-20240315_101502-Meeting Recording.mp4``, configurable
  per language). Both the place and the name must match.

Anything else in a Recordings folder is *unsure*: counted, listed in ``plan`` with the reason, never warned
or deleted. Recognition from delta is re-established from a plain GET (which carries
``parentReference.path``) before any warning or deletion: :func:`location_from_path`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from urllib.parse import unquote

from ..domain import DriveKind, Evidence, RecognitionConfig

SPECIAL_RECORDINGS = "recordings"  # the specialFolder name Graph documents for OneDrive for Business
FACETS_SAY = "Graph says it comes from"  # how a note from Teams' own facets begins: they are authoritative
_TIMESTAMP = re.compile(r"-(\d{8}_\d{6})(UTC)?-(?P<suffix>[^/]*)\.mp4$", re.IGNORECASE)


class Verdict(StrEnum):
    RECORDING = "recording"
    NOT_RECORDING = "not_recording"
    UNSURE = "unsure"  # a video in a Recordings folder that does not look like a Teams recording: listed


class Location(StrEnum):
    RECORDINGS_FOLDER = "recordings_folder"  # named as configured, where Teams puts recordings
    SPECIAL_FOLDER = "special_folder"  # the drive's special "recordings" folder, whatever its name
    ELSEWHERE = "elsewhere"
    UNKNOWN = "unknown"  # the parent folder has not been seen yet


class Describes(Protocol):
    """What recognition reads of an item: a delta entry or a fresh GET of it."""

    @property
    def name(self) -> str | None: ...
    @property
    def mime_type(self) -> str | None: ...
    @property
    def source_application(self) -> str | None: ...
    @property
    def content_category(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Recognition:
    verdict: Verdict
    evidence: Evidence | None = None  # for a recording: what it was recognised by
    note: str = ""  # for an unsure video: why it is not taken for a recording


def is_video(item: Describes) -> bool:
    return is_video_file(item.name, item.mime_type)


def is_video_file(name: str | None, mime_type: str | None) -> bool:
    """A video by its MIME type, or by the ``.mp4`` ending Teams gives its recordings."""
    return (mime_type or "").lower().startswith("video/") or (name or "").lower().endswith(".mp4")


def is_recordings_folder_name(name: str | None, config: RecognitionConfig) -> bool:
    wanted = {n.casefold() for n in config.folder_names}
    return (name or "").strip().casefold() in wanted


def classify(item: Describes, location: Location, config: RecognitionConfig) -> Recognition:
    """``location``: where the item is (``UNKNOWN`` is read as "elsewhere": call once the parent is known)."""
    if not is_video(item):
        return Recognition(Verdict.NOT_RECORDING, note="it is not a video")
    in_folder = location in (Location.RECORDINGS_FOLDER, Location.SPECIAL_FOLDER)
    app = (item.source_application or "").lower() or None
    category = (item.content_category or "").lower() or None
    if app is not None or category is not None:
        # Graph sent the facets: they are authoritative. Both must say Teams meeting.
        if app == "teams" and category == "meeting":
            return Recognition(Verdict.RECORDING, Evidence.TEAMS_FACETS)
        if in_folder:
            return Recognition(Verdict.UNSURE, note=f"{FACETS_SAY} {app or '?'} ({category or '?'}), "
                                                    "not from a Teams meeting")
        return Recognition(Verdict.NOT_RECORDING, note=f"{FACETS_SAY} {app or '?'} ({category or '?'})")
    if not in_folder:
        return Recognition(Verdict.NOT_RECORDING, note="it is not in a Recordings folder where Teams puts recordings")
    match = _TIMESTAMP.search(item.name or "")
    if match is None:
        return Recognition(Verdict.UNSURE, note="its name carries no Teams timestamp (-yyyymmdd_hhmmss-)")
    suffix = match["suffix"].strip()
    if suffix.casefold() not in {s.casefold() for s in config.name_suffixes}:
        return Recognition(Verdict.UNSURE, note=f"its name ends in {suffix!r}, not a known Teams suffix; if Teams "
                                                "names recordings so in your language, add it to "
                                                "recognition.name_suffixes")
    evidence = Evidence.SPECIAL_FOLDER_AND_NAME if location is Location.SPECIAL_FOLDER else Evidence.FOLDER_AND_NAME
    return Recognition(Verdict.RECORDING, evidence)


def location_from_path(path: str | None, drive_kind: DriveKind, config: RecognitionConfig, *,
                       parent_is_special: bool = False) -> Location:
    """Where a plain GET says the item is: ``parentReference.path`` is ``/drives/{id}/root:/Recordings`` (or
    ``/drive/root:/...``), percent-encoded. A OneDrive keeps recordings in ``/Recordings``, a team site in
    ``/<channel folder>/Recordings``. No path at all is not proof of anything: UNKNOWN."""
    if parent_is_special:
        return Location.SPECIAL_FOLDER
    if not path or "root:" not in path:
        return Location.UNKNOWN
    segments = [unquote(s) for s in path.split("root:", 1)[1].split("/") if s]
    # The same places the inventory accepts: /Recordings in any drive, /<channel folder>/Recordings in a team site.
    depths = (1,) if drive_kind is DriveKind.ONEDRIVE else (1, 2)
    if len(segments) in depths and is_recordings_folder_name(segments[-1], config):
        return Location.RECORDINGS_FOLDER
    return Location.ELSEWHERE
