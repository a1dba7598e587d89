"""Gathering the facts the pure policy needs, for many recordings at once.

Exemptions and assignments are small tables: they are read whole into an index once per step (evaluate,
delete), then looked up per recording through every target that may cover it. Just before a deletion, what
may cover that one recording is read again (:meth:`FactIndex.refreshed`): a few indexed queries, not the
whole index.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from ..domain import (
    Action,
    AssignmentTag,
    Decision,
    DriveKind,
    Exemption,
    Facts,
    RetentionLabel,
    TargetKind,
    WarningSent,
)
from ..store import drives as drive_store
from ..store import governance, moves, runs
from ..store.database import Database
from ..store.recordings import StoredRecording
from .outcome import Evaluated


@dataclass
class FactIndex:
    """Per-cycle lookup tables built from the store."""

    tags: dict[str, list[AssignmentTag]] = field(default_factory=dict)  # recording key -> tags
    exemptions: dict[tuple[str, str], list[Exemption]] = field(default_factory=dict)  # (kind, id) -> list
    drive_team: dict[str, str | None] = field(default_factory=dict)
    enforced_since: dt.datetime | None = None  # enforcement switched back on after a dry run
    origins: dict[str, moves.Origin] = field(default_factory=dict)  # where moved recordings came from

    @classmethod
    def load(cls, db: Database) -> FactIndex:
        """The whole index, once per step that needs it (evaluate, delete): not once per recording."""
        return cls(*_by_target(governance.load(db)), drive_store.teams_of(db), runs.enforced_since(db),
                   moves.origins(db))

    def refreshed(self, db: Database, rec: StoredRecording) -> FactIndex:
        """This index with everything that may cover ``rec`` read again from the store: its tags (and those of
        the recordings it was moved from) and the exemptions of every target that may cover it. An exemption
        approved or a tag added since the index was loaded (by an admin in another process) is seen before the
        recording is deleted. Drives, moves and runs change only in a cycle's own inventory and start, which
        the cycle lock keeps to this cycle: they are not read again."""
        lineage = self._lineage(rec)
        fresh = governance.load_for(db, [key for key, _, _ in lineage], self._targets(lineage, ()))
        tags, exemptions = _by_target(fresh)
        return dataclasses.replace(self, tags=tags, exemptions=exemptions)

    def _lineage(self, rec: StoredRecording) -> list[tuple[str, str, str | None]]:
        """(key, drive, organizer) of the recording and of every recording it was moved from, oldest last."""
        chain = [(rec.ref.key, rec.drive_id, rec.organizer_id)]
        seen = {rec.ref.key}
        origin = self.origins.get(rec.moved_from or "")
        while origin is not None and origin.key not in seen:
            seen.add(origin.key)
            chain.append((origin.key, origin.drive_id, origin.organizer_id))
            origin = self.origins.get(origin.moved_from or "")
        return chain

    def _targets(self, lineage: list[tuple[str, str, str | None]],
                 tags: tuple[AssignmentTag, ...]) -> list[tuple[str, str]]:
        """Every (target kind, target id) an exemption may name to cover this lineage: each recording, its
        organizer, its site and team, and the assignments it is tagged to (a tag removed no longer brings what
        covers its assignment: the recording was said not to belong to it; the removal's own ending gives it a
        fresh notice)."""
        targets = []
        for key, drive_id, organizer_id in lineage:
            targets.append((TargetKind.RECORDING.value, key))
            if organizer_id:
                targets.append((TargetKind.ORGANIZER.value, organizer_id))
            targets.append((TargetKind.SITE.value, drive_id))
            team = self.drive_team.get(drive_id)
            if team:
                targets.append((TargetKind.SITE.value, team))
        return targets + [(TargetKind.ASSIGNMENT.value, t.assignment_id) for t in tags if t.untagged_on is None]

    def facts_for(self, rec: StoredRecording, warnings: list[WarningSent], *, label: RetentionLabel | None = None,
                  drive_complete: bool = True) -> Facts:
        # A recording moved to another drive (or back) has a new id: whatever covered it before each move, as a
        # recording, through its organizer or through its site, covers it still.
        lineage = self._lineage(rec) if rec.moved_from else [(rec.ref.key, rec.drive_id, rec.organizer_id)]
        tags = tuple(t for key, _, _ in lineage for t in self.tags.get(key, ()))
        found: dict[str, Exemption] = {}
        for target in self._targets(lineage, tags):
            for e in self.exemptions.get(target, ()):
                found[e.id] = e
        # what covers an assignment reaches a recording whose tag was removed up to the removal (the latest)
        for t in sorted((t for t in tags if t.untagged_on is not None), key=lambda t: t.untagged_on or dt.date.min,
                        reverse=True):
            for e in self.exemptions.get((TargetKind.ASSIGNMENT.value, t.assignment_id), ()):
                found.setdefault(e.id, dataclasses.replace(e, cut_on=t.untagged_on, cut_at=t.untagged_at))
        return Facts(
            label=label or RetentionLabel(),
            assignments=tags,
            exemptions=tuple(sorted(found.values(), key=lambda e: e.id)),
            warnings=tuple(sorted(warnings, key=lambda w: w.sent_on)),
            restored_on=rec.restored_on,
            restored_at=rec.restored_at,
            enforced_since=self.enforced_since,
            unknown=frozenset() if drive_complete else frozenset({"inventory"}),
        )


def _by_target(known: governance.Governance) -> tuple[dict[str, list[AssignmentTag]],
                                                       dict[tuple[str, str], list[Exemption]]]:
    """Tags by recording key, exemptions by (target kind, target id)."""
    tags: dict[str, list[AssignmentTag]] = defaultdict(list)
    for ref, tag in known.tags:
        tags[ref.key].append(tag)
    exemptions: dict[tuple[str, str], list[Exemption]] = defaultdict(list)
    for e in known.exemptions:
        exemptions[(e.target_kind.value, e.target_id)].append(e)
    return dict(tags), dict(exemptions)


def evaluated_from(rec: StoredRecording, decision: Decision, drive_names: dict[str, str],
                   delete_on: dt.date | None = None) -> Evaluated:
    """The decision as ``plan`` and the digests show it: with where the recording is."""
    onedrive = rec.drive_kind is DriveKind.ONEDRIVE
    location = "OneDrive" if onedrive else drive_names.get(rec.drive_id, "Team site")
    return Evaluated(rec.id, rec.recording(), decision, rec.organizer_id, rec.drive_id, location, delete_on)


def stored_decision(rec: StoredRecording) -> Decision:
    """The decision this cycle stored on the recording (the warn and delete steps read it back)."""
    return Decision(action=rec.action or Action.KEEP, rule=rec.rule or "", reason=rec.reason or "",
                    due=rec.due, recorded_on=rec.recorded_on, episode_start=rec.episode_start)
