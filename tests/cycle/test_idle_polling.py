"""Idle drives (nothing due within policy.max_poll_interval_days) are read that often, spread over the days;
every other drive daily; a recording arriving in an idle drive is still warned on its day (cycle.polling)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from teamsretention.cycle.outcome import CycleReport
from teamsretention.cycle.polling import must_read, slot
from teamsretention.domain import DriveKind, RecognitionConfig, RunMode
from teamsretention.errors import ConfigError
from teamsretention.reports.cycle import cycle_lines, plan_lines
from teamsretention.settings import load_settings
from teamsretention.store import drives as drive_store
from teamsretention.store.drives import StoredDrive

from .test_cycle import DAY0, World, created, warned_on

P = 7


def _drive(n: int, **kw) -> StoredDrive:
    base = dict(id=f"b!drive-{n:04}", kind=DriveKind.ONEDRIVE, owner_id=None, team_id=None, name="", delta_link="x",
                sync_generation=1, complete=True, last_sync_at=None, polled_on=DAY0)
    return StoredDrive(**{**base, **kw})


def test_idle_drives_are_spread_evenly_over_the_days():
    per_slot = Counter(slot(f"b!{n:05}-drive", P) for n in range(7000))
    assert len(per_slot) == P and min(per_slot.values()) > 850 and max(per_slot.values()) < 1150


def test_an_idle_drive_is_read_once_every_interval_and_never_more_than_that_apart():
    drive = _drive(1)
    read_on = []
    for n in range(1, 60):
        day = DAY0 + dt.timedelta(days=n)
        if must_read(drive, day, P, busy=set()):
            read_on.append(n)
            drive = dataclasses.replace(drive, polled_on=day)
    assert [b - a for a, b in zip(read_on, read_on[1:], strict=False)] == [P] * (len(read_on) - 1)
    assert read_on[0] <= P
    # cycles missed: a drive last read P days ago or more is read whatever its slot
    late = DAY0 + dt.timedelta(days=P)
    assert all(must_read(_drive(n), late, P, busy=set()) for n in range(50))


@pytest.mark.parametrize("why", ["busy", "never read", "incomplete", "back in scope", "clock set back", "daily"])
def test_drives_that_are_not_idle_are_read_every_cycle(why):
    day = DAY0 + dt.timedelta(days=1)
    drives = [_drive(n, **{"never read": {"delta_link": None}, "incomplete": {"complete": False},
                           "back in scope": {"polled_on": None},
                           "clock set back": {"polled_on": day + dt.timedelta(days=3)}}.get(why, {}))
              for n in range(40)]
    busy = {d.id for d in drives} if why == "busy" else set()
    interval = 1 if why == "daily" else P
    assert all(must_read(d, day, interval, busy) for d in drives)
    assert not all(must_read(d, day, P, set()) for d in map(_drive, range(40)))  # the same drives, idle


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)  # max_poll_interval_days = 7, the default
    for user in ("alice", "bob", "carol", "dave"):
        w.gw.add_user(user, lang="en-US")
    yield w
    w.db.dispose()


def _read_days(w: World, user: str, first: int, last: int) -> list[int]:
    """Days on which the cycle read the user's drive (its polled_on moved to that day)."""
    days = []
    for day in range(first, last + 1):
        w.cycle(day)
        drive = drive_store.get(w.db, w.gw.onedrive[user])
        assert drive is not None
        if drive.polled_on == DAY0 + dt.timedelta(days=day):
            days.append(day)
    return days


def test_a_drive_with_nothing_due_is_read_every_seven_days_and_one_with_work_daily(world):
    world.gw.add_recording("alice", "young", created(0))
    world.gw.add_recording("bob", "near", created(-18))  # warned on day 5, due on day 12
    world.cycle(0)
    alice, bob = world.gw.onedrive["alice"], world.gw.onedrive["bob"]
    idle_reads, busy_reads = [], []
    for day in range(1, 18):
        world.cycle(day)
        polled = {d: drive_store.get(world.db, d).polled_on for d in (alice, bob)}
        idle_reads += [day] if polled[alice] == DAY0 + dt.timedelta(days=day) else []
        busy_reads += [day] if polled[bob] == DAY0 + dt.timedelta(days=day) else []
    # alice's recording (due day 30, first warning day 23) is reviewed from day 21: from day 14 on, that is
    # within the interval, and her drive is read daily
    early = [d for d in idle_reads if d < 14]
    assert len(early) == 2 and early[1] - early[0] == P and idle_reads[len(early):] == [14, 15, 16, 17]
    assert busy_reads[:12] == list(range(1, 13))  # daily while its warnings and deletion are near
    assert world.audit("deleted", "near") and warned_on(world, "near") == [5, 11]
    report = world.reports[13]
    assert report.inventory.drives_idle >= 3 and report.inventory.drives_read + report.inventory.drives_idle == 4
    assert not report.inventory.drives_incomplete and report.exit_code == 0  # skipped is not incomplete


def test_a_recording_arriving_in_an_idle_drive_is_found_in_time_for_its_first_warning(world):
    world.days(0, 3)
    for day in range(4, 40):
        if day == 4:
            world.gw.add_recording("carol", "fresh", created(4))  # due on day 34: warnings on 27 and 33
        world.cycle(day)
    found = world.audit("discovered", "fresh")
    assert found and (found[0].cycle_date - DAY0).days <= 4 + P
    assert warned_on(world, "fresh") == [27, 33]
    assert [(a.cycle_date - DAY0).days for a in world.audit("deleted", "fresh")] == [34]


def test_a_restore_in_an_idle_drive_is_found_within_the_interval_and_given_full_notice(world):
    world.gw.add_recording("alice", "r1", created(-30))
    world.days(0, 7)
    assert world.deleted_ids() == ["r1"]
    world.gw.restore(world.gw.onedrive["alice"], "r1")
    world.days(8, 30)
    restored = world.audit("restored", "r1")
    assert restored and 8 <= (restored[0].cycle_date - DAY0).days <= 8 + P
    again = (restored[0].cycle_date - DAY0).days
    assert warned_on(world, "r1")[-2:][0] == again  # warned the day it was found again
    second = world.audit("deleted", "r1")[1]
    assert (second.cycle_date - DAY0).days >= again + 7  # full notice


def test_a_change_of_recognition_settings_reads_every_drive(world):
    world.gw.add_recording("alice", "young", created(0))
    world.days(0, 2)
    assert world.reports[2].inventory.drives_idle > 0
    world.config = dataclasses.replace(world.config, recognition=RecognitionConfig(
        folder_names=(*RecognitionConfig().folder_names, "Inspelningar")))
    report = world.cycle(3)
    assert report.inventory.drives_idle == 0 and report.inventory.drives_read == 4
    assert world.cycle(4).inventory.drives_idle > 0


def test_the_summary_and_plan_say_how_many_drives_were_read_and_skipped(world):
    world.gw.add_recording("alice", "young", created(0))
    world.days(0, 2)
    report: CycleReport = world.reports[2]
    idle = report.inventory.drives_idle
    assert idle > 0
    line = f"drives: {4 - idle} read, {idle} skipped as idle (nothing due within 7 days: each is read every 7 days)"
    assert any(line in text for text in cycle_lines(report))
    assert report.summary()["drives_skipped_idle"] == idle and report.summary()["drives_read"] == 4 - idle
    plan = world.cycle(2, RunMode.PLAN)
    assert plan.inventory.drives_idle == idle and plan.reevaluated == 1
    assert any(line in text for text in plan_lines(plan))


def test_max_poll_interval_days_is_bounded_by_the_first_warning(tmp_path: Path):
    env = {"HOME": str(tmp_path)}
    assert load_settings(environ=env).policy.max_poll_interval_days == 7
    ok = load_settings(environ={**env, "TEAMSRETENTION_POLICY__MAX_POLL_INTERVAL_DAYS": "22"})
    assert ok.policy.max_poll_interval_days == 22  # 30 - 7 - 1
    with pytest.raises(ConfigError) as too_long:
        load_settings(environ={**env, "TEAMSRETENTION_POLICY__MAX_POLL_INTERVAL_DAYS": "23"})
    assert str(too_long.value) == (
        "policy.max_poll_interval_days = 23 (from environment variable TEAMSRETENTION_POLICY__MAX_POLL_INTERVAL_DAYS; "
        "policy.retention_days default): must be at most policy.retention_days - max(policy.warning_days) - 1 = 22, "
        "so that a new recording is found before its first warning is due")
    with pytest.raises(ConfigError) as zero:
        load_settings(environ={**env, "TEAMSRETENTION_POLICY__MAX_POLL_INTERVAL_DAYS": "0"})
    assert "policy.max_poll_interval_days = 0" in str(zero.value) and "at least 1" in str(zero.value)


def test_a_drive_that_comes_back_into_scope_is_read_at_its_next_cycle(world):
    world.gw.add_user("erin", lang="en-US")
    world.days(0, 1)
    erin, alice = world.gw.onedrive["erin"], world.gw.onedrive["alice"]
    everyone = {d.id for d in drive_store.in_scope(world.db)}
    drive_store.set_in_scope(world.db, everyone - {erin})  # erin left the scope for a while...
    drive_store.set_in_scope(world.db, everyone)  # ...and is back
    back, stayed = drive_store.get(world.db, erin), drive_store.get(world.db, alice)
    assert back is not None and back.polled_on is None and must_read(back, DAY0 + dt.timedelta(days=2), P, set())
    assert stayed is not None and stayed.polled_on is not None
