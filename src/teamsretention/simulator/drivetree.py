"""Drives and the trees of driveItems they hold: folders, files, the change log delta replays, renames,
moves, deletes to the recycle bin and restores. A part of :class:`~.model.TenantModel`, kept apart for size.

A rename or a move is recorded for the item alone, never for its descendants: the delta doc's Remarks say
"renaming a folder doesn't result in any descendants of the folder being returned from delta" (which is
why delta carries no ``parentReference.path``). A move changes two folders' childCount, so both parents
are reported again, as for any add or delete.
"""

from __future__ import annotations

import datetime as dt
import random

from .entities import Label, RecycledItem, SimDrive, SimItem

RECYCLE_BIN_DAYS = 93  # SharePoint/OneDrive keep deleted items 93 days over both recycle-bin stages


class DriveTree:
    """Drive and item operations; the state they work on is the model's."""

    epoch: dt.datetime
    now: dt.datetime
    rng: random.Random
    drives: dict[str, SimDrive]
    item_drive: dict[str, str]
    recycle_bin: dict[tuple[str, str], RecycledItem]

    def new_item_id(self) -> str:
        raise NotImplementedError

    def new_drive_id(self) -> str:
        raise NotImplementedError

    def resolve(self, ref: str) -> str:
        raise NotImplementedError

    def add_drive(
        self,
        drive_type: str,
        name: str,
        web_url: str,
        *,
        owner_user_id: str | None = None,
        owner_group_id: str | None = None,
    ) -> SimDrive:
        drive_id = self.new_drive_id()
        root_id = self.new_item_id()
        drive = SimDrive(drive_id, drive_type, name, web_url, root_id, owner_user_id, owner_group_id)
        self.drives[drive_id] = drive
        root = SimItem(
            root_id,
            drive_id,
            "root",
            None,
            self.epoch - dt.timedelta(days=400),
            self.epoch - dt.timedelta(days=400),
            is_folder=True,
            created_by=owner_user_id,
        )
        self._insert(drive, root)
        return drive

    def _insert(self, drive: SimDrive, item: SimItem) -> None:
        drive.items[item.id] = item
        drive.order.append(item.id)
        self.item_drive[item.id] = drive.id
        item.seq = drive.log.record(item.id)
        if item.parent_id is not None:
            self._change_child_count(drive, item.parent_id, +1)

    def _change_child_count(self, drive: SimDrive, parent_id: str, delta: int) -> None:
        parent = drive.items[parent_id]
        parent.child_count += delta
        # A folder's childCount changed: Graph reports the parent again in delta.
        parent.seq = drive.log.record(parent.id)

    def ensure_folder(self, drive_id: str, path: list[str], *, created: dt.datetime | None = None) -> SimItem:
        """The folder at ``path`` under the root, creating what is missing (by default dated well before the
        epoch; an event passes its own time)."""
        when = created or self.epoch - dt.timedelta(days=200)
        drive = self.drives[drive_id]
        parent = drive.items[drive.root_id]
        for part in path:
            found_id = drive.folders.get((parent.id, part))
            found = drive.items[found_id] if found_id else None
            if found is None or found.deleted:
                found = SimItem(
                    self.new_item_id(),
                    drive_id,
                    part,
                    parent.id,
                    when,
                    when,
                    is_folder=True,
                    created_by=drive.owner_user_id,
                )
                self._insert(drive, found)
                drive.folders[(parent.id, part)] = found.id
            parent = found
        return parent

    def add_file(
        self,
        drive_id: str,
        folder: list[str],
        name: str,
        created: dt.datetime,
        *,
        mime_type: str = "application/octet-stream",
        size: int = 1024,
        created_by: str | None = None,
        teams_recording: bool = False,
        label: Label | None = None,
        item_id: str | None = None,
    ) -> SimItem:
        parent = self.ensure_folder(drive_id, folder)
        item = SimItem(
            item_id or self.new_item_id(),
            drive_id,
            name,
            parent.id,
            created,
            created,
            mime_type=mime_type,
            size=size,
            created_by=created_by,
            teams_recording=teams_recording,
            label=label,
        )
        self._insert(self.drives[drive_id], item)
        return item

    def get_item(self, drive_id: str, item_id: str) -> SimItem | None:
        drive = self.drives.get(drive_id)
        return drive.items.get(item_id) if drive else None

    def find_item(self, ref: str) -> SimItem:
        item_id = self.resolve(ref)
        drive_id = self.item_drive.get(item_id)
        if drive_id is None:
            raise KeyError(f"no item {ref!r}")
        return self.drives[drive_id].items[item_id]

    def touch_item(self, item: SimItem, *, new_version: bool = True) -> None:
        if new_version:
            item.version += 1
        item.modified = self.now
        item.seq = self.drives[item.drive_id].log.record(item.id)

    def rename_item(self, item: SimItem, name: str) -> None:
        """A new name (and eTag); a renamed folder no longer answers to its old name, so a later recording
        for ``["Recordings"]`` gets a fresh ``Recordings`` folder, as Teams creates one."""
        drive = self.drives[item.drive_id]
        if item.is_folder and item.parent_id is not None:
            if drive.folders.get((item.parent_id, item.name)) == item.id:
                del drive.folders[(item.parent_id, item.name)]
            drive.folders[(item.parent_id, name)] = item.id
        item.name = name
        self.touch_item(item)

    def move_item(self, item: SimItem, path: list[str]) -> SimItem:
        """Move ``item`` into the folder at ``path`` (relative to its drive's root; created if missing)."""
        drive = self.drives[item.drive_id]
        if item.id == drive.root_id:
            raise ValueError("the root folder cannot be moved")
        target = self.ensure_folder(drive.id, path, created=self.now)
        if target.id == item.id or target.id in {d.id for d in self._descendants(drive, item)}:
            raise ValueError(f"cannot move {item.name!r} into itself")
        if target.id == item.parent_id:
            return target
        clash = drive.folders.get((target.id, item.name))
        if clash is not None and not drive.items[clash].deleted:
            raise ValueError(f"nameAlreadyExists: {item.name!r} in {'/'.join(path)!r}")
        old_parent = item.parent_id
        assert old_parent is not None
        if item.is_folder:
            if drive.folders.get((old_parent, item.name)) == item.id:
                del drive.folders[(old_parent, item.name)]
            drive.folders[(target.id, item.name)] = item.id
        item.parent_id = target.id
        self._change_child_count(drive, old_parent, -1)
        self._change_child_count(drive, target.id, +1)
        self.touch_item(item)
        return target

    def delete_item(self, item: SimItem, *, by: str = "app", permanent: bool = False) -> None:
        """Delete an item and everything under it; to the recycle bin unless permanent."""
        drive = self.drives[item.drive_id]
        for victim in [item, *self._descendants(drive, item)]:
            if victim.deleted:
                continue
            victim.deleted = True
            victim.purged = permanent
            victim.seq = drive.log.record(victim.id)
        if not permanent:
            self.recycle_bin[(drive.id, item.id)] = RecycledItem(drive.id, item.id, item.name, self.now, by)
        if item.parent_id is not None:
            self._change_child_count(drive, item.parent_id, -1)

    def restore_item(self, drive_id: str, item_id: str) -> SimItem:
        """Restore from the recycle bin with the same id: delta reports it again as a change."""
        entry = self.recycle_bin.pop((drive_id, item_id))
        drive = self.drives[entry.drive_id]
        item = drive.items[item_id]
        for victim in [item, *self._descendants(drive, item)]:
            victim.deleted = False
            victim.seq = drive.log.record(victim.id)
        if item.parent_id is not None:
            self._change_child_count(drive, item.parent_id, +1)
        return item

    def _descendants(self, drive: SimDrive, item: SimItem) -> list[SimItem]:
        """Everything under ``item``, depth first. Built from a child index rather than from creation
        order, because a move can put an older item under a newer folder."""
        if not item.is_folder:
            return []
        children: dict[str, list[str]] = {}
        for other_id in drive.order:
            parent_id = drive.items[other_id].parent_id
            if parent_id is not None:
                children.setdefault(parent_id, []).append(other_id)
        out: list[SimItem] = []
        stack = list(reversed(children.get(item.id, [])))
        while stack:
            other = drive.items[stack.pop()]
            out.append(other)
            stack.extend(reversed(children.get(other.id, [])))
        return out

    def set_label(self, item: SimItem, label: Label | None) -> None:
        item.label = label
        if label is not None and label.applied_at is None:
            label.applied_at = self.now
        self.touch_item(item)  # a label is list-item metadata: SharePoint gives the item a new eTag

    def item_path(self, item: SimItem) -> str:
        """``/drive/root:/A/B`` of the folder holding ``item`` (Graph's parentReference.path)."""
        drive = self.drives[item.drive_id]
        parts: list[str] = []
        parent_id = item.parent_id
        while parent_id is not None and parent_id != drive.root_id:
            parent = drive.items[parent_id]
            parts.append(parent.name)
            parent_id = parent.parent_id
        return "/drive/root:" + "".join("/" + p for p in reversed(parts))
