"""Cron semantics as an admin reading crontab(5) expects them, and the cycle times they give."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from teamsretention.errors import ConfigError
from teamsretention.settings.schedule import (
    build_trigger,
    find_dst_hours,
    parse_at,
    scheduled_time_on,
    validate_cron,
)

STOCKHOLM = "Europe/Stockholm"


def fire_times(cron: str, timezone: str, start: dt.datetime, count: int) -> list[dt.datetime]:
    trigger = build_trigger(cron, timezone)
    times: list[dt.datetime] = []
    previous = None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        times.append(fire)
        previous, now = fire, fire + dt.timedelta(seconds=1)
    return times


@pytest.mark.parametrize("weekday_field", ["0", "7", "sun", "SUN"])
def test_weekday_zero_and_seven_mean_sunday(weekday_field: str) -> None:
    # APScheduler's own from_crontab would fire "0 3 * * 0" on Monday.
    start = dt.datetime(2025, 3, 10, tzinfo=ZoneInfo(STOCKHOLM))  # a Monday
    times = fire_times(f"0 3 * * {weekday_field}", STOCKHOLM, start, 3)
    assert [t.strftime("%A") for t in times] == ["Sunday"] * 3
    assert times[0] == dt.datetime(2025, 3, 16, 3, 0, tzinfo=ZoneInfo(STOCKHOLM))


@pytest.mark.parametrize("weekday_field", ["1-5", "mon-fri", "1,2,3,4,5"])
def test_working_days_skip_the_weekend(weekday_field: str) -> None:
    start = dt.datetime(2025, 3, 14, 12, tzinfo=ZoneInfo(STOCKHOLM))  # a Friday afternoon
    times = fire_times(f"30 6 * * {weekday_field}", STOCKHOLM, start, 6)
    assert [t.date().isoformat() for t in times] == [
        "2025-03-17", "2025-03-18", "2025-03-19", "2025-03-20", "2025-03-21", "2025-03-24"]
    assert all((t.hour, t.minute) == (6, 30) for t in times)


def test_weekend_cron_fires_only_on_weekends_for_a_whole_year() -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=ZoneInfo("UTC"))
    times = fire_times("0 7 * * 6,0", "UTC", start, 104)
    assert {t.strftime("%A") for t in times} == {"Saturday", "Sunday"}
    assert times[-1].year == 2025 and times[-1].date() == dt.date(2025, 12, 28)


def test_steps_and_month_names_follow_standard_cron() -> None:
    start = dt.datetime(2025, 1, 31, 23, tzinfo=ZoneInfo("UTC"))
    times = fire_times("*/20 5 1 feb,apr *", "UTC", start, 4)
    assert [t.strftime("%m-%d %H:%M") for t in times] == ["02-01 05:00", "02-01 05:20", "02-01 05:40",
                                                          "04-01 05:00"]


@pytest.mark.parametrize(("cron", "fragment"), [
    ("0 6 * *", "must have 5 fields"),
    ("0 6 * * * *", "must have 5 fields"),
    ("0 24 * * *", "hour field: '24' is outside 0-23"),
    ("0 6 * * 8", "day-of-week field: '8' is outside 0-7"),
    ("0 6 L * *", "day-of-month field"),
    ("0 6 * * fri-mon", "runs backwards"),
    ("0 6 ? * *", "not standard cron syntax"),
    ("0 6 1 * mon", "restricts both day-of-month and day-of-week"),
])
def test_non_standard_or_wrong_crons_are_refused(cron: str, fragment: str) -> None:
    problems = validate_cron(cron)
    assert len(problems) == 1 and fragment in problems[0]
    with pytest.raises(ConfigError, match="cron"):
        build_trigger(cron, "UTC")


def test_dst_change_hours_come_from_the_zone() -> None:
    years = range(2025, 2027)
    assert find_dst_hours(STOCKHOLM, years) == {2}  # 02:00 -> 03:00 in March, 03:00 -> 02:00 in October
    assert find_dst_hours("Europe/London", years) == {1}
    assert find_dst_hours("America/New_York", years) == {1, 2}  # 02:00 skipped, 01:00 repeated
    assert find_dst_hours("UTC", years) == set()


def test_cron_in_a_dst_change_hour_is_refused_for_that_zone_only() -> None:
    problems = validate_cron("30 2 * * *", STOCKHOLM)
    assert problems and "daylight-saving" in problems[0] and "02:00-02:59" in problems[0]
    assert validate_cron("0 1-3 * * *", STOCKHOLM)  # a range touching 02 is refused too
    assert validate_cron("30 2 * * *", "UTC") == []
    assert validate_cron("0 6 * * *", STOCKHOLM) == []
    assert validate_cron("0 6 * * *", "Mars/Olympus") == [
        "unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Stockholm)"]


def test_scheduled_time_on_a_day_is_the_local_fire_time() -> None:
    moment = scheduled_time_on(dt.date(2025, 3, 31), "0 6 * * *", STOCKHOLM)  # first day of summer time
    assert moment == dt.datetime(2025, 3, 31, 4, 0, tzinfo=dt.UTC)
    assert moment.tzinfo == ZoneInfo(STOCKHOLM) and moment.hour == 6
    assert scheduled_time_on(dt.date(2025, 3, 16), "15 3,9 * * 0", STOCKHOLM).hour == 3


def test_scheduled_time_on_a_day_the_cron_skips_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"does not run on 2025-03-15 \(Saturday\)"):
        scheduled_time_on(dt.date(2025, 3, 15), "0 6 * * 1-5", STOCKHOLM)


def test_at_with_a_date_means_that_days_cycle() -> None:
    at = parse_at("2025-11-03", "0 6 * * *", STOCKHOLM)
    assert at == dt.datetime(2025, 11, 3, 5, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("2025-11-03T05:30:00Z", dt.datetime(2025, 11, 3, 5, 30, tzinfo=dt.UTC)),
    ("2025-11-03T07:30:00+02:00", dt.datetime(2025, 11, 3, 5, 30, tzinfo=dt.UTC)),
])
def test_at_with_an_offset_is_that_instant(value: str, expected: dt.datetime) -> None:
    at = parse_at(value, "0 6 * * *", STOCKHOLM)
    assert at == expected and at.utcoffset() is not None


def test_at_without_an_offset_is_refused() -> None:
    with pytest.raises(ConfigError, match="--at needs an offset or Z"):
        parse_at("2025-11-03T06:00:00", "0 6 * * *", STOCKHOLM)
    with pytest.raises(ConfigError, match="neither an ISO date"):
        parse_at("next tuesday", "0 6 * * *", STOCKHOLM)
