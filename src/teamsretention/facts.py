"""Gathering the facts the pure policy needs, from the store, for many recordings at once.

Exemptions and assignments are small tables: they are loaded whole into an index once per cycle, then
looked up per recording. Exemption lookups fail closed: when the store cannot be read the recording's
facts say ``unknown = {"store"}`` and the policy keeps it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .domain import (
    Action,
    AssignmentTag,
    Decision,
    Exemption,
    ExemptionKind,
    ExemptionStatus,
    Facts,
    Recording,
    RecordingRef,
    RetentionLabel,
    TargetKind,
    WarningSent,
)
from .store.tables import AssignmentRow, AssignmentTagRow, DriveRow, ExemptionRow, RecordingRow, WarningRow


@dataclass
class FactIndex:
    """Per-cycle lookup tables built from the store."""

    tags: dict[str, list[AssignmentTag]] = field(default_factory=dict)  # recording key -> tags
    exemptions: dict[tuple[str, str], list[Exemption]] = field(default_factory=dict)  # (kind, id) -> list
    drive_team: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def load(cls, s: Session) -> FactIndex:
        index = cls()
        assignments = {a.id: a for a in s.scalars(select(AssignmentRow))}
        tags: dict[str, list[AssignmentTag]] = defaultdict(list)
        for t in s.scalars(select(AssignmentTagRow)):
            a = assignments.get(t.assignment_id)
            if a is None:
                continue
            tags[f"{t.drive_id}/{t.item_id}"].append(AssignmentTag(
                assignment_id=a.id, assignment_name=a.name, active=a.status == "active",
                tagged_on=t.tagged_on, closed_on=a.closed_on, untagged_on=t.untagged_on))
        index.tags = dict(tags)
        exemptions: dict[tuple[str, str], list[Exemption]] = defaultdict(list)
        for e in s.scalars(select(ExemptionRow)):
            exemptions[(e.target_kind, e.target_id)].append(exemption_from_row(e))
        index.exemptions = dict(exemptions)
        index.drive_team = {d.id: d.team_id for d in s.scalars(select(DriveRow))}
        return index

    def facts_for(self, row: RecordingRow, warnings: list[WarningSent], *, label: RetentionLabel | None = None,
                  drive_complete: bool = True) -> Facts:
        key = f"{row.drive_id}/{row.item_id}"
        tags = tuple(self.tags.get(key, ()))
        targets = [(TargetKind.RECORDING.value, key)]
        if row.organizer_id:
            targets.append((TargetKind.ORGANIZER.value, row.organizer_id))
        targets += [(TargetKind.ASSIGNMENT.value, t.assignment_id) for t in tags]
        targets.append((TargetKind.SITE.value, row.drive_id))
        team = self.drive_team.get(row.drive_id)
        if team:
            targets.append((TargetKind.SITE.value, team))
        found: dict[str, Exemption] = {}
        for target in targets:
            for e in self.exemptions.get(target, ()):
                found[e.id] = e
        restored = tuple(sorted(dt.date.fromisoformat(d) for d in (row.restored_dates or [])))
        return Facts(
            label=label or RetentionLabel(),
            assignments=tags,
            exemptions=tuple(sorted(found.values(), key=lambda e: e.id)),
            warnings=tuple(sorted(warnings, key=lambda w: w.sent_on)),
            restored_on=restored,
            unknown=frozenset() if drive_complete else frozenset({"inventory"}),
        )


def exemption_from_row(e: ExemptionRow) -> Exemption:
    return Exemption(
        id=e.id, kind=ExemptionKind(e.kind), status=ExemptionStatus(e.status), requested_on=e.requested_on,
        target_kind=TargetKind(e.target_kind), target_id=e.target_id, decided_on=e.decided_on,
        valid_until=e.valid_until, review_on=e.review_on, revoked_on=e.revoked_on,
        requested_by=e.requested_by, decided_by=e.decided_by or "", reason=e.reason)


def sent_warnings(s: Session, recording_ids: list[int]) -> dict[int, list[WarningSent]]:
    """Warnings Graph accepted (202), per recording: only these start a notice clock."""
    result: dict[int, list[WarningSent]] = defaultdict(list)
    for chunk_start in range(0, len(recording_ids), 500):
        chunk = recording_ids[chunk_start:chunk_start + 500]
        q = select(WarningRow.recording_id, WarningRow.cycle_date, WarningRow.announced_due).where(
            WarningRow.recording_id.in_(chunk), WarningRow.status == "sent")
        for rid, sent_on, due in s.execute(q):
            result[rid].append(WarningSent(sent_on=sent_on, announced_due=due))
    return result


def to_recording(row: RecordingRow) -> Recording:
    return Recording(ref=RecordingRef(row.drive_id, row.item_id), name=row.name, created_at=row.created_at,
                     etag=row.etag, web_url=row.web_url, organizer_id=row.organizer_id, size=row.size)


@dataclass
class Evaluated:
    row_id: int
    recording: Recording
    decision: Decision
    organizer_id: str | None
    drive_id: str
    location: str
    delete_on: dt.date | None = None  # plan --at: the day it would be deleted


def evaluated_from(row: RecordingRow, decision: Decision, drive_names: dict[str, str],
                   delete_on: dt.date | None = None) -> Evaluated:
    location = "OneDrive" if row.drive_kind == "onedrive" else drive_names.get(row.drive_id, "Team site")
    return Evaluated(row.id, to_recording(row), decision, row.organizer_id, row.drive_id, location, delete_on)


def stored_decision(row: RecordingRow) -> Decision:
    """The decision this cycle stored on the row (the warn and delete steps read it back)."""
    return Decision(action=Action(row.action or "keep"), rule=row.rule or "", reason=row.reason or "",
                    due=row.due, recorded_on=row.recorded_on, episode_start=row.episode_start)
