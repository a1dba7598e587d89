"""A delta page is applied in sets: the statements it costs do not grow with the number of items on it."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event

from teamsretention.cycle import CycleConfig, CycleReport, ScopeRules
from teamsretention.cycle.config import CycleContext
from teamsretention.cycle.drives import DriveSync
from teamsretention.domain import DriveKind, Person, PolicyConfig, RunMode
from teamsretention.errors import GraphError, LockLost, StoreError
from teamsretention.ports import DeltaPage, DriveRef, ItemChange
from teamsretention.store import Database, audit, directory, drives, recordings
from teamsretention.store.audit import AuditKind

from .test_inventory import RECORDINGS, ROOT, WHEN, PagedGateway

CREATED = dt.datetime(2026, 2, 20, 9, 0, tzinfo=dt.UTC)


def videos(n: int, etag: str, *, gone: int = 0) -> list[ItemChange]:
    """``n`` recordings in /Recordings (the first ``gone`` of them deleted), and as many other files."""
    items = []
    for i in range(n):
        at = CREATED + dt.timedelta(minutes=i)
        items.append(ItemChange(id=f"v{i}", name=f"Weekly-{at:%Y%m%d_%H%M%S}-Meeting Recording.mp4",
                                parent_id="rec", created_at=at, etag=etag, mime_type="video/mp4", deleted=i < gone))
        items.append(ItemChange(id=f"doc{i}", name=f"notes-{i}.docx", parent_id="root", created_at=at, etag=etag,
                                mime_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    return items


def statements_per_cycle(tmp_path: Any, n: int) -> tuple[list[int], Database]:
    """The SQL statements of two syncs of one drive: a full enumeration of ``n`` new recordings on one page,
    then a page that changes all of them and deletes a tenth."""
    db = Database(f"sqlite:///{tmp_path}/state-{n}.db")
    directory.apply_people(db, [Person(id="alice", upn="alice@contoso.example")], [])
    directory.record_onedrive(db, "alice", DriveRef("d1", DriveKind.ONEDRIVE, owner_id="alice", name="alice"), WHEN)
    counts = []
    for pages in ([DeltaPage([ROOT, RECORDINGS, *videos(n, '"1"')], reset=True, delta_link="link-1")],
                  [DeltaPage([RECORDINGS, *videos(n, '"2"', gone=n // 10)], delta_link="link-2")]):
        (drive,) = drives.set_in_scope(db, {"d1"})
        report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
        ctx = CycleContext(db, PagedGateway(pages), CycleConfig(policy=PolicyConfig(), scope=ScopeRules()),
                           lambda: WHEN, WHEN.date(), report, asyncio.Event())
        seen: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any, seen: list[str] = seen) -> None:
            seen.append(statement)  # before_cursor_execute: once per statement sent to the database

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert asyncio.run(DriveSync(ctx).run(drive))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append(len(seen))
    return counts, db


def test_a_page_costs_the_same_statements_for_50_items_as_for_200(tmp_path):
    small, small_db = statements_per_cycle(tmp_path, 50)
    large, large_db = statements_per_cycle(tmp_path, 200)
    assert small == large
    assert large[0] < 40  # a handful per page and per drive, never one per item
    # ...and every recording is in the store, with its evidence, as one read per item would have left it
    for db, n in ((small_db, 50), (large_db, 200)):
        rows = recordings.list_all(db)
        assert len(rows) == n
        assert {(r.state, r.etag) for r in rows} == {("tracked", '"2"'), ("gone", '"1"')}
        assert sum(r.state == "gone" for r in rows) == n // 10
        assert len(audit.entries(db, kind=AuditKind.DISCOVERED)) == n
        assert len(audit.entries(db, kind=AuditKind.VANISHED)) == n // 10
        db.dispose()


def test_a_renamed_folder_and_a_moved_recording_are_applied_from_the_page(tmp_path):
    """Folder changes arrive in one write per kind; a file moved in from another drive is matched in the
    same page's single move query."""
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, [Person(id="alice", upn="alice@contoso.example")], [])
    for d in ("d1", "d2"):
        directory.record_onedrive(db, "alice", DriveRef(d, DriveKind.ONEDRIVE, owner_id="alice", name=d), WHEN)
    item = videos(1, '"1"')[0]

    def run(drive_id: str, pages: list[DeltaPage]) -> None:
        drive = drives.get(db, drive_id)
        assert drive is not None
        report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
        ctx = CycleContext(db, PagedGateway(pages), CycleConfig(policy=PolicyConfig(), scope=ScopeRules()),
                           lambda: WHEN, WHEN.date(), report, asyncio.Event())
        assert asyncio.run(DriveSync(ctx).run(drive))

    drives.set_in_scope(db, {"d1", "d2"})
    run("d1", [DeltaPage([ROOT, RECORDINGS, item], reset=True, delta_link="l1")])
    run("d2", [DeltaPage([ROOT, RECORDINGS, item], reset=True, delta_link="l2")])
    moved = recordings.in_drive(db, "d2", ["v0"])["v0"]
    assert moved.moved_from == "d1/v0"
    renamed = ItemChange(id="rec", name="Old meetings", is_folder=True, parent_id="root")
    run("d1", [DeltaPage([renamed], delta_link="l3")])
    assert recordings.in_drive(db, "d1", ["v0"])["v0"].state == "unsure"  # no longer in a Recordings folder
    assert drives.folder_chains(db, "d1", ["rec"])["rec"][0].name == "Old meetings"
    db.dispose()


def test_the_last_page_and_the_deltalink_are_stored_together_or_not_at_all(tmp_path, monkeypatch):
    """The last batch of pages of a feed and the drive's completion share one transaction: when storing the
    deltaLink fails, nothing of that batch is kept either (a batch applied before it stands), the drive keeps
    the link it had, and the next read replays that link and finds the recordings of the page."""
    monkeypatch.setattr(DriveSync, "batch_items", 2)  # each page of two items is a batch of its own
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, [Person(id="alice", upn="alice@contoso.example")], [])
    directory.record_onedrive(db, "alice", DriveRef("d1", DriveKind.ONEDRIVE, owner_id="alice", name="alice"), WHEN)
    first = [DeltaPage([ROOT, RECORDINGS], reset=True, delta_link="link-1")]
    later = [DeltaPage(videos(3, '"1"')[:2]), DeltaPage(videos(3, '"1"')[2:], delta_link="link-2")]

    def run(pages: list[DeltaPage]) -> bool:
        (drive,) = drives.set_in_scope(db, {"d1"})
        report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
        ctx = CycleContext(db, PagedGateway(pages), CycleConfig(policy=PolicyConfig(), scope=ScopeRules()),
                           lambda: WHEN, WHEN.date(), report, asyncio.Event())
        return asyncio.run(DriveSync(ctx).run(drive))

    assert run(first)
    real = drives.mark_complete

    def disk_full(*_a: Any, **_k: Any) -> None:
        raise StoreError("state store: database or disk is full")

    monkeypatch.setattr(drives, "mark_complete", disk_full)
    with pytest.raises(StoreError):
        run(later)
    assert [r.item_id for r in recordings.list_all(db)] == ["v0"]  # the first page's commit stands
    assert drives.get(db, "d1").delta_link == "link-1"  # type: ignore[union-attr]
    monkeypatch.setattr(drives, "mark_complete", real)
    assert run(later)
    assert sorted(r.item_id for r in recordings.list_all(db)) == ["v0", "v1", "v2"]
    assert drives.get(db, "d1").delta_link == "link-2"  # type: ignore[union-attr]
    db.dispose()


def test_nothing_after_the_page_that_ends_the_feed_is_applied(tmp_path):
    """The page with the deltaLink completes the drive; a gateway that yielded more after it (Graph does not)
    changes nothing of what was just completed."""
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, [Person(id="alice", upn="alice@contoso.example")], [])
    directory.record_onedrive(db, "alice", DriveRef("d1", DriveKind.ONEDRIVE, owner_id="alice", name="alice"), WHEN)
    (drive,) = drives.set_in_scope(db, {"d1"})
    report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
    pages = [DeltaPage([ROOT, RECORDINGS, *videos(1, '"1"')], reset=True, delta_link="link-1"),
             DeltaPage(videos(2, '"1"')[2:])]
    ctx = CycleContext(db, PagedGateway(pages), CycleConfig(policy=PolicyConfig(), scope=ScopeRules()),
                       lambda: WHEN, WHEN.date(), report, asyncio.Event())
    assert asyncio.run(DriveSync(ctx).run(drive))
    assert [r.item_id for r in recordings.list_all(db)] == ["v0"]
    assert drives.get(db, "d1").delta_link == "link-1"  # type: ignore[union-attr]
    db.dispose()


def sync_counting(tmp_path: Any, pages: list[DeltaPage],
                  gateway: type[PagedGateway] = PagedGateway) -> tuple[bool, int, Database, CycleReport]:
    """One sync of drive d1 from ``pages``: whether it completed, and the transactions it committed."""
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, [Person(id="alice", upn="alice@contoso.example")], [])
    directory.record_onedrive(db, "alice", DriveRef("d1", DriveKind.ONEDRIVE, owner_id="alice", name="alice"), WHEN)
    (drive,) = drives.set_in_scope(db, {"d1"})
    report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
    ctx = CycleContext(db, gateway(pages), CycleConfig(policy=PolicyConfig(), scope=ScopeRules()),
                       lambda: WHEN, WHEN.date(), report, asyncio.Event())
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda _conn: commits.append(1))
    done = asyncio.run(DriveSync(ctx).run(drive))
    return done, len(commits), db, report


def test_a_drive_of_a_few_pages_is_applied_in_one_transaction(tmp_path):
    """Graph's page size does not set the store's work: three pages of a drive (its folders on the last) are
    read, then applied and completed with the deltaLink in one commit, every recording recognised."""
    items = videos(30, '"1"')
    pages = [DeltaPage(items[:20], reset=True), DeltaPage(items[20:40]),
             DeltaPage([*items[40:], ROOT, RECORDINGS], delta_link="link-1")]
    done, commits, db, _ = sync_counting(tmp_path, pages)
    assert done and commits == 1
    rows = recordings.list_all(db)
    assert sorted(r.item_id for r in rows) == sorted(f"v{i}" for i in range(30))
    assert {r.state for r in rows} == {"tracked"}
    assert len(audit.entries(db, kind=AuditKind.DISCOVERED)) == 30
    assert drives.get(db, "d1").delta_link == "link-1"  # type: ignore[union-attr]
    db.dispose()


def test_a_large_drive_is_applied_a_bounded_batch_at_a_time(tmp_path, monkeypatch):
    """However many pages a drive has, no more than ``batch_items`` items wait in memory: a drive of 60 items
    with batches of 20 commits three times, the last with the deltaLink."""
    monkeypatch.setattr(DriveSync, "batch_items", 20)
    items = [ROOT, RECORDINGS, *videos(29, '"1"')]  # 60 items
    pages = [DeltaPage(items[i:i + 10], reset=i == 0, delta_link="link-1" if i + 10 >= len(items) else None)
             for i in range(0, len(items), 10)]
    done, commits, db, _ = sync_counting(tmp_path, pages)
    assert done and commits == 3
    assert len(recordings.list_all(db)) == 29
    db.dispose()


class BreakingGateway(PagedGateway):
    async def drive_delta(self, drive_id, delta_link, *, videos_only=False):  # type: ignore[override]
        for page in self.pages:
            yield page
        raise GraphError(503, "serviceNotAvailable", "the delta feed broke off")


def test_what_was_read_before_a_feed_broke_off_is_kept_and_the_drive_is_incomplete(tmp_path):
    """Pages read before the feed broke off are applied (their recordings known, never warned or deleted this
    cycle: the drive is incomplete); the deltaLink stays as it was, so the next cycle replays the feed."""
    done, commits, db, report = sync_counting(tmp_path, [DeltaPage([ROOT, RECORDINGS, *videos(2, '"1"')],
                                                                   reset=True)], BreakingGateway)
    assert not done
    assert sorted(r.item_id for r in recordings.list_all(db)) == ["v0", "v1"]
    stored = drives.get(db, "d1")
    assert stored is not None and not stored.complete and stored.delta_link is None
    assert "broke off" in str(report.inventory.drive_errors["d1"])
    assert report.inventory.drives_incomplete == ["d1"]
    db.dispose()


def test_a_full_enumeration_that_broke_off_counts_for_the_next_one(tmp_path):
    """A first read lists two recordings and breaks off; one of them is deleted before the next read, which
    does not list it: that read, complete, knows it is gone (VANISHED, no longer tracked), not tracked forever."""
    done, _, db, _ = sync_counting(tmp_path, [DeltaPage([ROOT, RECORDINGS, *videos(2, '"1"')], reset=True)],
                                   BreakingGateway)
    assert not done
    (drive,) = drives.set_in_scope(db, {"d1"})
    report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
    kept = [i for i in videos(2, '"1"') if i.id != "v1"]
    ctx = CycleContext(db, PagedGateway([DeltaPage([ROOT, RECORDINGS, *kept], reset=True, delta_link="link-1")]),
                       CycleConfig(policy=PolicyConfig(), scope=ScopeRules()), lambda: WHEN, WHEN.date(), report,
                       asyncio.Event())
    assert asyncio.run(DriveSync(ctx).run(drive))
    states = {r.item_id: r.state for r in recordings.list_all(db)}
    assert states == {"v0": "tracked", "v1": "gone"}
    assert [e.recording_key for e in audit.entries(db, kind=AuditKind.VANISHED)] == ["d1/v1"]
    db.dispose()


def test_a_lost_lock_in_mid_feed_writes_nothing_of_the_batch(tmp_path):
    """The cycle lock is lost while pages wait in the batch: nothing of them is written, the drive keeps its
    deltaLink, and the next cycle reads them again."""
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, [Person(id="alice", upn="alice@contoso.example")], [])
    directory.record_onedrive(db, "alice", DriveRef("d1", DriveKind.ONEDRIVE, owner_id="alice", name="alice"), WHEN)
    (drive,) = drives.set_in_scope(db, {"d1"})
    report = CycleReport(run_id=None, cycle_date=WHEN.date(), mode=RunMode.ENFORCE)
    calls: list[int] = []

    def checkpoint() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise LockLost("this cycle no longer holds the cycle lock")

    pages = [DeltaPage([ROOT, RECORDINGS, *videos(2, '"1"')], reset=True), DeltaPage([], delta_link="link-1")]
    ctx = CycleContext(db, PagedGateway(pages), CycleConfig(policy=PolicyConfig(), scope=ScopeRules()),
                       lambda: WHEN, WHEN.date(), report, asyncio.Event(), checkpoint=checkpoint)
    with pytest.raises(LockLost):
        asyncio.run(DriveSync(ctx).run(drive))
    assert recordings.list_all(db) == []
    assert audit.entries(db) == []
    stored = drives.get(db, "d1")
    assert stored is not None and stored.delta_link is None and stored.sync_generation == 0
    db.dispose()
