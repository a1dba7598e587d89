"""The objects a simulated tenant is made of, and the change log delta replays.

Plain mutable records with ``slots`` (a 40,000-recording benchmark tenant must stay small); the
operations that keep them consistent live in :class:`teamsretention.simulator.model.TenantModel`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Performs a scheduled event on the model it was scheduled on; returns what happened (for the controls).
EventAction = Callable[[Any, "ScheduledEvent"], dict[str, Any]]


@dataclass(order=True, slots=True)
class ScheduledEvent:
    at: dt.datetime
    order: int  # events at the same time fire in the order they were scheduled
    kind: str = field(compare=False)
    params: dict[str, Any] = field(compare=False)
    fire: EventAction = field(compare=False, repr=False)


@dataclass(slots=True)
class SimUser:
    id: str
    display_name: str
    upn: str
    mail: str | None  # None: no mail address
    account_enabled: bool = True
    preferred_language: str | None = None
    has_onedrive: bool = True
    drive_id: str | None = None
    removed: bool = False
    seq: int = 0
    has_mailbox: bool = True  # False: mailboxSettings answers 404, mail to the user bounces (NDR)
    time_zone: str = "UTC"  # mailboxSettings.timeZone
    drive_generation: int = 0  # how often the OneDrive was re-provisioned (its URL gets a suffix)


@dataclass(slots=True)
class SimChannel:
    id: str
    display_name: str
    membership_type: str  # standard | private | shared
    drive_id: str
    folder_id: str


@dataclass(slots=True)
class SimGroup:
    id: str
    display_name: str
    is_team: bool = False
    member_ids: list[str] = field(default_factory=list)  # users or nested groups
    channels: list[SimChannel] = field(default_factory=list)
    drive_id: str | None = None
    removed: bool = False
    seq: int = 0
    owner_ids: list[str] = field(default_factory=list)  # users; GET /groups/{id}/owners


@dataclass(slots=True)
class Label:
    name: str
    behavior: str = "retain"  # doNotRetain | retain | retainAsRecord | retainAsRegulatoryRecord
    is_delete_allowed: bool = False
    is_record_locked: bool = False
    explicit: bool = True
    applied_at: dt.datetime | None = None

    @property
    def blocks_delete(self) -> bool:
        return not self.is_delete_allowed or self.is_record_locked


@dataclass(slots=True)
class SimItem:
    id: str
    drive_id: str
    name: str
    parent_id: str | None
    created: dt.datetime
    modified: dt.datetime
    is_folder: bool = False
    mime_type: str | None = None
    size: int = 0
    created_by: str | None = None  # user id
    teams_recording: bool = False
    label: Label | None = None
    version: int = 1  # the N in the eTag "{GUID},N"
    child_count: int = 0
    deleted: bool = False
    purged: bool = False  # permanently deleted: not restorable
    seq: int = 0
    guid: str = ""  # the GUID inside eTag/cTag, derived from the id on first use
    created_by_app: tuple[str, str] | None = None  # (app id, display name): createdBy is an application
    special: str | None = None  # the specialFolder name this folder would carry (knob recordings_special_folder)


class ChangeLog:
    """Sequence-numbered changes of one collection. Delta tokens are sequence numbers into it."""

    __slots__ = ("ids", "last", "seqs")

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.ids: list[str] = []
        self.last = 0

    def record(self, obj_id: str) -> int:
        self.last += 1
        self.seqs.append(self.last)
        self.ids.append(obj_id)
        return self.last

    def since(self, seq: int) -> Iterator[tuple[int, str]]:
        """Changes after ``seq``, oldest first (a binary search, so an unchanged replay is O(log n))."""
        start = bisect.bisect_right(self.seqs, seq)
        for i in range(start, len(self.seqs)):
            yield self.seqs[i], self.ids[i]


@dataclass(slots=True)
class SimDrive:
    id: str
    drive_type: str  # business (OneDrive) | documentLibrary (team and channel sites)
    name: str
    web_url: str
    root_id: str
    owner_user_id: str | None = None
    owner_group_id: str | None = None
    items: dict[str, SimItem] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # creation order: the full enumeration walks it
    log: ChangeLog = field(default_factory=ChangeLog)
    folders: dict[tuple[str, str], str] = field(default_factory=dict)  # (parent id, name) -> folder id
    site_id: str = ""  # the SharePoint site holding the drive (OneDrive: the personal site)
    removed: bool = False  # a replaced OneDrive: every request on its id answers 404


@dataclass(slots=True)
class SimSite:
    """A SharePoint site: a user's personal site, a team site or a private/shared channel's own site."""

    id: str  # "hostname,siteCollectionGuid,webGuid", as Graph spells site ids
    name: str
    display_name: str
    web_url: str
    drive_id: str  # the site's default document library (GET /sites/{id}/drive)
    created: dt.datetime
    removed: bool = False


@dataclass(slots=True)
class RecycledItem:
    drive_id: str
    item_id: str
    name: str
    deleted_at: dt.datetime
    deleted_by: str  # "app" (through Graph) or "user" (a scenario event)
