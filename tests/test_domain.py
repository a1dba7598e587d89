"""The kernel's one date function: every policy date is a calendar date in the policy time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from teamsretention.domain import local_date

STOCKHOLM = "Europe/Stockholm"


def test_a_cycle_date_is_the_local_calendar_date() -> None:
    late_utc = dt.datetime(2025, 6, 30, 22, 30, tzinfo=dt.UTC)  # 00:30 on 1 July in Stockholm
    assert local_date(late_utc, STOCKHOLM) == dt.date(2025, 7, 1)
    assert local_date(late_utc, "UTC") == dt.date(2025, 6, 30)
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(dt.datetime(2025, 6, 30, 22, 30), STOCKHOLM)
