"""Cron schedules with standard cron semantics, and the calendar arithmetic of cycle dates.

Two traps in APScheduler 3.11 decide the shape of this module:

* ``CronTrigger.from_crontab("0 3 * * 0")`` fires on *Monday*: APScheduler numbers weekdays from
  Monday = 0, standard cron from Sunday = 0 (and 7 = Sunday too). We never hand APScheduler a numeric
  weekday: every field is parsed here and the weekday field is passed as names (``sun,mon``).
* Standard cron fires when *either* the day-of-month or the day-of-week matches if both are restricted;
  APScheduler requires both. Rather than emulate that rarely intended rule, such a cron is refused.

DST: a cron that can fire in an hour the configured time zone skips (spring) or repeats (autumn) is
refused by :func:`validate_cron`. APScheduler fires a 02:30 job twice on the autumn change and hands back
a non-existent wall time on the spring change; a retention cycle has no reason to run in that hour, so
refusing is simpler than reasoning about it. The daemon additionally never runs two cycles for the same
cycle date.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

from ..errors import ConfigError
from ..policy.validation import check_timezone

_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# (name, lowest, highest, names accepted for values): the five standard fields, in order.
_FIELDS: tuple[tuple[str, int, int, Mapping[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, {name: i + 1 for i, name in enumerate(_MONTH_NAMES)}),
    # 7 is Sunday as well in standard cron; folded to 0 after expansion.
    ("day-of-week", 0, 7, {name: i for i, name in enumerate(_WEEKDAY_NAMES)}),
)
_ITEM = re.compile(r"^(?:(?P<star>\*)|(?P<lo>\w+)(?:-(?P<hi>\w+))?)(?:/(?P<step>\d+))?$")


class CronSpec:
    """A parsed five-field cron expression: the set of values each field matches."""

    def __init__(self, fields: list[set[int]], restricted: list[bool]) -> None:
        self.minutes, self.hours, self.days, self.months, self.weekdays = fields
        self.restricted = restricted

    def matches_day(self, day: dt.date) -> bool:
        weekday = (day.weekday() + 1) % 7  # Python: Monday = 0; cron: Sunday = 0
        return day.month in self.months and day.day in self.days and weekday in self.weekdays


def _parse_value(text: str, names: Mapping[str, int], field: str) -> int:
    if text.isdigit():
        return int(text)
    if text.lower() in names:
        return names[text.lower()]
    raise ConfigError(f"cron {field} field: {text!r} is not a number or a known name")


def _expand_field(text: str, field: str, lowest: int, highest: int, names: Mapping[str, int]) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        match = _ITEM.match(item)
        if not match:
            raise ConfigError(f"cron {field} field: {item!r} is not standard cron syntax "
                              "(use numbers, names, ranges a-b, lists a,b and steps */n)")
        if match["star"]:
            lo, hi = lowest, highest
        else:
            lo = _parse_value(match["lo"], names, field)
            hi = _parse_value(match["hi"], names, field) if match["hi"] else lo
            if match["step"] and not match["hi"]:
                hi = highest  # "5/15" means "5-59/15" in Vixie cron
        step = int(match["step"]) if match["step"] else 1
        if not (lowest <= lo <= highest and lowest <= hi <= highest):
            raise ConfigError(f"cron {field} field: {item!r} is outside {lowest}-{highest}")
        if lo > hi:
            raise ConfigError(f"cron {field} field: range {item!r} runs backwards")
        if step < 1:
            raise ConfigError(f"cron {field} field: step in {item!r} must be at least 1")
        values.update(range(lo, hi + 1, step))
    return values


def parse_cron(cron: str) -> CronSpec:
    """Parse a standard five-field cron expression; raise ConfigError saying what is wrong."""
    parts = cron.split()
    if len(parts) != 5:
        raise ConfigError(f"cron {cron!r} must have 5 fields (minute hour day-of-month month day-of-week), "
                          f"not {len(parts)}")
    fields: list[set[int]] = []
    restricted: list[bool] = []
    for text, (name, lowest, highest, names) in zip(parts, _FIELDS, strict=True):
        fields.append(_expand_field(text, name, lowest, highest, names))
        restricted.append(text != "*")
    if 7 in fields[4]:
        fields[4] = (fields[4] - {7}) | {0}
    if restricted[2] and restricted[4]:
        raise ConfigError(f"cron {cron!r} restricts both day-of-month and day-of-week: standard cron then "
                          "fires when either matches, which is rarely meant; restrict only one of them")
    return CronSpec(fields, restricted)


def load_zone(timezone: str) -> ZoneInfo:
    """The IANA time zone ``timezone``; ConfigError when tzdata does not know it."""
    problem = check_timezone(timezone)
    if problem:
        raise ConfigError(problem)
    return ZoneInfo(timezone)


def find_dst_hours(timezone: str, years: range | None = None) -> set[int]:
    """Local wall-clock hours that are skipped or repeated by a DST change in ``timezone``.

    Scans the zone's UTC offsets hour by hour over ``years`` (default: this year and the next two), then
    narrows each change down to the minute, so zones with half-hour shifts are covered too.
    """
    if years is None:
        this_year = dt.date.today().year
        years = range(this_year, this_year + 3)
    return set(_scan_dst_hours(timezone, years.start, years.stop))


@functools.lru_cache(maxsize=32)  # a scan costs ~50 ms and settings are loaded more than once per process
def _scan_dst_hours(timezone: str, first_year: int, stop_year: int) -> frozenset[int]:
    zone = load_zone(timezone)
    hours: set[int] = set()
    start = dt.datetime(first_year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(stop_year, 1, 1, tzinfo=dt.UTC)
    step = dt.timedelta(hours=1)
    moment = start
    while moment < end:
        before, after = moment.astimezone(zone).utcoffset(), (moment + step).astimezone(zone).utcoffset()
        if before != after and before is not None and after is not None:
            lo, hi = moment, moment + step
            while hi - lo > dt.timedelta(minutes=1):  # bisect to the minute of the change
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if mid.astimezone(zone).utcoffset() == before else (lo, mid)
            # Wall clock just before the change versus just after: the hours in between are skipped
            # (clocks go forward) or lived twice (clocks go back).
            old_wall, new_wall = hi + before, hi + after
            first, last = min(old_wall, new_wall), max(old_wall, new_wall) - dt.timedelta(minutes=1)
            wall = first.replace(minute=0, second=0, microsecond=0)
            while wall <= last:
                hours.add(wall.hour)
                wall += step
        moment += step
    return frozenset(hours)


def validate_cron(cron: str, timezone: str | None = None) -> list[str]:
    """Problems with ``cron`` (empty when it is usable), as sentences for a configuration error."""
    try:
        spec = parse_cron(cron)
    except ConfigError as exc:
        return [str(exc)]
    if timezone is None:
        return []
    try:
        risky = sorted(spec.hours & find_dst_hours(timezone))
    except ConfigError as exc:
        return [str(exc)]
    if risky:
        shown = ", ".join(f"{hour:02d}:00-{hour:02d}:59" for hour in risky)
        return [(f"cron {cron!r} can fire during a daylight-saving change in {timezone} ({shown}), where a "
                 "run is skipped or repeated; choose another hour")]
    return []


def build_trigger(cron: str, timezone: str) -> CronTrigger:
    """An APScheduler trigger with standard cron semantics (0 and 7 = Sunday, names accepted)."""
    spec = parse_cron(cron)
    zone = load_zone(timezone)

    def render(values: set[int], restricted: bool) -> str:
        return ",".join(str(v) for v in sorted(values)) if restricted else "*"

    weekdays = ",".join(_WEEKDAY_NAMES[d] for d in sorted(spec.weekdays)) if spec.restricted[4] else "*"
    return CronTrigger(
        minute=render(spec.minutes, spec.restricted[0]),
        hour=render(spec.hours, spec.restricted[1]),
        day=render(spec.days, spec.restricted[2]),
        month=render(spec.months, spec.restricted[3]),
        day_of_week=weekdays,
        timezone=zone,
    )


def scheduled_time_on(day: dt.date, cron: str, timezone: str) -> dt.datetime:
    """The first time ``cron`` fires on calendar ``day`` in ``timezone`` (aware, in that zone)."""
    zone = load_zone(timezone)
    if not parse_cron(cron).matches_day(day):
        raise ConfigError(f"the schedule {cron!r} does not run on {day.isoformat()} "
                          f"({day.strftime('%A')}); pick a day it runs or give a full time with an offset")
    midnight = dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone)
    fire: dt.datetime | None = build_trigger(cron, timezone).get_next_fire_time(None, midnight)
    if fire is None or fire.astimezone(zone).date() != day:
        raise ConfigError(f"the schedule {cron!r} has no run on {day.isoformat()} in {timezone}")
    return fire.astimezone(zone)


def parse_at(value: str, cron: str, timezone: str) -> dt.datetime:
    """Interpret ``--at``: an ISO date means that day's scheduled cycle; a datetime needs an offset or Z."""
    text = value.strip()
    try:
        return scheduled_time_on(dt.date.fromisoformat(text), cron, timezone)
    except ValueError:
        pass  # not a plain date: try a datetime below
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"--at {value!r} is neither an ISO date (2025-03-14) nor an ISO datetime "
                          "with an offset (2025-03-14T06:00:00+01:00 or ...Z)") from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigError(f"--at needs an offset or Z: {value!r} is ambiguous (write e.g. {text}Z or "
                          f"{text}+01:00)")
    return moment
