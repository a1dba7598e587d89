"""A SharePoint date-only column ("Keep until", "Review on", "Closed") reaches Graph as midnight in the *site's*
regional time zone, in UTC. Graph v1.0 does not say which zone that is, so a value that is no midnight in the
policy's zone is read as the date whose midnight it is in the zone it must come from (UTC-12 to UTC+14): a
site east or west of the policy's zone keeps its dates, never a day early."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from teamsretention.lists import field_date

POLICY_ZONE = "Europe/Stockholm"


def midnight(date: str, zone: str) -> str:
    local = dt.datetime.combine(dt.date.fromisoformat(date), dt.time(0), ZoneInfo(zone))
    return local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("site_zone", ["Europe/Stockholm", "Europe/Helsinki", "Asia/Tokyo", "Asia/Kolkata",
                                       "Australia/Sydney", "Pacific/Auckland", "UTC", "America/New_York",
                                       "America/Los_Angeles", "Pacific/Honolulu", "Asia/Kathmandu"])
@pytest.mark.parametrize("date", ["2026-06-30", "2026-12-31", "2026-03-29", "2026-10-25"])
def test_a_date_column_of_a_site_in_any_zone_reads_as_the_date_it_shows(site_zone, date):
    assert field_date({"EndDate": midnight(date, site_zone)}, "EndDate", POLICY_ZONE) == dt.date.fromisoformat(date)


def test_a_plain_date_and_an_empty_value_read_as_they_are():
    assert field_date({"EndDate": "2026-06-30"}, "EndDate", POLICY_ZONE) == dt.date(2026, 6, 30)
    assert field_date({"EndDate": ""}, "EndDate", POLICY_ZONE) is None
    with pytest.raises(ValueError, match="is not a date"):
        field_date({"EndDate": 20260630}, "EndDate", POLICY_ZONE)


def test_keep_until_of_a_records_site_east_of_the_policy_zone_is_the_date_it_shows(tmp_path):
    """End to end: the simulator stores the row's date as the Tokyo site's midnight; the exemption ends on it."""
    import dataclasses

    from teamsretention.store import exemptions

    from .cycle.simworld import SimWorld

    w = SimWorld(tmp_path, """
[records_site]
key = "records"
path = "/sites/records"
display_name = "Records"
time_zone = "Asia/Tokyo"

[[recordings]]
key = "kickoff"
organizer = "anna"
subject = "Kickoff"
age_days = 20
""")
    try:
        w.config = dataclasses.replace(w.config, lists_site=w.site_url)
        w.provision_lists()
        w.add_list_item("Retention requests", "anna", RequestKind="Exception", Scope="Recording",
                        RecordingLink=w.recording_url("kickoff"), Reason="Client asked", LegalBasis="Contract",
                        EndDate="2026-06-30")
        w.cycle(0)
        [e] = exemptions.list_all(w.db)
        assert e.valid_until == dt.date(2026, 6, 30)
    finally:
        w.db.dispose()
