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
