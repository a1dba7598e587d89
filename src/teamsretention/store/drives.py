"""Drives in scope and their folder maps.

Delta never returns folder paths, so the folders of each drive are kept by id (name, parent, root):
enough to tell a file in ``/Recordings`` (OneDrive) or ``/<channel>/Recordings`` (team site) from one
elsewhere. A drive's deltaLink is stored only when its whole feed was read (``mark_complete``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, Table, bindparam, delete, select, tuple_, update
from sqlalchemy.orm import Session

from ..domain import DriveKind, RecordingState
from ..ports import DriveRef, ItemChange
from . import audit, sets
from .audit import AuditEvent
from .database import Database, chunked
from .tables import DriveRow, FolderRow, RecordingRow

_DRIVES: Table = DriveRow.__table__  # type: ignore[assignment]  # a declarative class's Table
_FOLDERS: Table = FolderRow.__table__  # type: ignore[assignment]


def _chain_query() -> Select[Any]:
    """Folders by id with their parent and grandparent (outer joins), built once: every delta page asks it."""
    parent, grand, great = _FOLDERS.alias("parent"), _FOLDERS.alias("grand"), _FOLDERS.alias("great")
    cols = ("item_id", "name", "parent_id", "is_root", "special")
    return (select(*(t.c[c] for t in (parent, grand, great) for c in cols))
            .outerjoin_from(parent, grand, (grand.c.drive_id == parent.c.drive_id)
                            & (grand.c.item_id == parent.c.parent_id))
            .outerjoin(great, (great.c.drive_id == grand.c.drive_id) & (great.c.item_id == grand.c.parent_id))
            .where(parent.c.drive_id == bindparam("drive_id"), parent.c.item_id.in_(bindparam("ids", expanding=True))))


_CHAINS = _chain_query()


@dataclass(frozen=True, slots=True)
class StoredDrive:
    id: str
    kind: DriveKind
    owner_id: str | None
    team_id: str | None
    name: str
    delta_link: str | None
    sync_generation: int
    complete: bool
    last_sync_at: dt.datetime | None
    polled_on: dt.date | None = None  # the cycle date its feed was last read to the end (None: never, or back)


@dataclass(frozen=True, slots=True)
class StoredFolder:
    id: str
    name: str
    parent_id: str | None
    is_root: bool
    special: str | None = None  # the specialFolder facet's name ("recordings")


def _drive(row: DriveRow | Row[Any]) -> StoredDrive:
    return StoredDrive(row.id, DriveKind(row.kind), row.owner_id, row.team_id, row.name, row.delta_link,
                       row.sync_generation, row.complete, row.last_sync_at, row.polled_on)


def upsert_drives(s: Session, drives: Iterable[DriveRef]) -> None:
    """Inside another store function's transaction (people's and teams' drives): one read, one INSERT for the
    new drives, one UPDATE for the known ones."""
    sets.upsert(s, _DRIVES, ({"id": d.id, "kind": d.kind.value, "owner_id": d.owner_id, "team_id": d.team_id,
                              "name": d.name} for d in drives),
                defaults={"in_scope": True, "complete": False, "sync_generation": 0})


def set_in_scope(db: Database, drive_ids: set[str]) -> list[StoredDrive]:
    """Exactly these drives are in scope from now on; returns them, by id. A drive that comes back into scope
    is read at its next cycle, whether idle or not (``polled_on`` cleared)."""
    with db.session() as s:
        for chunk in chunked(sorted(drive_ids)):
            s.execute(update(DriveRow).where(DriveRow.id.in_(chunk), DriveRow.in_scope.is_(False))
                      .values(polled_on=None))
        s.execute(update(DriveRow).values(in_scope=False))
        for chunk in chunked(sorted(drive_ids)):
            s.execute(update(DriveRow).where(DriveRow.id.in_(chunk)).values(in_scope=True))
    return in_scope(db)


def in_scope(db: Database) -> list[StoredDrive]:
    with db.session() as s:
        # plain rows, not ORM objects: every drive of the tenant at once, ~2 KiB each at the peak as objects
        return [_drive(r) for r in s.execute(select(_DRIVES).where(_DRIVES.c.in_scope.is_(True))
                                             .order_by(_DRIVES.c.id))]


def retire(db: Database, drive_id: str, events: Iterable[AuditEvent]) -> None:
    """A drive Graph no longer has (a replaced OneDrive): out of scope, its recordings no longer tracked (and
    any unsettled delete of ours with them: nothing can settle it now), its deltaLink dropped so that should it
    ever answer again it is read in full. One transaction, with the events that say so."""
    governed = (RecordingState.TRACKED.value, RecordingState.UNSURE.value)
    with db.session() as s:
        s.execute(update(DriveRow).where(DriveRow.id == drive_id).values(in_scope=False, delta_link=None,
                                                                         complete=False))
        s.execute(update(RecordingRow).where(RecordingRow.drive_id == drive_id, RecordingRow.state.in_(governed))
                  .values(state=RecordingState.GONE.value, delete_attempted_at=None))
        audit.write(s, events)


def get(db: Database, drive_id: str) -> StoredDrive | None:
    with db.session() as s:
        row = s.get(DriveRow, drive_id)
        return _drive(row) if row else None


def names(db: Database) -> dict[str, str]:
    """Drive id -> its name (a OneDrive's owner UPN, a team or channel name)."""
    with db.session() as s:
        return dict(s.execute(select(DriveRow.id, DriveRow.name)).all())


def teams_of(db: Database) -> dict[str, str | None]:
    """Drive id -> the team it belongs to (None for a OneDrive)."""
    with db.session() as s:
        return dict(s.execute(select(DriveRow.id, DriveRow.team_id)).all())


def mark_incomplete(db: Database, drive_id: str, error: str, *, generation: int | None = None) -> None:
    """The drive's feed broke off; ``generation``: that of the full enumeration that broke off (the next one
    counts from it). The deltaLink stays as it was: the next cycle replays it."""
    with db.session() as s:
        row = s.get(DriveRow, drive_id)
        assert row is not None, f"no drive {drive_id} in the store"
        row.complete, row.last_error = False, error
        if generation is not None:
            row.sync_generation = max(row.sync_generation, generation)


_DRIVE_BY_ID = update(_DRIVES).where(_DRIVES.c.id == bindparam("b_id"))  # SET: the columns its parameters give


def mark_complete(db: Database, drive_id: str, *, delta_link: str | None, generation: int, at: dt.datetime,
                  on: dt.date | None = None) -> None:
    """The drive's feed was read to its deltaLink at ``at``, by the cycle of date ``on`` (``delta_link`` None
    and no ``on``: it is to be listed in full, by the next cycle)."""
    with db.session() as s:  # one UPDATE, no object loaded, built once: it is written once per drive per cycle
        done = s.execute(_DRIVE_BY_ID, {"b_id": drive_id, "delta_link": delta_link, "complete": True,
                                        "last_error": None, "sync_generation": generation, "last_sync_at": at,
                                        "polled_on": on})
        assert done.rowcount == 1, f"no drive {drive_id} in the store"  # type: ignore[attr-defined]


def relist(db: Database, drive_ids: Iterable[str]) -> None:
    """The drives are listed in full by the next cycle (a folder came to count as a Recordings folder: delta
    does not report what it holds)."""
    with db.session() as s:
        for chunk in chunked(sorted(set(drive_ids))):
            s.execute(update(DriveRow).where(DriveRow.id.in_(chunk)).values(delta_link=None, polled_on=None))


def folder_names(db: Database, drive_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(drive id, folder name) of every known folder of these drives."""
    with db.session() as s:
        found: list[tuple[str, str]] = []
        for chunk in chunked(sorted(set(drive_ids))):
            found += [(d, n) for d, n in s.execute(select(FolderRow.drive_id, FolderRow.name).where(
                FolderRow.drive_id.in_(chunk)).distinct())]
    return found


# --- folders ------------------------------------------------------------------------------------------
# A batch of delta pages' folder writes, on the table (Core): the ORM's bulk paths add per-row bookkeeping.
_RENAME_FOLDER = update(_FOLDERS).where(_FOLDERS.c.drive_id == bindparam("b_drive"),
                                        _FOLDERS.c.item_id == bindparam("b_item"))
_DROP_FOLDERS = delete(_FOLDERS).where(_FOLDERS.c.drive_id == bindparam("b_drive"),
                                       _FOLDERS.c.item_id.in_(bindparam("ids", expanding=True)))
_ADD_FOLDERS = _FOLDERS.insert()
_KNOWN_FOLDERS = select(FolderRow.item_id, FolderRow.name, FolderRow.parent_id, FolderRow.special).where(
    FolderRow.drive_id == bindparam("drive_id"), FolderRow.item_id.in_(bindparam("ids", expanding=True)))


def apply_folders(db: Database, drive_id: str, folders: Iterable[ItemChange]) -> set[str]:
    """Folder changes from a batch of delta pages (deletes, renames, moves, the root), in one transaction: one
    read of the batch's known folders, then one statement per kind of write. Returns the known folders whose
    name, place or special mark changed: what they hold must be classified again."""
    latest = {item.id: item for item in folders}  # listed twice in a batch: the last one wins
    if not latest:
        return set()
    changed: set[str] = set()
    with db.session() as s:
        known: dict[str, tuple[str, str | None, str | None]] = {}  # id -> (name, parent, special): plain rows
        for chunk in chunked(sorted(latest)):
            known |= {item_id: (name, parent_id, special) for item_id, name, parent_id, special in s.execute(
                _KNOWN_FOLDERS, {"drive_id": drive_id, "ids": chunk})}
        gone = [i for i, item in latest.items() if item.deleted and i in known]
        inserts, updates = [], []
        for item in latest.values():
            row = known.get(item.id)
            if item.deleted:
                continue
            if row is None:
                inserts.append({"drive_id": drive_id, "item_id": item.id, "name": item.name or "",
                                "parent_id": item.parent_id, "is_root": item.is_root, "special": item.special_folder})
                continue
            after = (item.name or row[0], item.parent_id, item.special_folder)
            if after != row:
                changed.add(item.id)
                updates.append({"b_drive": drive_id, "b_item": item.id, "name": after[0], "parent_id": after[1],
                                "special": after[2]})
        for chunk in chunked(sorted(gone)):
            s.execute(_DROP_FOLDERS, {"b_drive": drive_id, "ids": chunk})
        if updates:
            s.execute(_RENAME_FOLDER, updates)
        if inserts:
            s.execute(_ADD_FOLDERS, inserts)
        roots = [item.id for item in latest.values() if item.is_root and not item.deleted]
        if roots:
            s.execute(_DRIVE_BY_ID, {"b_id": drive_id, "root_id": roots[-1]})
    return changed


def child_folders(db: Database, drive_id: str, parent_ids: Iterable[str]) -> set[str]:
    with db.session() as s:
        found: set[str] = set()
        for chunk in chunked(sorted(set(parent_ids))):
            found |= set(s.scalars(select(FolderRow.item_id).where(FolderRow.drive_id == drive_id,
                                                                   FolderRow.parent_id.in_(chunk))))
    return found


def folders_by_ref(db: Database, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StoredFolder]:
    """The known folders among these (drive id, folder id) pairs, across drives: one query per chunk (the parents
    of a batch of re-read recordings)."""
    found: dict[tuple[str, str], StoredFolder] = {}
    cols = (FolderRow.drive_id, FolderRow.item_id, FolderRow.name, FolderRow.parent_id, FolderRow.is_root,
            FolderRow.special)
    with db.session() as s:
        for chunk in chunked(sorted(set(refs))):
            for drive_id, item_id, name, parent_id, is_root, special in s.execute(
                    select(*cols).where(tuple_(FolderRow.drive_id, FolderRow.item_id).in_(chunk))):
                found[(drive_id, item_id)] = StoredFolder(item_id, name, parent_id, is_root, special)
    return found


def folder_chains(db: Database, drive_id: str,
                  ids: Iterable[str]) -> dict[str, tuple[StoredFolder, StoredFolder | None, StoredFolder | None]]:
    """The known folders among ``ids``, each with its parent and its parent's parent when those are known:
    where a file sits, up to the drive's root as Teams lays recordings out, in one query per chunk."""
    found: dict[str, tuple[StoredFolder, StoredFolder | None, StoredFolder | None]] = {}
    with db.session() as s:
        for chunk in chunked(sorted(set(ids))):
            for r in s.execute(_CHAINS, {"drive_id": drive_id, "ids": chunk}):
                found[r[0]] = (StoredFolder(*r[0:5]), StoredFolder(*r[5:10]) if r[5] is not None else None,
                               StoredFolder(*r[10:15]) if r[10] is not None else None)
    return found


