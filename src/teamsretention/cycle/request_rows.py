"""One row of the "Retention requests" list, read into what it asks for, or why it cannot be applied.

The requester is the item's creator (``createdBy``). A row that asks to keep one recording must come from the
recording's organizer or an approver (anyone else could hold back another's deletions for the grace period).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..domain import ExemptionKind, RecordingRef, TargetKind, local_date
from ..lists import (
    KIND_EXCEPTION,
    KIND_LEGAL_HOLD,
    KIND_TAG,
    R_STATUS_APPROVED,
    R_STATUS_REQUESTED,
    REQUESTS,
    SCOPE_ASSIGNMENT,
    SCOPE_MINE,
    SCOPE_RECORDING,
    SCOPE_SITE,
    field_date,
    field_text,
)
from ..ports import Identity, ListItemChange, ListItemVersion
from ..store import assignments
from ..store.exemptions import NewRequest, StoredExemption
from . import targets
from .config import CycleContext
from .roles import cycle_roles


@dataclass(frozen=True, slots=True)
class TagRow:
    code: str
    ref: RecordingRef


@dataclass(frozen=True, slots=True)
class RowProblem:
    text: str
    unknown_code: bool = False
    # what a later cycle may see otherwise: a recording or an assignment the store does not know yet (its drive
    # not read since, the Assignments list unreadable), or an organizer check Graph could not answer
    transient: bool = False


def label(who: Identity | None) -> str:
    """The acting identity as the audit trail names list actors: ``"<displayName> <object id>"``."""
    if who is None:
        return "unknown"
    return f"{who.display_name or who.email or 'unnamed'} {who.id or '(no Entra id)'}".strip()


def _shown(name: str) -> str:
    return REQUESTS.column(name).display_name


async def _recording(ctx: CycleContext, link: str, who: Identity) -> RecordingRef | RowProblem:
    if not link:
        return RowProblem(f"{_shown('RecordingLink')} is empty")
    if not targets.is_url(link):
        return RowProblem(f"{_shown('RecordingLink')} {link[:200]!r} is not a web link (use Copy link)")
    ref = await targets.resolve_recording(ctx.db, ctx.gateway, link)
    if ref is None:
        return RowProblem(f"{_shown('RecordingLink')} {link[:200]!r} points to no recording", transient=True)
    governed, organizer = targets.organizer_of(ctx.db, ref.key)
    if not governed:
        return RowProblem(f"{_shown('RecordingLink')} points to a file teamsretention does not govern as a recording",
                          transient=True)
    roles = cycle_roles(ctx)
    if organizer is not None and organizer.lower() == (who.id or "").lower() or await roles.roles_of(who.id):
        return ref
    if organizer is not None:
        return RowProblem(f"{label(who)} did not organise that recording: only its organizer (or the DPO or an IT "
                          "admin) asks to keep it", transient=roles.uncertain(who.id))
    # no user made it (Teams' own service recorded it): its team's owners read its warnings, so they may ask
    owners = await targets.team_owners_of(ctx.db, ctx.gateway, ref.drive_id)
    if owners is not None and (who.id or "").lower() in owners:
        return ref
    if owners is None:
        return RowProblem(f"that recording has no organizer and its team's owners could not be read from Graph, so "
                          f"whether {label(who)} owns the team is not known", transient=True)
    return RowProblem(f"{label(who)} is no owner of the team whose channel holds that recording (no user made it: "
                      "Teams' service recorded it): only the team's owners (or the DPO or an IT admin) ask to keep it",
                      transient=roles.uncertain(who.id))


def _code(code: str) -> str | RowProblem:
    if not code:
        return RowProblem(f"{_shown('AssignmentCode')} is empty")
    return code  # known or not: the caller says which


async def parse_row(ctx: CycleContext, item: ListItemChange, who: Identity) -> NewRequest | TagRow | RowProblem:
    f, tz = item.fields, ctx.config.policy.timezone
    kind = field_text(f, "RequestKind") or KIND_TAG
    link, code = field_text(f, "RecordingLink"), field_text(f, "AssignmentCode")
    if kind == KIND_TAG:
        ref = await _recording(ctx, link, who)
        checked = _code(code)
        if isinstance(ref, RowProblem) or isinstance(checked, RowProblem):
            return ref if isinstance(ref, RowProblem) else checked  # type: ignore[return-value]
        if not assignments.has_assignment(ctx.db, code):
            return RowProblem(f"{_shown('AssignmentCode')} {code!r} is no known assignment", unknown_code=True,
                              transient=True)
        return TagRow(code, ref)
    if kind not in (KIND_EXCEPTION, KIND_LEGAL_HOLD):
        return RowProblem(f"{_shown('RequestKind')} {kind!r} is not one of {KIND_TAG}, {KIND_EXCEPTION}, "
                          f"{KIND_LEGAL_HOLD}")
    requested_on = local_date(item.created_at, tz) if item.created_at else ctx.cycle_date
    terms = _terms(f, kind, tz, requested_on)
    if isinstance(terms, RowProblem):
        return terms
    end, review = terms
    scope = field_text(f, "Scope") or SCOPE_RECORDING
    target: tuple[TargetKind, str] | RowProblem
    if scope == SCOPE_RECORDING:
        ref = await _recording(ctx, link, who)
        target = ref if isinstance(ref, RowProblem) else (TargetKind.RECORDING, ref.key)
    elif scope == SCOPE_MINE:
        target = (TargetKind.ORGANIZER, who.id or "")
    elif scope == SCOPE_ASSIGNMENT:
        checked = _code(code)
        target = checked if isinstance(checked, RowProblem) else (
            (TargetKind.ASSIGNMENT, code) if assignments.has_assignment(ctx.db, code) else
            RowProblem(f"{_shown('AssignmentCode')} {code!r} is no known assignment", unknown_code=True,
                       transient=True))
    elif scope == SCOPE_SITE:
        site = await targets.resolve_site(ctx.db, ctx.gateway, link) if link else None
        target = (TargetKind.SITE, site) if site else RowProblem(
            f"{_shown('RecordingLink')} {link[:200]!r} is no team site in the inventory (link its document library)")
    else:
        target = RowProblem(f"{_shown('Scope')} {scope!r} is not one of {SCOPE_RECORDING}, {SCOPE_MINE}, "
                            f"{SCOPE_ASSIGNMENT}, {SCOPE_SITE}")
    if isinstance(target, RowProblem):
        return target
    return NewRequest(
        kind=ExemptionKind.EXCEPTION if kind == KIND_EXCEPTION else ExemptionKind.LEGAL_HOLD,
        target_kind=target[0], target_id=target[1], reason=field_text(f, "Reason"),
        legal_basis=field_text(f, "LegalBasis"), requested_on=requested_on, requested_by=label(who),
        requested_by_id=who.id, valid_until=end, review_on=review, source="list", list_item_id=item.id)


def _terms(f: dict[str, object], kind: str, tz: str,
           requested_on: dt.date) -> tuple[dt.date | None, dt.date | None] | RowProblem:
    for name in ("Reason", "LegalBasis"):
        if not field_text(f, name):
            return RowProblem(f"{_shown(name)} is empty (required for an exception or a legal hold)")
    dates: dict[str, dt.date | None] = {}
    for name in ("EndDate", "ReviewDate"):
        try:
            dates[name] = field_date(f, name, tz)
        except ValueError:
            return RowProblem(f"{_shown(name)} {f.get(name)!r} is not a date")
    end, review = dates["EndDate"], dates["ReviewDate"]
    if kind == KIND_EXCEPTION:
        if end is None:
            return RowProblem(f"{_shown('EndDate')} is empty (an exception needs an end date)")
        if end <= requested_on:
            return RowProblem(f"{_shown('EndDate')} {end} is not after the request ({requested_on})")
        return end, None
    if review is None:
        return RowProblem(f"{_shown('ReviewDate')} is empty (a legal hold needs a review date)")
    if review <= requested_on:
        return RowProblem(f"{_shown('ReviewDate')} {review} is not after the request ({requested_on})")
    return None, review


# --- the version history: who set Status ------------------------------------------------------------
def shows_who_set(versions: list[ListItemVersion], version: ListItemVersion, item: ListItemChange) -> bool:
    """Whether the history shows who set Status: the setting version has an older one before it, or is the row's
    creation (1.0, written when it was created). The oldest version kept otherwise was rewritten in place
    (versioning off) or follows versions a limit trimmed: the one who set Status may be gone from it."""
    return version is not versions[-1] or (version.id == "1.0" and same_moment(version.modified_at, item.created_at))


def same_moment(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    """Version 1.0 written when the item was created (seconds apart at most); unknown times do not match."""
    return a is not None and b is not None and abs((a - b).total_seconds()) <= 5


def deciding_version(versions: list[ListItemVersion], status: str) -> ListItemVersion | None:
    """The version that set ``RequestStatus`` to ``status`` (newest first: the oldest of the newest run of
    versions carrying it). None when the newest version does not carry it."""
    if not versions or field_text(versions[0].fields, "RequestStatus") != status:
        return None
    found = versions[0]
    for v in versions[1:]:
        if (field_text(v.fields, "RequestStatus") or R_STATUS_REQUESTED) != status:
            break
        found = v
    return found


def version_key(version: ListItemVersion) -> str:
    """A version as the store marks it handled: its id and when it was saved. Rewritten in place (versioning
    off), the same id saved again is another decision, looked at again."""
    return f"{version.id}@{version.modified_at:%Y%m%dT%H%M%S}" if version.modified_at else version.id


# The columns that say what a request keeps, and until when (Reason, Legal basis: the evidence kept as read).
TERMS = ("RequestKind", "Scope", "RecordingLink", "AssignmentCode", "EndDate", "ReviewDate")


def read_from(versions: list[ListItemVersion], recorded_at: dt.datetime | None) -> ListItemVersion | None:
    """The version a request was read from: the newest saved before the store recorded it (newest first)."""
    for v in versions:
        if recorded_at is not None and v.modified_at is not None and v.modified_at <= recorded_at:
            return v
    return None


def _relevant(e: StoredExemption) -> tuple[str, ...]:
    """The columns of :data:`TERMS` that say something about this request (a code on a one-recording row does not)."""
    return ("RequestKind", "Scope", *(("RecordingLink",) if e.target_kind in (TargetKind.RECORDING, TargetKind.SITE)
                                      else ()),
            *(("AssignmentCode",) if e.target_kind is TargetKind.ASSIGNMENT else ()),
            "EndDate" if e.kind is ExemptionKind.EXCEPTION else "ReviewDate")


def _differ(a: ListItemVersion, b: ListItemVersion, names: tuple[str, ...]) -> list[str]:
    def value(v: ListItemVersion, name: str) -> object:
        found = v.fields.get(name)
        return (found.strip() if isinstance(found, str) else found) or None
    return [name for name in names if value(a, name) != value(b, name)]


@dataclass(frozen=True, slots=True)
class ApprovedTerms:
    """What an approval saved in the list approves: ``refused`` names the columns (as the list shows them) changed
    since the request was read, and then nothing is applied; else the stored request, with ``dates`` (valid
    until, review on) when the approver set a new end or review date in the approving version itself."""

    refused: list[str]
    dates: tuple[dt.date | None, dt.date | None] | None = None


def approved_terms(versions: list[ListItemVersion], deciding: ListItemVersion, e: StoredExemption,
                   timezone: str, today: dt.date) -> ApprovedTerms:
    """Compares the deciding version with the version the request was read from. When that version is no longer
    in the history (saved over while versioning was off, or trimmed), with what the store holds, where a column
    says it by itself (kind, scope, code, dates)."""
    names = _relevant(e)
    read = read_from(versions, e.recorded_at)
    if read is None:
        return ApprovedTerms([_shown(n) for n in _stored_differs(deciding, e, timezone) if n in names])
    changed = _differ(read, deciding, names)
    if not changed:
        return ApprovedTerms([])
    # the approver's own change, in the approving version: the end (or review) date is theirs to set
    later = next((n for n, v in enumerate(versions) if v is deciding), len(versions))
    before = versions[later + 1] if later + 1 < len(versions) else None
    if before is not None and changed == [names[-1]] and not _differ(read, before, names):
        try:
            new = field_date(deciding.fields, names[-1], timezone)
        except ValueError:
            new = None
        if new is not None and new > max(e.requested_on, today):  # a date already past is refused, as the CLI does
            return ApprovedTerms([], (new, None) if e.kind is ExemptionKind.EXCEPTION else (None, new))
    return ApprovedTerms([_shown(n) for n in changed])


def _stored_differs(deciding: ListItemVersion, e: StoredExemption, timezone: str) -> list[str]:
    f = deciding.fields
    kind = {KIND_EXCEPTION: ExemptionKind.EXCEPTION, KIND_LEGAL_HOLD: ExemptionKind.LEGAL_HOLD}.get(
        field_text(f, "RequestKind"))
    scope = {SCOPE_RECORDING: TargetKind.RECORDING, SCOPE_MINE: TargetKind.ORGANIZER,
             SCOPE_ASSIGNMENT: TargetKind.ASSIGNMENT, SCOPE_SITE: TargetKind.SITE}.get(
        field_text(f, "Scope") or SCOPE_RECORDING)
    try:
        end, review = field_date(f, "EndDate", timezone), field_date(f, "ReviewDate", timezone)
    except ValueError:
        return ["EndDate", "ReviewDate"]
    differs = {"RequestKind": kind is not e.kind, "Scope": scope is not e.target_kind,
               "AssignmentCode": field_text(f, "AssignmentCode") != e.target_id,
               "EndDate": end != e.valid_until, "ReviewDate": review != e.review_on}
    return [name for name, yes in differs.items() if yes]


def terms_text(changed: list[str], exemption_id: str) -> str:
    """Why an approval of a row whose terms are not the stored request's is not applied, and the ways on."""
    return (f"the row's {', '.join(changed)} changed after teamsretention read the request, so the approval may be "
            f"of other terms than {exemption_id} holds (`teamsretention exemptions show {exemption_id}`); nothing "
            f"applied. For the new terms the requester adds a new row; to approve {exemption_id} as it stands, an "
            f"approver uses `teamsretention exemptions approve {exemption_id}`")


def no_history_text(status: str, exemption_id: str, stays: str, item_id: str, version: ListItemVersion, moment: str,
                    how: str, *, revoke: bool) -> str:
    """Why a decision the history does not show the author of is ignored, and the ways on."""
    verb = "revoke" if revoke else "approve|reject"
    return (f"Status {status} for {exemption_id} in the list (item {item_id}): ignored, the list keeps no history of "
            f"who set Status (version {version.id}, last saved by {label(version.modified_by)} at {moment}, {how}): "
            f"SharePoint versioning is off, or a version limit trimmed the history. {exemption_id} stays {stays}. Turn "
            "on the list's Versioning settings (Create a version each time you edit an item: Yes); then an approver "
            f"sets Status back to {R_STATUS_APPROVED if revoke else R_STATUS_REQUESTED} and then to the decision, or "
            f"uses `teamsretention exemptions {verb} {exemption_id}`")


def retry_until(ctx: CycleContext, item: ListItemChange) -> dt.date:
    """The last cycle date a row may wait for what the store does not know yet: every drive is read at least
    every ``max_poll_interval_days``, so a recording it links to is known by then."""
    since = item.modified_at or item.created_at
    start = local_date(since, ctx.config.policy.timezone) if since else ctx.cycle_date
    return start + dt.timedelta(days=ctx.config.max_poll_interval_days + 1)
