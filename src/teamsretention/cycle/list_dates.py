"""Dates an earlier release read a day early from the "Retention requests" list, corrected once per list.

Releases before this one read a date column as its date in the policy's time zone. SharePoint sends a date-only
value as midnight in the *site's* zone, so for a site east of the policy's ("Keep until 30 June" on a site in
Helsinki or Tokyo is 29 June 21:00 or 15:00 UTC) they stored the day before: the exception ended, and its
recording was deleted, a day before the date the list shows. :func:`~..lists.field_date` reads it right now;
this looks once at each pending or approved exemption such a release may have stored, in the item's version
history: the version the store read it from (the newest saved before the exemption was recorded) says which
date the row showed. Where the old reading of that version is the stored date and the right reading is the day
after, the date moves to it, audited (``exemption_corrected``) and said in the summary. A date only ever moves
later, by that one day: nothing is kept for less than before.

Each exemption is looked at once (an item gone or unreadable is left as stored); the state, per list, lives in
the store's sync_state, so a cycle that breaks off goes on where it stopped.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import structlog

from ..domain import RunMode
from ..errors import GraphError, NotFoundError
from ..lists import REQUESTS, field_date
from ..ports import ListItemVersion
from ..store import directory as sync_store
from ..store import exemptions as store
from .config import CycleContext
from .request_list import LIST_KEY
from .request_rows import read_from

log = structlog.get_logger(__name__)

STATE_KEY = "requests_list_dates_checked"
_COLUMNS = (("EndDate", "valid_until"), ("ReviewDate", "review_on"))


def _earlier_reading(version: ListItemVersion, column: str, timezone: str) -> dt.date | None:
    """How releases before this one read the column: its moment's date in the policy's zone."""
    value = version.fields.get(column)
    if not isinstance(value, str) or len(value.strip()) <= 10:
        return None  # empty, or a plain date: both readings agree
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(ZoneInfo(timezone)).date() if moment.tzinfo else None


async def correct_early_dates(ctx: CycleContext, mode: RunMode, since: dt.datetime) -> None:
    """Once per list, before expiry (governance step 4) reads the end dates. ``since``: when this cycle began
    reading the lists; what it recorded from then on, this release read."""
    if mode is RunMode.PLAN or not ctx.config.lists_site:
        return
    known = sync_store.sync_state(ctx.db, LIST_KEY)
    where = json.loads(known) if known else {}
    if not where.get("list_id") or where.get("gone"):
        return  # the list was not found this cycle: its request sync said so
    site_id, list_id = where["site_id"], where["list_id"]
    state = json.loads(sync_store.sync_state(ctx.db, STATE_KEY) or "{}")
    if state.get("list_id") == list_id and state.get("complete"):
        return
    done: set[str] = set(state.get("done", ())) if state.get("list_id") == list_id else set()
    stats, tz = ctx.report.governance, ctx.config.policy.timezone
    try:
        for e in store.list_made(ctx.db, list_id):
            if e.id in done or e.list_item_id is None or e.recorded_at is None or e.recorded_at >= since:
                continue
            ctx.checkpoint()
            stats.list_requests += 1
            try:
                versions = await ctx.gateway.list_item_versions(site_id, list_id, e.list_item_id)
            except NotFoundError:
                versions = []  # the item is gone: the store is the record
            version = read_from(versions, e.recorded_at)
            if version is not None:
                _correct(ctx, e, version, tz)
            done.add(e.id)
    except GraphError as exc:
        stats.problems.append(f"the {REQUESTS.display_name!r} list: the once-only check of dates an earlier release "
                              f"may have read a day early stopped ({exc.status} {exc.code}); it goes on next cycle")
        sync_store.set_sync_state(ctx.db, STATE_KEY, json.dumps({"list_id": list_id, "done": sorted(done)}))
        return
    sync_store.set_sync_state(ctx.db, STATE_KEY, json.dumps({"list_id": list_id, "complete": True}))


def _correct(ctx: CycleContext, e: store.StoredExemption, version: ListItemVersion, timezone: str) -> None:
    dates = {"valid_until": e.valid_until, "review_on": e.review_on}
    moved = []
    for column, attribute in _COLUMNS:
        stored = dates[attribute]
        if stored is None or _earlier_reading(version, column, timezone) != stored:
            continue
        try:
            right = field_date(version.fields, column, timezone)
        except ValueError:
            continue
        if right == stored + dt.timedelta(days=1):
            dates[attribute] = right
            moved.append(f"{REQUESTS.column(column).display_name} {stored} -> {right}")
    if not moved:
        return
    text = (f"exemption {e.id} (list item {e.list_item_id}): {', '.join(moved)}, the date the list shows; an earlier "
            "release read it in the policy's time zone, a day early for a site east of it")
    store.correct_dates(ctx.db, e.id, valid_until=dates["valid_until"], review_on=dates["review_on"],
                        at=ctx.clock(), day=ctx.cycle_date, reason=text, run_id=ctx.run_id)
    ctx.report.governance.corrected.append(text)
    log.info("exemption.date_corrected", run_id=ctx.run_id, exemption=e.id, list_item=e.list_item_id,
             valid_until=str(dates["valid_until"]), review_on=str(dates["review_on"]))
