"""A store an earlier release filled: it read the list's date columns in the policy's time zone, so for a records
site east of it ("Keep until" 1 May on a site in Tokyo reaches Graph as 30 April 15:00 UTC) it stored the day
before, and the exception would end, and its recording be deleted, a day early. The first cycle of this release
moves such a date to the one the list shows, once, audited; it never moves a date earlier."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, update

from teamsretention.domain import ExemptionStatus
from teamsretention.errors import GraphError
from teamsretention.store import exemptions
from teamsretention.store.tables import SyncStateRow
from teamsretention.store.tables_governance import ExemptionRow

from .test_cycle import DAY0, created, warned_on
from .test_request_list import before, decide, make, person, request

END = DAY0 + dt.timedelta(days=60)  # what the list shows


def midnight_in(zone: str, date: dt.date) -> str:
    local = dt.datetime.combine(date, dt.time(0), ZoneInfo(zone))
    return local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def w(tmp_path):
    world = make(tmp_path)
    yield world
    world.db.dispose()


def as_an_earlier_release_stored_it(w, exemption_id: str, valid_until: dt.date) -> None:
    """The store as the earlier release left it: the date it read, and no check of dates done yet."""
    with w.db.session() as s:
        s.execute(update(ExemptionRow).where(ExemptionRow.id == exemption_id).values(valid_until=valid_until))
        s.execute(delete(SyncStateRow).where(SyncStateRow.key == "requests_list_dates_checked"))


def tokyo_exception(w) -> str:
    """Day 0: Alice asks, in a list on a Tokyo site, to keep r1 (due on day 10 without a cover) until END."""
    w.gw.add_recording("alice", "r1", created(-20))
    item = request(w, "alice", 0, item="r1", EndDate=midnight_in("Asia/Tokyo", END))
    w.cycle(0)
    [e] = exemptions.list_all(w.db)
    assert e.valid_until == END  # this release reads it right
    return item


def test_an_end_date_read_a_day_early_is_moved_to_the_date_the_list_shows_and_the_recording_kept_until_it(w):
    item = tokyo_exception(w)
    [e] = exemptions.list_all(w.db)
    as_an_earlier_release_stored_it(w, e.id, END - dt.timedelta(days=1))
    decide(w, item, "dpo", 1)

    report = w.cycle(1)

    [e] = exemptions.list_all(w.db)
    assert e.valid_until == END and e.status is ExemptionStatus.APPROVED
    [line] = report.governance.corrected
    assert f"exemption {e.id} (list item {item}): Keep until {END - dt.timedelta(days=1)} -> {END}" in line
    [corrected] = w.audit("exemption_corrected")
    assert corrected.detail["valid_until_was"] == str(END - dt.timedelta(days=1))
    assert corrected.detail["valid_until"] == str(END) and corrected.detail["list_item"] == item
    w.days(2, 61)
    assert w.audit("exemption_corrected") == [corrected]  # once
    assert warned_on(w, "r1") == [53, 59]  # a week and a day before the date the list shows
    assert [(a.cycle_date - DAY0).days for a in w.audit("deleted", "r1")] == [60]  # not on day 59


def test_a_date_read_right_and_a_row_edited_after_it_was_read_are_left_as_stored(w):
    item = tokyo_exception(w)  # stored right by this release: nothing to correct
    w.gw.add_recording("alice", "r2", created(-20))
    stockholm = request(w, "alice", 1, item="r2", EndDate=midnight_in("Europe/Stockholm", END))
    w.cycle(1)
    # EndDate edited in the list after the store read the row: the store keeps the terms it read
    w.gw.edit_list_item("Retention requests", item, person("alice"), before(2),
                        EndDate=midnight_in("Asia/Tokyo", END + dt.timedelta(days=1)))
    with w.db.session() as s:
        s.execute(delete(SyncStateRow).where(SyncStateRow.key == "requests_list_dates_checked"))

    report = w.cycle(2)

    assert report.governance.corrected == [] and w.audit("exemption_corrected") == []
    found = {e.list_item_id: e.valid_until for e in exemptions.list_all(w.db)}
    assert found == {item: END, stockholm: END}


def test_a_list_unreadable_midway_goes_on_next_cycle_and_corrects_each_date_once(w, monkeypatch):
    first = tokyo_exception(w)
    w.gw.add_recording("alice", "r2", created(-20))
    second = request(w, "alice", 1, item="r2", EndDate=midnight_in("Asia/Tokyo", END))
    w.cycle(1)
    for e in exemptions.list_all(w.db):
        as_an_earlier_release_stored_it(w, e.id, END - dt.timedelta(days=1))
    real = w.gw.list_item_versions
    calls: list[str] = []

    async def second_fails(site_id, list_id, item_id):
        calls.append(item_id)
        if item_id == second:
            raise GraphError(503, "serviceNotAvailable", "service unavailable")
        return await real(site_id, list_id, item_id)

    monkeypatch.setattr(w.gw, "list_item_versions", second_fails)
    report = w.cycle(2)

    assert any("once-only check of dates" in p and "goes on next cycle" in p for p in report.governance.problems)
    found = {e.list_item_id: e.valid_until for e in exemptions.list_all(w.db)}
    assert found == {first: END, second: END - dt.timedelta(days=1)}
    monkeypatch.setattr(w.gw, "list_item_versions", real)

    report = w.cycle(3)

    found = {e.list_item_id: e.valid_until for e in exemptions.list_all(w.db)}
    assert found == {first: END, second: END}
    assert [c.detail["list_item"] for c in w.audit("exemption_corrected")] == [first, second]
    assert w.cycle(4).governance.corrected == []
