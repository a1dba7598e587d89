"""Before deleting, each recording is read again (item, eTag, label) on its own, just before its DELETE: Graph
documents no eTag change for a retention label, so a read batched with the next deletions' could be stale by
the time their DELETEs go out. A DELETE to the recycle bin also carries the eTag read (If-Match), so a file
changed in the moment between is refused (412) and kept; permanentDelete takes no If-Match. The recordings
themselves are read from the store 20 at a time."""

from __future__ import annotations

import pytest

from teamsretention.cycle import delete

RECORDINGS = "".join(f"""
[[recordings]]
key = "r{n:02d}"
organizer = "{('anna', 'bob')[n % 2]}"
subject = "Review {n:02d}"
age_days = 25
""" for n in range(45))


def _warned_a_week_ago(make_world, **config):  # type: ignore[no-untyped-def]
    """45 recordings 25 days old warned on day 0: the notice floor makes day 7 their deletion day."""
    w = make_world(RECORDINGS, max_deletion_share=1.0, **config)
    w.cycle(0)
    w.days(1, 6)
    w.model.requests.reset()
    return w


def test_recycle_bin_deletions_are_each_read_alone_just_before_and_deleted_with_if_match(make_world) -> None:
    w = _warned_a_week_ago(make_world)
    report = w.cycle(7)

    assert report.deleted == 45
    kinds = w.model.requests.by_kind
    assert kinds["item.delete"] == 45
    # the evaluate step's label reads (45) in POST /$batch of 20 + 20 + 5, then one GET just before each DELETE
    assert kinds["batch"] == 3 and kinds["item.get"] == 90
    sent = [r["kind"] for r in w.model.requests.recent if r["kind"] in ("item.get", "item.delete")]
    assert sent[-90:] == ["item.get", "item.delete"] * 45


def test_a_file_changed_after_its_read_is_not_deleted(make_world, monkeypatch: pytest.MonkeyPatch) -> None:
    w = _warned_a_week_ago(make_world)
    original = delete.DeleteStep._read_fresh
    changed = w.model.find_item("r07")

    async def read_then_edit(self, rec):  # type: ignore[no-untyped-def]
        read = await original(self, rec)
        if rec.item_id == changed.id:
            w.model.touch_item(changed)  # the organizer edits it a moment after our read
        return read

    monkeypatch.setattr(delete.DeleteStep, "_read_fresh", read_then_edit)
    report = w.cycle(7)

    assert report.deleted == 44
    assert not changed.deleted
    skipped = w.audit("delete_skipped", "r07")
    assert skipped and "412" in skipped[-1].reason


def test_permanent_deletions_are_read_one_at_a_time_just_before(make_world) -> None:
    w = _warned_a_week_ago(make_world, delete_mode="permanent")
    report = w.cycle(7)

    assert report.deleted == 45
    kinds = w.model.requests.by_kind
    assert kinds["item.permanentDelete"] == 45
    assert kinds["batch"] == 3 and kinds["item.get"] == 90  # the evaluate step's in batches, then 45 single GETs


def test_a_deletion_day_reads_each_due_recording_once_twenty_at_a_time(make_world,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The due deletions are listed by id and date; the recordings themselves are read a batch at a time (a
    deletion day on a large tenant has tens of thousands of them)."""
    from teamsretention.store import recordings

    w = _warned_a_week_ago(make_world)
    batches: list[int] = []
    built = [0]
    original_get_many, original_read = recordings.get_many, recordings.read

    def get_many(db, ids):  # type: ignore[no-untyped-def]
        found = original_get_many(db, ids)
        batches.append(len(found))
        return found

    def read(s, statement, params=None):  # type: ignore[no-untyped-def]
        for rec in original_read(s, statement, params):
            built[0] += 1
            yield rec

    original_run = delete.DeleteStep.run

    async def run(self, override):  # type: ignore[no-untyped-def]
        batches.clear()
        built[0] = 0
        monkeypatch.setattr(recordings, "get_many", get_many)
        monkeypatch.setattr(recordings, "read", read)
        try:
            return await original_run(self, override)
        finally:
            monkeypatch.setattr(recordings, "get_many", original_get_many)
            monkeypatch.setattr(recordings, "read", original_read)

    monkeypatch.setattr(delete.DeleteStep, "run", run)
    report = w.cycle(7)

    assert report.deleted == 45
    assert [n for n in batches if n] == [20, 20, 5]
    assert built[0] == 45  # each due recording built once: none held for the whole step
