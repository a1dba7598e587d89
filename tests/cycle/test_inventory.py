"""Inventory details that a delta feed makes tricky: items whose folder comes later, repeated items,
resyncs, and recognising recordings without the Teams facets."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from teamsretention.cycle import CycleConfig, CycleReport, ScopeRules
from teamsretention.cycle.config import CycleContext
from teamsretention.cycle.drives import DriveSync
from teamsretention.domain import DriveKind, Person, PolicyConfig, RunMode
from teamsretention.ports import DeltaPage, DriveRef, ItemChange
from teamsretention.store import Database, directory, drives, recordings
from teamsretention.store.recordings import StoredRecording

from ..fakes import FakeGateway

WHEN = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
CREATED = dt.datetime(2026, 2, 20, 9, 0, tzinfo=dt.UTC)
NAME = "Weekly-20260220_090000-Meeting Recording.mp4"


def video(etag: str, parent: str = "rec") -> ItemChange:
    return ItemChange(id="v1", name=NAME, parent_id=parent, created_at=CREATED, etag=etag, mime_type="video/mp4")


@pytest.fixture(autouse=True, params=[1, 1000], ids=["page-by-page", "pages-batched"])
def batch_items(request, monkeypatch):
    """Each test holds both when every page is a transaction of its own (what waits for a folder is carried
    from one transaction to the next) and when the pages go in one batch."""
    monkeypatch.setattr(DriveSync, "batch_items", request.param)


ROOT = ItemChange(id="root", name="root", is_root=True, is_folder=True)
RECORDINGS = ItemChange(id="rec", name="Recordings", is_folder=True, parent_id="root")


class PagedGateway(FakeGateway):
    def __init__(self, pages: list[DeltaPage]) -> None:
        super().__init__()
        self.pages = pages

    async def drive_delta(self, drive_id, delta_link, *, videos_only=False):  # type: ignore[override]
        for page in self.pages:
            yield page


def sync(tmp_path, pages: list[DeltaPage]) -> list[StoredRecording]:
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, [Person(id="alice", upn="alice@contoso.example")], [])
    directory.record_onedrive(db, "alice", DriveRef("d1", DriveKind.ONEDRIVE, owner_id="alice", name="alice"), WHEN)
    (drive,) = drives.set_in_scope(db, {"d1"})
    report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
    config = CycleConfig(policy=PolicyConfig(), scope=ScopeRules())
    ctx = CycleContext(db, PagedGateway(pages), config, lambda: WHEN, WHEN.date(), report, asyncio.Event())
    assert asyncio.run(DriveSync(ctx).run(drive))
    rows = recordings.list_all(db)
    db.dispose()
    return rows


def test_a_video_seen_before_its_folder_is_recognised_once_the_folder_arrives(tmp_path):
    # No Teams facets: recognition needs the Recordings folder, which the feed lists after the file.
    rows = sync(tmp_path, [DeltaPage([video('"1"')], reset=True),
                           DeltaPage([ROOT, RECORDINGS], delta_link="link")])
    assert [(r.item_id, r.etag, r.state) for r in rows] == [("v1", '"1"', "tracked")]


def test_a_video_whose_recordings_folder_came_before_the_drive_root_waits_for_it(tmp_path):
    # the Recordings folder and the file on one page, the root on the next: where the folder sits is known only
    # then (page by page, in another transaction)
    rows = sync(tmp_path, [DeltaPage([RECORDINGS, video('"1"')], reset=True),
                           DeltaPage([ROOT], delta_link="link")])
    assert [(r.item_id, r.state) for r in rows] == [("v1", "tracked")]


def test_a_later_state_of_a_waiting_item_wins(tmp_path):
    rows = sync(tmp_path, [DeltaPage([video('"1"')], reset=True),
                           DeltaPage([ROOT, RECORDINGS, video('"2"')], delta_link="link")])
    assert [(r.item_id, r.etag) for r in rows] == [("v1", '"2"')]


def test_a_resync_in_mid_feed_forgets_what_the_broken_feed_left_waiting(tmp_path):
    rows = sync(tmp_path, [DeltaPage([video('"1"', parent="elsewhere")], reset=True),
                           DeltaPage([ROOT, RECORDINGS], reset=True, delta_link="link")])
    assert rows == []


def test_a_video_outside_a_recordings_folder_without_teams_facets_is_not_a_recording(tmp_path):
    other = ItemChange(id="docs", name="Documents", is_folder=True, parent_id="root")
    rows = sync(tmp_path, [DeltaPage([ROOT, other, video('"1"', parent="docs")], reset=True, delta_link="l")])
    assert rows == []


def test_a_waiting_video_that_is_no_video_on_a_later_page_is_not_tracked(tmp_path):
    # Page 1 lists the file before its folder; page 2 lists it renamed to a document (by id only, as the
    # gateway gives files that are no video to the cycle): the waiting video state is stale and dropped.
    rows = sync(tmp_path, [DeltaPage([video('"1"')], reset=True),
                           DeltaPage([ROOT, RECORDINGS], others=("v1",), delta_link="link")])
    assert rows == []


def test_a_recording_listed_as_no_video_is_not_reclassified_by_its_folders_rename(tmp_path):
    # The Recordings folder is renamed on the page that lists the tracked file as a document now: the file's
    # stored name says nothing about what it is now, so the rename does not untrack it on that evidence (the
    # re-read before any warning or deletion settles it from Graph).
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, [Person(id="alice", upn="alice@contoso.example")], [])
    directory.record_onedrive(db, "alice", DriveRef("d1", DriveKind.ONEDRIVE, owner_id="alice", name="alice"), WHEN)
    (drive,) = drives.set_in_scope(db, {"d1"})
    config = CycleConfig(policy=PolicyConfig(), scope=ScopeRules())

    def run(pages: list[DeltaPage]) -> None:
        report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
        ctx = CycleContext(db, PagedGateway(pages), config, lambda: WHEN, WHEN.date(), report, asyncio.Event())
        assert asyncio.run(DriveSync(ctx).run(drives.in_scope(db)[0]))

    run([DeltaPage([ROOT, RECORDINGS, video('"1"')], reset=True, delta_link="l1")])
    assert [(r.item_id, r.state) for r in recordings.list_all(db)] == [("v1", "tracked")]
    archive = ItemChange(id="rec", name="Archive", is_folder=True, parent_id="root")
    run([DeltaPage([archive], others=("v1",), delta_link="l2")])
    assert [(r.item_id, r.state) for r in recordings.list_all(db)] == [("v1", "tracked")]
    run([DeltaPage([ItemChange(id="rec", name="Old", is_folder=True, parent_id="root")], delta_link="l3")])
    assert [(r.item_id, r.state) for r in recordings.list_all(db)] == [("v1", "unsure")]  # without it: untracked
    db.dispose()


def test_a_folder_renamed_to_recordings_after_its_files_in_a_full_listing_lists_the_drive_again(tmp_path, batch_items):
    """A 410 resync lists a folder's files before the folder, renamed to Recordings since the last read: those
    files were classified by the folder's old name. The next read lists the drive in full again, and finds them."""
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, [Person(id="alice", upn="alice@contoso.example")], [])
    directory.record_onedrive(db, "alice", DriveRef("d1", DriveKind.ONEDRIVE, owner_id="alice", name="alice"), WHEN)
    drives.set_in_scope(db, {"d1"})
    config = CycleConfig(policy=PolicyConfig(), scope=ScopeRules())

    def run(pages: list[DeltaPage]) -> None:
        report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
        ctx = CycleContext(db, PagedGateway(pages), config, lambda: WHEN, WHEN.date(), report, asyncio.Event())
        assert asyncio.run(DriveSync(ctx).run(drives.in_scope(db)[0]))

    old = ItemChange(id="rec", name="Old", is_folder=True, parent_id="root")
    run([DeltaPage([ROOT, old, video('"1"')], reset=True, delta_link="l1")])
    assert recordings.list_all(db) == []  # a video outside a Recordings folder
    run([DeltaPage([video('"1"')], reset=True), DeltaPage([RECORDINGS], delta_link="l2")])
    found = [(r.item_id, r.state) for r in recordings.list_all(db)]
    if found != [("v1", "tracked")]:  # listed before the rename came (a transaction per page)
        assert found == [] and drives.in_scope(db)[0].delta_link is None  # the next read lists it in full
        run([DeltaPage([ROOT, RECORDINGS, video('"1"')], reset=True, delta_link="l3")])
    assert [(r.item_id, r.state) for r in recordings.list_all(db)] == [("v1", "tracked")]
    db.dispose()
