"""Evidence retention: the store's own data follows the rule it enforces.

The evidence of a deletion (what was deleted, when, under which rule, after which warnings) is kept for
``evidence.keep_years`` (default 7): the controller must be able to demonstrate compliance (GDPR Art. 5(2),
accountability) for as long as claims can be brought. After that, :func:`prune` removes the personal data
of a recording deleted by us (or gone: deleted or moved away by someone else) from every table in one
transaction, and leaves the record that a deletion happened, on a date, under a rule, without personal data:

- ``recordings``: name, web URL, organizer, eTag, folder, the decision's sentence, Graph's refusal message
  and the drive and item ids go (the ids point to a person's OneDrive); state, dates, rule, due date,
  delete mode and size stay; ``evidence_pruned_on`` says when;
- ``audit``: the personal parts of the recording's entries are deleted; the entries (event, moment, rule,
  due date) and the digests that commit to the removed parts stay (``store.audit``);
- ``digests`` older than the cutoff whose warnings all concern pruned recordings: organizer, recipient,
  subject, text and error go; the warnings (when, which recording, the date announced) stay;
- exemptions and assignment tags of a pruned recording: who asked, who decided, why, and its ids go;
- ``people``: a user removed from the directory whom nothing kept in the store refers to any more;
- ``runs`` older than the cutoff: the problems and unsure videos their summaries named.

A recording is pruned only when its last audit entry is older than the cutoff too (so every redaction is
covered by the ``evidence_pruned`` entry that :func:`store.audit.verify_personal` looks for), when no
delete request of ours is unsettled, and when no recording still kept was moved from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..domain import RecordingState, TargetKind
from . import audit
from .audit import AuditEvent, AuditKind
from .database import Database, chunked
from .tables import AssignmentTagRow, DigestRow, DriveRow, ExemptionRow, PersonRow, RecordingRow, RunRow, WarningRow

PRUNED = "pruned"  # the drive id of a pruned recording (its item id becomes its own row id)


def cutoff_date(cycle_date: dt.date, keep_years: int) -> dt.date:
    """The same calendar day ``keep_years`` earlier (29 February: the 28th)."""
    try:
        return cycle_date.replace(year=cycle_date.year - keep_years)
    except ValueError:
        return cycle_date.replace(year=cycle_date.year - keep_years, day=28)


@dataclass(frozen=True, slots=True)
class Pruned:
    """What a pruning removed (or, for ``plan``, would remove)."""

    cutoff: dt.date
    recordings: int = 0
    audit_entries: int = 0
    digests: int = 0
    exemptions: int = 0
    tags: int = 0
    people: int = 0
    runs: int = 0

    def counts(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "cutoff"}


def due(db: Database, *, cutoff: dt.date, cutoff_moment: dt.datetime) -> Pruned:
    """What :func:`prune` would remove now, changing nothing (``plan``)."""
    with db.session() as s:
        rows = _recordings(s, cutoff, cutoff_moment)
        keys = [f"{r.drive_id}/{r.item_id}" for r in rows]
        return Pruned(cutoff, recordings=len(rows), audit_entries=audit.count_about(s, keys),
                      digests=len(_digests(s, cutoff, {r.id for r in rows})))


def prune(db: Database, *, cutoff: dt.date, cutoff_moment: dt.datetime, at: dt.datetime, cycle_date: dt.date,
          run_id: int | None) -> Pruned:
    """Remove the personal data of recordings deleted or gone before ``cutoff`` (a date in the policy time
    zone; ``cutoff_moment`` is its start), and audit it: one transaction, one ``evidence_pruned`` entry."""
    with db.session() as s:
        rows = _recordings(s, cutoff, cutoff_moment)
        if not rows:
            return Pruned(cutoff)
        keys = {f"{r.drive_id}/{r.item_id}": r.id for r in rows}
        organizers = {r.organizer_id for r in rows if r.organizer_id}
        for r in rows:
            _redact_recording(r, cycle_date)
        s.flush()
        entries = audit.redact(s, keys)
        digests = _digests(s, cutoff, set(keys.values()))
        for d in digests:
            organizers.add(d.organizer_id)
            d.organizer_id, d.recipient, d.subject, d.body, d.error = f"{PRUNED}:{d.id}", None, "", None, None
            d.evidence_pruned_on = cycle_date
        exemptions = _exemptions(s, keys)
        tags = _tags(s, keys)
        s.flush()
        people = _people(s, organizers)
        runs = _runs(s, cutoff)
        result = Pruned(cutoff, len(rows), entries, len(digests), exemptions, tags, people, runs)
        audit.write(s, [AuditEvent(
            AuditKind.EVIDENCE_PRUNED, at=at, cycle_date=cycle_date, run_id=run_id,
            reason=f"The evidence period ended for {len(rows)} recordings deleted or gone before {cutoff}: "
                   "their personal data was removed; the record of each deletion (date, rule) stays.",
            detail={"cutoff": cutoff_moment.isoformat(), "cutoff_date": cutoff.isoformat(), **result.counts()})])
        return result


def _recordings(s: Session, cutoff: dt.date, cutoff_moment: dt.datetime) -> list[RecordingRow]:
    old = s.scalars(select(RecordingRow).where(
        RecordingRow.evidence_pruned_on.is_(None), RecordingRow.delete_attempted_at.is_(None),
        or_(and_(RecordingRow.state == RecordingState.DELETED.value, RecordingRow.deleted_on < cutoff),
            and_(RecordingRow.state == RecordingState.GONE.value, RecordingRow.last_seen < cutoff_moment)))
        .order_by(RecordingRow.id)).all()
    # a recording moved to another drive was found again there: its history follows the copy still kept
    origins = set(s.scalars(select(RecordingRow.moved_from).where(
        RecordingRow.moved_from.is_not(None), RecordingRow.evidence_pruned_on.is_(None))))
    latest = audit.latest_about(s, [f"{r.drive_id}/{r.item_id}" for r in old])
    return [r for r in old if (key := f"{r.drive_id}/{r.item_id}") not in origins
            and (key not in latest or latest[key] < cutoff_moment)]


def _redact_recording(r: RecordingRow, day: dt.date) -> None:
    r.drive_id, r.item_id, r.name, r.web_url, r.organizer_id, r.etag = PRUNED, str(r.id), "", None, None, None
    r.parent_id = r.moved_from = r.reason = r.recognition_note = r.blocked_message = r.label_name = None
    r.evidence_pruned_on = day


def _digests(s: Session, cutoff: dt.date, pruned_ids: set[int]) -> list[DigestRow]:
    """Digests before the cutoff that announced only recordings whose evidence is gone (or none)."""
    old = s.scalars(select(DigestRow).where(DigestRow.evidence_pruned_on.is_(None), DigestRow.cycle_date < cutoff)
                    .order_by(DigestRow.id)).all()
    if not old:
        return []
    announced: dict[int, set[int]] = {}
    for chunk in chunked([d.id for d in old]):
        for digest_id, recording_id in s.execute(select(WarningRow.digest_id, WarningRow.recording_id)
                                                 .where(WarningRow.digest_id.in_(chunk))):
            announced.setdefault(digest_id, set()).add(recording_id)
    already = set(s.scalars(select(RecordingRow.id).where(RecordingRow.evidence_pruned_on.is_not(None))))
    return [d for d in old if announced.get(d.id, set()) <= (already | pruned_ids)]


def _exemptions(s: Session, keys: dict[str, int]) -> int:
    count = 0
    for chunk in chunked(sorted(keys)):
        for e in s.scalars(select(ExemptionRow).where(ExemptionRow.target_kind == TargetKind.RECORDING.value,
                                                      ExemptionRow.target_id.in_(chunk))):
            e.target_id, e.requested_by, e.decided_by, e.reason = f"{PRUNED}/{keys[e.target_id]}", "", None, ""
            count += 1
    return count


def _tags(s: Session, keys: dict[str, int]) -> int:
    count = 0
    for key, rid in keys.items():
        drive_id, _, item_id = key.partition("/")
        for t in s.scalars(select(AssignmentTagRow).where(AssignmentTagRow.drive_id == drive_id,
                                                          AssignmentTagRow.item_id == item_id)):
            t.drive_id, t.item_id, t.tagged_by = PRUNED, str(rid), ""
            count += 1
    return count


def _people(s: Session, candidates: set[str]) -> int:
    """Users removed from the directory that nothing kept in the store names any more."""
    count = 0
    removed = [p for chunk in chunked(sorted(candidates))
               for p in s.scalars(select(PersonRow).where(PersonRow.id.in_(chunk), PersonRow.removed.is_(True))).all()]
    for person in removed:
        still = (s.scalar(select(RecordingRow.id).where(RecordingRow.organizer_id == person.id).limit(1))
                 or s.scalar(select(DigestRow.id).where(DigestRow.organizer_id == person.id).limit(1))
                 or s.scalar(select(DriveRow.id).where(DriveRow.owner_id == person.id).limit(1))
                 or s.scalar(select(ExemptionRow.id).where(ExemptionRow.target_kind == TargetKind.ORGANIZER.value,
                                                           ExemptionRow.target_id == person.id).limit(1)))
        if still is None:
            s.delete(person)
            count += 1
    return count


def _runs(s: Session, cutoff: dt.date) -> int:
    count = 0
    for run in s.scalars(select(RunRow).where(RunRow.cycle_date < cutoff)):
        stats = dict(run.stats or {})
        if run.message is None and not stats.get("problems") and not stats.get("unsure"):
            continue
        stats.pop("problems", None)
        stats.pop("unsure", None)
        run.message, run.stats = None, stats
        count += 1
    return count
