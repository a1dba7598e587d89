"""Administering client assignments and tags from the command line (and, later, other front ends).

Every function checks all of its input first and raises ConfigError naming what is wrong and where (the
field, the CSV line and column, the recording link): nothing is written then. When the Assignments list is
configured it is the source of truth for the assignments its items own: those are edited in the list, and
the functions here refuse to touch them, naming the list and the item. Assignments created here (or by a
CSV import) stay editable here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from ..domain import AssignmentStatus, RecordingRef, RecordingState
from ..errors import ConfigError
from ..ports import GraphGateway
from ..store import assignments, recordings
from ..store.assignments import Acting, Assignment, Fields
from ..store.database import Database
from ..store.recordings import StoredRecording

CSV_COLUMNS = ("code", "title", "client", "status", "opened_on", "closed_on")
_REQUIRED = ("code", "title", "opened_on")


@dataclass(frozen=True)
class Admin:
    """Who acts, when, and where the Assignments list is (None: no list configured)."""

    db: Database
    actor: str
    at: dt.datetime
    day: dt.date  # today in the policy time zone: the default opening / closing date
    lists_site: str | None = None
    list_name: str = "Assignments"

    def acting(self, source: str = "cli") -> Acting:
        return Acting(self.actor, source, self.at, self.day)


def parse_date(value: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def check_code(code: str, where: str = "CODE") -> str:
    text = code.strip()
    if not text or len(text) > 100 or any(ch.isspace() for ch in text):
        raise ConfigError(f"{where}: {code!r} is no assignment code (1 to 100 characters, no spaces)")
    return text


def existing(admin: Admin, code: str, where: str = "CODE") -> Assignment:
    found = assignments.get(admin.db, code)
    if found is None:
        raise ConfigError(f"{where}: no assignment {code!r} in the store (`teamsretention assignments list` "
                          "shows them)")
    return found


def refuse_list_owned(admin: Admin, a: Assignment) -> None:
    if a.list_owned and admin.lists_site:
        raise ConfigError(f"assignment {a.code} is owned by item {a.list_item_id} of the {admin.list_name} list "
                          f"in {admin.lists_site}: the list is the source of truth, edit it there (nothing was "
                          "changed)")


# --- assignments --------------------------------------------------------------------------------------
def add(admin: Admin, code: str, *, title: str, client: str | None, opened_on: dt.date | None) -> Assignment:
    code = check_code(code)
    if not title.strip():
        raise ConfigError("--title: an assignment needs a title")
    found = assignments.get(admin.db, code)
    if found is not None:
        raise ConfigError(f"CODE: assignment {code} already exists ({found.status.value}, created by "
                          f"{found.created_by} through {found.source}); nothing was changed")
    assignments.create(admin.db, Fields(code, title.strip(), (client or "").strip() or None,
                                        opened_on or admin.day), admin.acting())
    return existing(admin, code)


def close(admin: Admin, code: str, *, closed_on: dt.date | None) -> tuple[Assignment, bool]:
    """Close it (False: it already was closed, nothing changed)."""
    a = existing(admin, code)
    refuse_list_owned(admin, a)
    when = closed_on or admin.day
    if when < a.opened_on:
        raise ConfigError(f"--on: {when} is before the assignment opened ({a.opened_on})")
    if a.status is AssignmentStatus.CLOSED:
        return a, False
    assignments.close(admin.db, a.code, closed_on=when, acting=admin.acting())
    return existing(admin, code), True


def reopen(admin: Admin, code: str) -> tuple[Assignment, bool]:
    """Reopen it (False: it was not closed, nothing changed)."""
    a = existing(admin, code)
    refuse_list_owned(admin, a)
    if a.status is AssignmentStatus.ACTIVE:
        return a, False
    assignments.reopen(admin.db, a.code, acting=admin.acting())
    return existing(admin, code), True


def import_csv(admin: Admin, path: Path) -> list[str]:
    """All rows or none: any bad row raises ConfigError naming its line, column and value. Returns the codes
    of the assignments created or changed."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text") from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "",
                                                                       delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [h for h in _REQUIRED if h not in header]
    if unknown or missing:
        raise ConfigError(f"{path} line 1 (header): " + "; ".join(
            ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
            + ([f"missing column(s) {', '.join(missing)}"] if missing else []))
            + f" (the columns are {', '.join(CSV_COLUMNS)})")
    rows: list[Fields] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        try:
            fields = _csv_row(admin, row, f"{path} line {line}")
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        if fields.code in seen:
            errors.append(f"{path} line {line}, column code: {fields.code!r} is already on line {seen[fields.code]}")
            continue
        seen[fields.code] = line
        rows.append(fields)
    if errors:
        raise ConfigError("\n".join([*errors, f"{path}: nothing was imported (fix the rows above and run the "
                                               "import again)"]))
    return assignments.put(admin.db, [(f, admin.acting("csv")) for f in rows])


def _csv_row(admin: Admin, row: dict[str, str | None], where: str) -> Fields:
    def value(column: str) -> str:
        raw = row.get(column)
        return raw.strip() if isinstance(raw, str) else ""

    if None in row:
        raise ConfigError(f"{where}: more values than the header has columns")
    code = check_code(value("code"), f"{where}, column code")
    title = value("title")
    if not title:
        raise ConfigError(f"{where}, column title: empty (an assignment needs a title)")
    opened = parse_date(value("opened_on"), f"{where}, column opened_on")
    status = (value("status") or "active").lower()
    if status not in ("active", "closed"):
        raise ConfigError(f"{where}, column status: {value('status')!r} is not active or closed")
    closed = parse_date(value("closed_on"), f"{where}, column closed_on") if value("closed_on") else None
    if status == "closed" and closed is None:
        raise ConfigError(f"{where}, column closed_on: empty, but status is closed")
    if status == "active" and closed is not None:
        raise ConfigError(f"{where}, column closed_on: {closed} is set, but status is active")
    if closed is not None and closed < opened:
        raise ConfigError(f"{where}, column closed_on: {closed} is before opened_on {opened}")
    found = assignments.get(admin.db, code)
    if found is not None and found.list_owned and admin.lists_site:
        raise ConfigError(f"{where}, column code: {code} is owned by item {found.list_item_id} of the "
                          f"{admin.list_name} list in {admin.lists_site}: edit it there")
    return Fields(code, title, value("client") or None, opened, closed,
                  found.list_item_id if found is not None else None, found.list_id if found is not None else None)


# --- tags ---------------------------------------------------------------------------------------------
async def find_recording(admin: Admin, recording: str, gateway: GraphGateway | None) -> StoredRecording:
    """RECORDING: our id (a number) or the recording's web URL, resolved through Graph's shares API."""
    text = recording.strip()
    if text.isdigit():
        found = recordings.get(admin.db, int(text))
        if found is None:
            raise ConfigError(f"RECORDING: no recording with id {text} in the store (`teamsretention plan --json` "
                              "shows the ids)")
    elif text.lower().startswith(("https://", "http://")):
        if gateway is None:
            raise ConfigError(f"RECORDING {text}: a link needs Microsoft Graph to resolve it")
        shared = await gateway.resolve_share(text)
        if shared is None:
            raise ConfigError(f"RECORDING {text}: Graph's shares API finds no item behind this link (check it "
                              "is the recording's link, and that it was not deleted)")
        found = recordings.in_drive(admin.db, shared.ref.drive_id, [shared.ref.item_id]).get(shared.ref.item_id)
        if found is None:
            raise ConfigError(f"RECORDING {text}: it points to {shared.name or shared.ref.key}, which is no "
                              "recording teamsretention tracks (a cycle finds new recordings first)")
    else:
        raise ConfigError(f"RECORDING {text!r}: neither a recording id (a number) nor a recording's web URL")
    if found.state is not RecordingState.TRACKED:
        raise ConfigError(f"RECORDING {text}: {found.name} is {found.state.value}, no longer governed")
    return found


def tag(admin: Admin, rec: StoredRecording, code: str) -> bool:
    """Tag it (False: it already was). Refuses an unknown or closed assignment (such a tag keeps nothing)."""
    a = existing(admin, check_code(code, "--assignment"), "--assignment")
    if a.status is AssignmentStatus.CLOSED:
        raise ConfigError(f"--assignment {a.code}: closed on {a.closed_on}, a tag to it would keep nothing "
                          "(reopen it first); nothing was changed")
    return assignments.tag(admin.db, a.code, RecordingRef(rec.drive_id, rec.item_id), tagged_on=admin.day,
                           actor=admin.actor, at=admin.at, day=admin.day, source="cli", recording_name=rec.name,
                           organizer_id=rec.organizer_id)


def untag(admin: Admin, rec: StoredRecording, code: str) -> int:
    a = existing(admin, check_code(code, "--assignment"), "--assignment")
    return assignments.untag(admin.db, a.code, RecordingRef(rec.drive_id, rec.item_id), untagged_on=admin.day,
                             acting=admin.acting(), recording_name=rec.name, organizer_id=rec.organizer_id)
