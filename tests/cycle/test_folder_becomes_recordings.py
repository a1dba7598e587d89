"""Videos that sit in a folder which only later counts as a Recordings folder: renamed to one, or named in
``[recognition] folder_names`` by an administrator. Delta reports the folder, never what it holds, and the store
keeps no video it did not take for a recording; so the drive is listed again in full, the videos are found,
and they are governed like any other (warned, then deleted); end to end on the simulator."""

from __future__ import annotations

import dataclasses

from teamsretention.domain import RecognitionConfig
from teamsretention.reports.cycle import cycle_lines

SCENARIO = """
[[folders]]
key = "clips"
owner = "bob"
path = ["Clips"]

[[files]]
key = "standup"
owner = "bob"
folder = "Clips"
name = "Standup-20260120_093000-Meeting Recording.mp4"
mime_type = "video/mp4"
age_days = 40
"""

RENAME = """
[[events]]
day = 2
kind = "modify_item"
item = "clips"
name = "Recordings"
"""


def test_a_folder_renamed_to_recordings_has_its_videos_found_and_governed(make_world):
    w = make_world(SCENARIO + RENAME, max_poll_interval_days=1)  # Bob's drive, idle, is read daily all the same
    w.days(0, 1)
    assert w.reports[1].tracked == 0  # a video in Clips is no recording
    report = w.cycle(2)  # the rename arrives: the drive is to be listed in full
    assert report.tracked == 0 and report.inventory.drives_relisted
    assert any("listed again in full" in line and "Recordings" in line for line in cycle_lines(report))
    report = w.cycle(3)
    assert report.tracked == 1 and not report.inventory.drives_relisted
    w.days(4, 12)
    assert w.mails_to("bob@contoso.example") and w.in_recycle_bin("standup")  # warned first, then deleted


def test_a_folder_name_added_to_the_settings_has_its_videos_found_and_governed(make_world):
    w = make_world(SCENARIO.replace('"Clips"', '"Mötesvideor"'))
    w.days(0, 1)
    assert w.reports[1].tracked == 0
    w.config = dataclasses.replace(w.config, recognition=dataclasses.replace(
        RecognitionConfig(), folder_names=(*RecognitionConfig().folder_names, "Mötesvideor")))
    report = w.cycle(2)
    assert report.inventory.drives_relisted
    w.cycle(3)
    assert w.reports[3].tracked == 1
    w.days(4, 12)
    assert w.in_recycle_bin("standup")


def test_an_idle_drive_sees_the_rename_at_its_next_read_and_governs_its_videos(make_world):
    w = make_world(SCENARIO + RENAME)  # Bob's drive holds no recording: idle, read every 7 days
    w.days(0, 20)
    [relisted] = [d for d in range(21) if w.reports[d].inventory.drives_relisted]
    assert 2 <= relisted <= 2 + 7 and w.reports[relisted + 1].tracked == 1
    assert w.in_recycle_bin("standup") and w.mails_to("bob@contoso.example")


def _clips_world(tmp_path, folder: str = "Clips", **config):
    from tests.fakes import FakeItem

    from .test_cycle import World, created

    w = World(tmp_path, **config)
    w.gw.add_user("alice")
    w.gw.add_user("bob")
    items = w.gw.items["drive-alice"]
    w.gw.clock += 1
    items["clips"] = FakeItem("clips", folder, created(-50), "root", True, version=w.gw.clock)
    w.gw.clock += 1
    items["standup"] = FakeItem("standup", "Standup-20260120_093000-Meeting Recording.mp4", created(-40), "clips",
                                version=w.gw.clock, teams_facets=False)
    return w


def test_a_rename_read_in_a_feed_that_breaks_off_still_lists_the_drive_in_full(tmp_path):
    from teamsretention.errors import TransientGraphError

    w = _clips_world(tmp_path, max_poll_interval_days=1)  # Alice's drive, idle, is read daily all the same
    w.cycle(0)
    assert w.reports[0].tracked == 0
    w.gw.touch("drive-alice", "clips", name="Recordings")
    real, broke = w.gw.drive_delta, []

    async def breaks_off_once(drive_id, delta_link, *, videos_only=False):
        async for page in real(drive_id, delta_link, videos_only=videos_only):
            yield page if broke or drive_id != "drive-alice" else dataclasses.replace(page, delta_link=None)
        if not broke and drive_id == "drive-alice":
            broke.append(drive_id)  # the pages (with the rename) were read, then the feed broke off
            raise TransientGraphError(503, "serviceNotAvailable", "try later")

    w.gw.drive_delta = breaks_off_once
    assert "drive-alice" in w.cycle(1).inventory.drives_incomplete and broke
    w.cycle(2)
    assert w.reports[2].tracked == 1  # listed in full: the video in the renamed folder was found
    w.db.dispose()


def test_new_folder_settings_list_a_drive_in_full_once_while_another_drive_fails(tmp_path):
    w = _clips_world(tmp_path, "Mötesvideor")
    w.days(0, 1)
    w.gw.fail_delta.add("drive-bob")  # the new settings come into force only once every drive was read
    w.config = dataclasses.replace(w.config, recognition=dataclasses.replace(
        RecognitionConfig(), folder_names=(*RecognitionConfig().folder_names, "Mötesvideor")))
    listed = [d for d in range(2, 12) if "drive-alice" in w.cycle(d).inventory.drives_enumerated]
    assert listed == [3] and w.reports[3].tracked == 1
    w.db.dispose()
