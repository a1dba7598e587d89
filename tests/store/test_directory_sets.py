"""A page of the directory feed is written in sets: its statements do not grow with the people or drives on
it, and what it writes is what one write per person wrote (known people updated, new ones added, removed
ones marked, a person's OneDrive and a team's drives kept as they were)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event

from teamsretention.domain import DriveKind, Person
from teamsretention.ports import DriveRef, Team
from teamsretention.store import Database, directory, drives

AT = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)


def people(n: int, *, suffix: str = "") -> list[Person]:
    return [Person(id=f"p{i}", upn=f"p{i}@contoso.example", display_name=f"Person {i}{suffix}",
                   preferred_language="sv-SE" if i % 2 else None) for i in range(n)]


def statements(db: Database, work: Any) -> int:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_a_users_page_costs_the_same_statements_for_20_people_as_for_400(tmp_path):
    counts = {}
    for n in (20, 400):
        db = Database(f"sqlite:///{tmp_path}/state-{n}.db")
        first = statements(db, lambda n=n, db=db: directory.apply_people(db, people(n), []))
        again = statements(db, lambda n=n, db=db: directory.apply_people(db, people(n, suffix=" (new name)"),
                                                                         ["p1", "nobody"]))
        counts[n] = (first, again)
        stored = {p.id: p for p in directory.people(db)}
        assert len(stored) == n - 1 and "p1" not in stored  # removed: no longer among the people
        assert stored["p3"].display_name == "Person 3 (new name)"
        assert stored["p3"].preferred_language == "sv-SE" and stored["p2"].preferred_language is None
        assert not stored["p2"].no_onedrive
        db.dispose()
    assert counts[20] == counts[400]
    assert counts[400][1] < 10


def test_a_person_listed_again_keeps_the_onedrive_found_for_them(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, people(3), [])
    directory.record_onedrive(db, "p0", DriveRef("d0", DriveKind.ONEDRIVE, owner_id="p0", name="old"), AT)
    directory.record_onedrive(db, "p1", None, AT)
    directory.apply_people(db, people(3, suffix="!"), [])
    stored = {p.id: p for p in directory.people(db)}
    assert (stored["p0"].drive_id, stored["p0"].drive_checked_at, stored["p0"].display_name) == ("d0", AT,
                                                                                               "Person 0!")
    assert stored["p1"].no_onedrive and stored["p1"].drive_checked_at == AT
    # the drive, once read, is renamed when it is listed again and keeps what its reads stored
    drives.set_in_scope(db, {"d0"})
    drives.mark_complete(db, "d0", delta_link="link-7", generation=7, at=AT, on=AT.date())
    directory.record_onedrive(db, "p0", DriveRef("d0", DriveKind.ONEDRIVE, owner_id="p0", name="new"), AT)
    drive = drives.get(db, "d0")
    assert drive is not None
    assert (drive.name, drive.kind, drive.delta_link, drive.sync_generation, drive.complete) == (
        "new", DriveKind.ONEDRIVE, "link-7", 7, True)
    db.dispose()


def test_a_page_that_lists_someone_twice_or_again_after_removal_keeps_the_last_word(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_people(db, people(2), ["p1"])  # listed and removed on one page: removed
    assert [p.id for p in directory.people(db)] == ["p0"]
    twice = [Person(id="p1", upn="p1@contoso.example", display_name="First"),
             Person(id="p1", upn="p1@contoso.example", display_name="Second")]
    directory.apply_people(db, twice, [])  # back, and listed twice: the last state wins
    assert {p.id: p.display_name for p in directory.people(db)} == {"p0": "Person 0", "p1": "Second"}
    db.dispose()


def test_teams_and_their_drives_are_written_in_sets(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/state.db")
    directory.apply_teams(db, [Team(id="t1", display_name="Sales"), Team(id="t2", display_name="Legal")], [])
    site = [DriveRef(f"s{i}", DriveKind.CHANNEL, team_id="t1", name=f"General {i}") for i in range(5)]
    directory.record_team_drives(db, "t1", site, AT)
    directory.apply_teams(db, [Team(id="t1", display_name="Sales EMEA")], ["t2"])
    teams = {t.id: t for t in directory.teams(db)}
    assert set(teams) == {"t1"}
    assert (teams["t1"].display_name, teams["t1"].drive_ids) == ("Sales EMEA", tuple(d.id for d in site))
    assert {d.id: d.kind for d in drives.set_in_scope(db, {d.id for d in site})} == {
        d.id: DriveKind.CHANNEL for d in site}
    db.dispose()
