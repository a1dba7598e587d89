"""The types the policy and the cycle speak. Pure data: no I/O, no msgraph types.

Everything here is immutable; adapters (``graph/``, ``store/``) translate to and from these types.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo


def local_date(moment: dt.datetime, timezone: str) -> dt.date:
    """The calendar date of ``moment`` in ``timezone``: the recorded date of a recording, the date a cycle
    run at ``moment`` counts for. All policy dates are such dates (design §2, "Time").

    A naive datetime is refused: Graph's timestamps and the store's are always aware, so a naive one is a
    bug upstream, and guessing its zone could move a date by one day.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("local_date needs a timezone-aware datetime")
    return moment.astimezone(ZoneInfo(timezone)).date()


class Action(StrEnum):
    KEEP = "keep"
    WARN = "warn"
    DELETE = "delete"


class Rule(StrEnum):
    """Machine-readable rule codes carried by every Decision (design §2)."""

    LABEL = "label"
    EXEMPTION = "exemption"
    LEGAL_HOLD = "legal_hold"
    ASSIGNMENT = "assignment"
    PENDING = "pending"
    YOUNG = "young"
    BASE_DUE = "base_due"
    NOTICE_FLOOR = "notice_floor"
    PROMISED = "promised"
    FAIL_CLOSED = "fail_closed"  # always rendered as "fail_closed:<fact>"


class DriveKind(StrEnum):
    ONEDRIVE = "onedrive"
    CHANNEL = "channel"


class RunMode(StrEnum):
    ENFORCE = "enforce"  # policy.enforce = true: mail goes out, deletions happen
    DRY_RUN = "dry_run"  # policy.enforce = false: would-be warnings audited, nothing sent or deleted
    PLAN = "plan"  # read-only: nothing recorded but the inventory


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    INCOMPLETE = "incomplete"  # a drive, the directory or a send did not fully succeed
    INTERRUPTED = "interrupted"  # stopped at a checkpoint by a shutdown request
    SAFETY_STOP = "safety_stop"  # the blast-radius limit stopped deletions
    FAILED = "failed"


class RecordingState(StrEnum):
    TRACKED = "tracked"  # in the inventory and governed
    UNSURE = "unsure"  # a video in a Recordings folder we do not (or no longer) recognise: listed, never touched
    DELETED = "deleted"  # deleted by teamsretention
    GONE = "gone"  # deleted or moved away by someone else


class Evidence(StrEnum):
    """What a recording was recognised by (stored with it, shown in plan and the cycle summary)."""

    TEAMS_FACETS = "teams_facets"  # source.application = teams, media.mediaSource.contentCategory = meeting
    FOLDER_AND_NAME = "recordings_folder_and_teams_name"  # a Recordings folder where Teams puts them
    SPECIAL_FOLDER_AND_NAME = "special_folder_and_teams_name"  # the drive's special "recordings" folder
    BETA_FACETS = "beta_teams_facets"  # a folder-and-name candidate confirmed by a beta read of its facets


# Teams' own names, per language, for the folder it records into and the file-name suffix it uses
# ("<Subject>-20240315_101502-Meeting Recording.mp4"). Configurable: [recognition] folder_names and
# name_suffixes; an unknown suffix makes a video "unsure" and plan names it, so an admin can add it.
DEFAULT_FOLDER_NAMES = ("Recordings", "Inspelningar", "Aufzeichnungen", "Enregistrements", "Grabaciones",
                        "Opnamen", "Tallenteet", "Optagelser", "Opptak")
DEFAULT_NAME_SUFFIXES = ("Meeting Recording", "Mötesinspelning", "Besprechungsaufzeichnung",
                         "Enregistrement de la réunion", "Grabación de la reunión", "Opname van vergadering",
                         "Kokouksen tallenne", "Mødeoptagelse", "Møteopptak")


@dataclass(frozen=True, slots=True)
class RecognitionConfig:
    """The [recognition] values: what makes a video a Teams recording when Graph sends no Teams facets."""

    folder_names: tuple[str, ...] = DEFAULT_FOLDER_NAMES
    name_suffixes: tuple[str, ...] = DEFAULT_NAME_SUFFIXES
    confirm_with_beta: bool = False  # read the beta source/media facets once before the first warning


class DigestStatus(StrEnum):
    """A digest's (and its warnings') state. Only SENT (Graph answered 202) starts a notice clock."""

    INTENDED = "intended"  # recorded before the send; stays so when the outcome is unknown
    SENT = "sent"
    FAILED = "failed"  # a definite refusal: may be tried again the same day
    DRY_RUN = "dry_run"  # enforce = false: what would have been sent
    UNDELIVERABLE = "undeliverable"  # nobody to send it to


class LabelStatus(StrEnum):
    UNREAD = "unread"  # not read this cycle: the policy asks for it before any warn or delete
    NONE = "none"  # read: the item carries no retention label
    PRESENT = "present"  # read: a label is applied (see its settings)
    FAILED = "failed"  # the read failed: fail closed


class AssignmentStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class ExemptionKind(StrEnum):
    LEGAL_HOLD = "legal_hold"  # open-ended, has a review date
    EXCEPTION = "exception"  # time-boxed (valid_until) or open-ended when valid_until is None


class ExemptionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"


class TargetKind(StrEnum):
    RECORDING = "recording"  # target_id = "<drive_id>/<item_id>"
    ORGANIZER = "organizer"  # target_id = organizer's user object id
    ASSIGNMENT = "assignment"  # target_id = assignment id
    SITE = "site"  # target_id = drive id of a team site


@dataclass(frozen=True, slots=True)
class Person:
    """A directory user as far as the cycle needs one."""

    id: str
    display_name: str = ""
    upn: str = ""
    mail: str | None = None  # None: no mailbox
    preferred_language: str | None = None
    account_enabled: bool = True

    @property
    def reachable(self) -> bool:
        return bool(self.mail) and self.account_enabled


@dataclass(frozen=True, slots=True)
class RecordingRef:
    drive_id: str
    item_id: str

    @property
    def key(self) -> str:
        return f"{self.drive_id}/{self.item_id}"


@dataclass(frozen=True, slots=True)
class Recording:
    """A Teams meeting recording tracked in the inventory."""

    ref: RecordingRef
    name: str
    created_at: dt.datetime  # timezone-aware (Graph's createdDateTime)
    etag: str | None = None
    web_url: str | None = None
    organizer_id: str | None = None
    drive_kind: DriveKind = DriveKind.ONEDRIVE
    size: int | None = None


@dataclass(frozen=True, slots=True)
class RetentionLabel:
    status: LabelStatus = LabelStatus.UNREAD
    name: str | None = None
    is_delete_allowed: bool | None = None
    is_record_locked: bool | None = None
    behavior: str | None = None  # doNotRetain | retain | retainAsRecord | retainAsRegulatoryRecord

    @property
    def clearly_allows_deletion(self) -> bool:
        """A label we can read as allowing deletion: delete allowed, not a locked record, retention behaviour
        "doNotRetain". Settings that say nothing (``{}``), an unknown behaviour (``unknownFutureValue``) or a
        missing value are not clear."""
        return (self.is_delete_allowed is True and self.is_record_locked is not True
                and self.behavior == "doNotRetain")

    @property
    def blocks_deletion(self) -> bool:
        """We never fight Purview: any label present that does not clearly allow deletion blocks it."""
        return self.status is LabelStatus.PRESENT and not self.clearly_allows_deletion


@dataclass(frozen=True, slots=True)
class AssignmentTag:
    """The recording is tagged to a client assignment (uppdrag)."""

    assignment_id: str
    assignment_name: str
    active: bool
    tagged_on: dt.date
    closed_on: dt.date | None = None  # set when the assignment was closed
    untagged_on: dt.date | None = None  # set when the tag was removed
    closed_at: dt.datetime | None = None  # when the closing was recorded (None: not known within the day)
    untagged_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Exemption:
    """An exemption (request) that applies to this recording through one of its targets."""

    id: str
    kind: ExemptionKind
    status: ExemptionStatus
    requested_on: dt.date
    target_kind: TargetKind = TargetKind.RECORDING
    target_id: str = ""
    decided_on: dt.date | None = None  # approved or rejected on
    valid_until: dt.date | None = None  # time-boxed exceptions: the date the cover ends (= due date)
    review_on: dt.date | None = None  # legal holds
    revoked_on: dt.date | None = None
    recorded_at: dt.datetime | None = None  # when the request reached teamsretention (it may be back-dated)
    decided_at: dt.datetime | None = None  # when the decision was recorded (None: not known within the day)
    revoked_at: dt.datetime | None = None
    requested_by: str = ""
    decided_by: str = ""
    reason: str = ""
    requested_by_id: str | None = None  # the requester's Entra object id, when known (list rows have it)
    # an exemption of an assignment, reaching this recording through a tag removed on cut_on (recorded at cut_at):
    # it covers no more from then on, and what it covered then ends there, as a revocation would
    cut_on: dt.date | None = None
    cut_at: dt.datetime | None = None

    @property
    def requester(self) -> str:
        """Who asked, as one person: the Entra object id when known (a renamed user stays the same), else the
        name recorded."""
        return (self.requested_by_id or self.requested_by).lower()


@dataclass(frozen=True, slots=True)
class WarningSent:
    """A warning Graph accepted (202) for this recording."""

    sent_on: dt.date  # the date of the cycle that sent it
    announced_due: dt.date
    sent_at: dt.datetime | None = None  # when Graph accepted it (None: not known within the day)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the store and Graph know about one recording, gathered before evaluation."""

    label: RetentionLabel = field(default_factory=RetentionLabel)
    assignments: tuple[AssignmentTag, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    warnings: tuple[WarningSent, ...] = ()
    restored_on: tuple[dt.date, ...] = ()  # dates it reappeared after we deleted it
    restored_at: tuple[dt.datetime, ...] = ()  # when those reappearances were seen, where known
    # enforcement switched (back) on after a dry-run period: warnings from before it no longer count
    enforced_since: dt.datetime | None = None
    unknown: frozenset[str] = frozenset()  # facts that could not be established: "inventory", "store", ...


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """The [policy] values the pure function needs (validated by settings)."""

    retention_days: int = 30
    warning_days: tuple[int, ...] = (7, 1)
    minimum_notice_days: int = 7
    assignment_max_days: int = 365
    pending_request_grace_days: int = 14
    timezone: str = "Europe/Stockholm"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    rule: str  # a Rule value, or "fail_closed:<fact>"
    reason: str  # one sentence a DPO can read
    due: dt.date | None = None  # effective deletion date (None: no date while an open-ended cover holds)
    recorded_on: dt.date | None = None
    episode_start: dt.date | None = None  # warnings before this date do not count
    needs_label: bool = False  # would warn/delete but the label was not read: read it, evaluate again

    @property
    def is_fail_closed(self) -> bool:
        return self.rule.startswith(Rule.FAIL_CLOSED.value)
