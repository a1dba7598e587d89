"""Forty days on the simulator, one cycle a day, recordings arriving daily in many OneDrives, an exemption and an
assignment ending: reading idle drives every max_poll_interval_days and evaluating only what changed gives
the same warnings on the same days and the same deletions on the same days as reading every drive and
evaluating every recording daily, at a fraction of the Graph traffic."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from teamsretention.cycle.selection import BASIS_KEY
from teamsretention.domain import Exemption, ExemptionKind, ExemptionStatus, RecordingRef
from teamsretention.store import assignments, exemptions
from teamsretention.store import directory as directory_store
from teamsretention.store.assignments import Acting, Fields

from .simworld import SimWorld
from .test_cycle import DAY0, at

DAYS = 40
USERS = 18
BUSY = 12  # u00..u11 get recordings; the other OneDrives stay empty all along
INTERVAL = 7


def _scenario() -> str:
    parts = [f'[[users]]\nkey = "u{n:02}"\ndisplay_name = "User {n}"\n' for n in range(USERS)]
    old = [(f"old{i}", i, 22 + 2 * i) for i in range(4)] + [(f"mid{i}", 4 + i, 10 + 3 * i) for i in range(4)]
    old += [("kept", 8, 28), ("case", 9, 25)]
    for key, user, age in old:
        parts.append(f'[[recordings]]\nkey = "{key}"\norganizer = "u{user:02}"\nsubject = "Initial {key}"\n'
                     f'age_days = {age}\n')
    for day in range(1, DAYS - 1):  # fresh recordings, uploaded after that day's cycle
        arrivals = [(day * 5) % BUSY] + ([(day * 7 + 3) % BUSY] if day % 2 == 0 else [])
        for n, user in enumerate(arrivals):
            parts.append(f'[[events]]\nday = {day}\nhours = 3\nkind = "add_recording"\nkey = "d{day}-{n}"\n'
                         f'organizer = "u{user:02}"\nsubject = "Daily {day} {n}"\nage_days = 0\n')
    return "\n".join(parts)


def _governance(w: SimWorld) -> None:
    """A time-boxed exception on "kept" (until day 15) and an assignment that keeps "case" until it closes."""
    kept, case = w.model.find_item("kept"), w.model.find_item("case")
    before = at(0) - dt.timedelta(hours=2)
    exemptions.record_exemption(w.db, Exemption(
        id="EX-1", kind=ExemptionKind.EXCEPTION, status=ExemptionStatus.APPROVED, requested_on=DAY0 - dt.timedelta(5),
        target_id=f"{kept.drive_id}/{kept.id}", decided_on=DAY0 - dt.timedelta(5),
        valid_until=DAY0 + dt.timedelta(15)), actor="dpo@contoso.example", at=before, day=DAY0, note="until day 15")
    acting = Acting("it-support@contoso.example", "cli", before, DAY0)
    assignments.create(w.db, Fields("A-1", "Case", None, DAY0 - dt.timedelta(60)), acting)
    assignments.tag(w.db, "A-1", RecordingRef(case.drive_id, case.id), tagged_on=DAY0 - dt.timedelta(20),
                    actor="it-support@contoso.example", at=before, day=DAY0)


def _run(tmp_path: Any, interval: int, everything: bool) -> tuple[SimWorld, dict[int, Counter[str]]]:
    w = SimWorld(tmp_path, _scenario(), max_poll_interval_days=interval)
    _governance(w)
    ru: dict[int, Counter[str]] = {}
    for day in range(DAYS):
        if day == 12:  # the assignment closes in the morning: a new notice episode for "case"
            assignments.close(w.db, "A-1", closed_on=DAY0 + dt.timedelta(12), acting=Acting(
                "it-support@contoso.example", "cli", at(12) - dt.timedelta(hours=1), DAY0 + dt.timedelta(12)))
        if everything:
            directory_store.set_sync_state(w.db, BASIS_KEY, None)  # the reference evaluates every recording
        before = Counter(w.model.requests.ru_by_drive)
        w.cycle(day)
        ru[day] = Counter(w.model.requests.ru_by_drive) - before
    return w, ru


def _actions(w: SimWorld, kind: str) -> set[tuple[str, int]]:
    alias = {item: key for key, item in w.model.aliases.items()}
    return {(alias.get((a.recording_key or "").split("/", 1)[-1], a.recording_key or ""), day)
            for a, day in zip(w.audit(kind), w.day_of(w.audit(kind)), strict=True)}


def test_idle_polling_warns_and_deletes_exactly_when_reading_everything_daily_would(tmp_path):
    lean, traffic = _run(tmp_path / "lean", INTERVAL, everything=False)
    full, _ = _run(tmp_path / "full", 1, everything=True)
    try:
        warned, deleted = _actions(lean, "warned"), _actions(lean, "deleted")
        assert warned == _actions(full, "warned") and deleted == _actions(full, "deleted")
        # what the timeline holds: fresh arrivals (recorded on day d, found on day d + 1 or up to INTERVAL days
        # later) warned on days d + 23 and d + 29 and deleted on day d + 30, old ones, and both covers ending
        for day in range(1, DAYS - 23):
            assert (f"d{day}-0", day + 23) in warned and ((f"d{day}-0", day + 29) in warned or day + 29 >= DAYS)
            assert (f"d{day}-0", day + 30) in deleted or day + 30 >= DAYS
        assert {("kept", 8), ("kept", 14)} <= warned and ("kept", 15) in deleted
        assert ("case", 12) in warned and ("case", 19) in deleted
        assert len(deleted) >= 10 and len(warned) >= 25

        reports = lean.reports
        assert sum(r.inventory.drives_idle for r in reports.values()) > DAYS * USERS // 2  # most drives idle
        assert all(r.inventory.drives_read + r.inventory.drives_idle == r.inventory.drives for r in reports.values())
        assert sum(r.reevaluated for r in reports.values()) < sum(r.reevaluated for r in full.reports.values()) / 3

        # an idle drive is read once every INTERVAL days: never twice within it, never more than INTERVAL apart
        drives = {lean.model.users[lean.key(f"u{n:02}")].drive_id for n in range(BUSY, USERS)}
        for drive in drives:
            read_on = [d for d in range(1, DAYS) if traffic[d][drive]]
            gaps = [b - a for a, b in zip(read_on, read_on[1:], strict=False)]
            assert gaps and all(g == INTERVAL for g in gaps), (drive, read_on)

        # Graph traffic over the last week: resource units per idle drive per day
        week = range(DAYS - 7, DAYS)
        idle = [d for d in drives | set().union(*(traffic[day] for day in week))
                if sum(1 for day in week if not traffic[day][d]) >= 4]
        per_drive_day = sum(traffic[day][d] for day in week for d in idle) / (len(idle) * len(week))
        assert len(idle) >= USERS - BUSY and per_drive_day <= 0.15, per_drive_day
    finally:
        lean.db.dispose()
        full.db.dispose()
