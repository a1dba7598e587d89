"""Gathering the facts the pure policy needs, for many recordings at once.

Exemptions and assignments are small tables: they are read whole into an index once per cycle (and again
just before each deletion), then looked up per recording through every target that may cover it.
"""

from __future__ import annotations

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
from ..store import governance, runs
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

    @classmethod
    def load(cls, db: Database) -> FactIndex:
        known = governance.load(db)
        tags: dict[str, list[AssignmentTag]] = defaultdict(list)
        for ref, tag in known.tags:
            tags[ref.key].append(tag)
        exemptions: dict[tuple[str, str], list[Exemption]] = defaultdict(list)
        for e in known.exemptions:
            exemptions[(e.target_kind.value, e.target_id)].append(e)
        return cls(dict(tags), dict(exemptions), drive_store.teams_of(db), runs.enforced_since(db))

    def facts_for(self, rec: StoredRecording, warnings: list[WarningSent], *, label: RetentionLabel | None = None,
                  drive_complete: bool = True) -> Facts:
        key = rec.ref.key
        # A recording moved to another drive has a new id: what covered it before the move covers it still.
        keys = [key, rec.moved_from] if rec.moved_from else [key]
        tags = tuple(t for k in keys for t in self.tags.get(k, ()))
        targets = [(TargetKind.RECORDING.value, k) for k in keys]
        if rec.organizer_id:
            targets.append((TargetKind.ORGANIZER.value, rec.organizer_id))
        targets += [(TargetKind.ASSIGNMENT.value, t.assignment_id) for t in tags]
        targets.append((TargetKind.SITE.value, rec.drive_id))
        team = self.drive_team.get(rec.drive_id)
        if team:
            targets.append((TargetKind.SITE.value, team))
        found: dict[str, Exemption] = {}
        for target in targets:
            for e in self.exemptions.get(target, ()):
                found[e.id] = e
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
