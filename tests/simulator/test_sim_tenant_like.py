"""The tenant-like benchmark's generator: what its drives hold is what the benchmark's figures claim."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from teamsretention.simulator.tenant_like import MAX_AGE_DAYS, TenantShape, build_tenant_like

EPOCH = dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC)


def _files(model, *, recordings: bool):  # type: ignore[no-untyped-def]
    return [i for d in model.drives.values() for i in d.items.values()
            if not i.is_folder and i.teams_recording is recordings and not i.deleted]


def test_drives_hold_other_files_some_in_folders_and_recordings_of_every_age() -> None:
    model = build_tenant_like(TenantShape(2_000, files_per_drive=200, arrival_days=0), EPOCH)
    assert len(model.users) == 100
    other = _files(model, recordings=False)
    assert len(other) == 100 * 200
    roots = {d.root_id for d in model.drives.values()}
    in_folders = [i for i in other if i.parent_id not in roots]
    assert 0.25 < len(in_folders) / len(other) < 0.45  # about a third in folders
    assert any(i.mime_type == "video/mp4" for i in other)  # videos that are not recordings
    recs = _files(model, recordings=True)
    assert len(recs) == 2_000
    ages = [(EPOCH - r.created) / dt.timedelta(days=1) for r in recs]
    assert min(ages) < 3 and max(ages) > MAX_AGE_DAYS - 3
    assert sum(a > 30 for a in ages) > 0.5 * len(ages)  # past retention on the first cycle: deletion work
    per_organizer = Counter(r.drive_id for r in recs)
    assert len(per_organizer) < 100  # not every user records
    assert max(per_organizer.values()) > 3 * (2_000 / len(per_organizer))  # some record a lot


def test_new_recordings_arrive_each_day_as_the_clock_moves() -> None:
    model = build_tenant_like(TenantShape(900, files_per_drive=0, arrival_days=3), EPOCH)
    before = len(_files(model, recordings=True))
    model.advance(days=1)
    after_one = len(_files(model, recordings=True))
    assert after_one - before == 900 // MAX_AGE_DAYS
    model.advance(days=2)
    assert len(_files(model, recordings=True)) - before == 3 * (900 // MAX_AGE_DAYS)
    assert not model.events
