"""The two Microsoft Lists organizers and the DPO work in: their columns, as ``provision`` creates them and as
the cycle reads them (kernel: standard library only).

- **Assignments** (list-owned client assignments): ``Title`` is the assignment code (``ACME-0042``).
- **Retention requests**: an organizer asks to keep a recording (tag it to an assignment, or an exception,
  or a legal hold); the DPO or an IT admin decides by setting ``Status``. Who decided is taken from the
  item's version history (``lastModifiedBy`` of the version that changed ``Status``), never from a field.

Column names are SharePoint *internal* names (what Graph's ``fields`` carry); display names are what people
see. A date-only column reaches Graph as midnight of the site's time zone in UTC (``2026-11-01T23:00:00Z``
for 2 November in Stockholm): read it with :func:`field_date` in the policy time zone, never by slicing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo


class ColumnKind(StrEnum):
    TEXT = "text"  # single line, up to 255 characters
    NOTE = "note"  # multiple lines of plain text (a columnDefinition ``text`` with allowMultipleLines)
    CHOICE = "choice"
    DATE = "date"  # a columnDefinition ``dateTime`` with format ``dateOnly``


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # internal name, as in a listItem's ``fields``
    display_name: str
    kind: ColumnKind
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None  # a choice column's default value
    description: str = ""


@dataclass(frozen=True, slots=True)
class ListSchema:
    key: str  # "assignments" | "requests": the settings key naming the list
    display_name: str  # the list's default display name
    columns: tuple[Column, ...]  # besides the built-in Title

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


# --- Assignments ---------------------------------------------------------------------------------
A_STATUS_ACTIVE, A_STATUS_CLOSED = "Active", "Closed"

ASSIGNMENTS = ListSchema("assignments", "Assignments", (
    Column("AssignmentTitle", "Assignment", ColumnKind.TEXT, required=True,
           description="What the assignment is called"),
    Column("Client", "Client", ColumnKind.TEXT, description="The client the assignment is for"),
    Column("AssignmentStatus", "Status", ColumnKind.CHOICE, required=True,
           choices=(A_STATUS_ACTIVE, A_STATUS_CLOSED), default=A_STATUS_ACTIVE),
    Column("OpenedOn", "Opened", ColumnKind.DATE, required=True),
    Column("ClosedOn", "Closed", ColumnKind.DATE, description="Set when Status is Closed"),
))

# --- Retention requests --------------------------------------------------------------------------
KIND_TAG, KIND_EXCEPTION, KIND_LEGAL_HOLD = "Tag to assignment", "Exception", "Legal hold"
SCOPE_RECORDING, SCOPE_MINE, SCOPE_ASSIGNMENT, SCOPE_SITE = "Recording", "My recordings", "Assignment", "Team site"
R_STATUS_REQUESTED, R_STATUS_APPROVED, R_STATUS_REJECTED, R_STATUS_REVOKED = (
    "Requested", "Approved", "Rejected", "Revoked")

REQUESTS = ListSchema("requests", "Retention requests", (
    Column("RequestKind", "Kind", ColumnKind.CHOICE, required=True,
           choices=(KIND_TAG, KIND_EXCEPTION, KIND_LEGAL_HOLD), default=KIND_TAG),
    Column("Scope", "Applies to", ColumnKind.CHOICE, required=True,
           choices=(SCOPE_RECORDING, SCOPE_MINE, SCOPE_ASSIGNMENT, SCOPE_SITE), default=SCOPE_RECORDING,
           description="Recording: the link below; My recordings: all recordings you organised; Assignment: "
                       "all recordings tagged to the code below; Team site: the site at the link below"),
    Column("RecordingLink", "Recording link", ColumnKind.NOTE,
           description="The recording's link (Copy link in OneDrive or Teams), or the team site's address"),
    Column("AssignmentCode", "Assignment code", ColumnKind.TEXT,
           description="For Tag to assignment, or Applies to = Assignment"),
    Column("Reason", "Reason", ColumnKind.NOTE, required=True),
    Column("LegalBasis", "Legal basis", ColumnKind.NOTE,
           description="Required for an exception or a legal hold"),
    Column("EndDate", "Keep until", ColumnKind.DATE, description="Required for an exception"),
    Column("ReviewDate", "Review on", ColumnKind.DATE, description="Required for a legal hold"),
    Column("RequestStatus", "Status", ColumnKind.CHOICE, required=True,
           choices=(R_STATUS_REQUESTED, R_STATUS_APPROVED, R_STATUS_REJECTED, R_STATUS_REVOKED),
           default=R_STATUS_REQUESTED, description="Set by the DPO or an IT administrator"),
    Column("DecisionNote", "Decision note", ColumnKind.NOTE),
))

SCHEMAS = (ASSIGNMENTS, REQUESTS)


def field_text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return value.strip() if isinstance(value, str) else ""


def field_date(fields: dict[str, Any], name: str, timezone: str) -> dt.date | None:
    """A date column's value as the calendar date it shows in SharePoint; None when empty. Raises ValueError when
    the value is not an ISO date or datetime.

    A date-only column reaches Graph as midnight in the *site's* regional time zone, in UTC, and Graph v1.0 does
    not say which zone that is. Midnight in ``timezone`` (the policy's) is that date; any other value is midnight
    in some zone from UTC-10 to UTC+14, so its date follows from its UTC time of day: up to 10:00, the same day
    (a site west of UTC); after it, the next (a site east of UTC). Only a site at UTC-11 (a day later: the
    safe side) or UTC+14 (a day early) would read otherwise."""
    value = fields.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name}: {value!r} is not a date")
    text = value.strip()
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.date()
    local = moment.astimezone(ZoneInfo(timezone))
    if local.time() == dt.time(0):
        return local.date()
    utc = moment.astimezone(dt.UTC)
    return utc.date() if utc.time() <= dt.time(10) else utc.date() + dt.timedelta(days=1)
