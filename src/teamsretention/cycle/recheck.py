"""Re-establishing recognition from a fresh read before anything is done to a recording.

Delta never returns ``parentReference.path`` and does not report what a renamed or moved folder holds, so a
recording recognised from the feed is recognised again from a plain GET (one request, with its label)
before any warning or deletion. No longer recognised: kept, listed in ``plan`` as unsure, on record. The GET
carries no path: fail closed for this cycle (no warning, no deletion). With ``recognition.confirm_with_beta``
a candidate recognised by folder and name only is confirmed once, before its first warning, by the beta
``source``/``media`` facets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog

from ..domain import Evidence, RecordingState
from ..errors import GraphError
from ..policy import Location, Verdict, classify, location_from_path
from ..policy.recognition import SPECIAL_RECORDINGS
from ..ports import ItemState, LabelRead
from ..store import drives as drive_store
from ..store.audit import AuditEvent, AuditKind
from ..store.drives import StoredFolder
from ..store.recordings import StoredRecording
from .config import CycleContext

FACETS = (Evidence.TEAMS_FACETS, Evidence.BETA_FACETS)

log = structlog.get_logger(__name__)


async def reread_all(ctx: CycleContext, recs: Sequence[StoredRecording]) -> list[LabelRead]:
    """The fresh read (state and label) of each recording, in order: the gateway batches them (Graph JSON
    ``$batch``, 20 per request); a read that failed is its GraphError, logged here, and the caller fails closed."""
    if not recs:
        return []
    answers = await ctx.gateway.get_items_with_labels([rec.ref for rec in recs])
    reads: list[LabelRead] = []
    for rec in recs:
        read = answers.get(rec.ref, GraphError(0, "missingAnswer", "the gateway gave no answer for this item"))
        if isinstance(read, GraphError):
            log.warning("label.read_failed", recording_id=rec.ref.key, recording=rec.name,
                        **ctx.organizer(rec.organizer_id).log_fields(), error=str(read))
        reads.append(read)
    return reads


async def reread_one(ctx: CycleContext, rec: StoredRecording) -> LabelRead:
    """One item's fresh read on its own (a GET: just before its deletion); a failed read is its GraphError, and
    the caller fails closed."""
    try:
        return await ctx.gateway.reread_item(rec.drive_id, rec.item_id)
    except GraphError as exc:
        return exc


# (drive id, folder id) -> the folder as the store knows it, None when the store does not know it
Parents = Mapping[tuple[str, str], StoredFolder | None]


def parents_of(ctx: CycleContext, recs: Sequence[StoredRecording], reads: Sequence[LabelRead]) -> Parents:
    """The stored parent folders of these re-read items, in one query (not one per recording); every parent
    asked about has an entry, so an unknown folder is not looked up again per recording."""
    pairs = {(rec.drive_id, read.parent_id) for rec, read in zip(recs, reads, strict=True)
             if isinstance(read, ItemState) and read.parent_id}
    found = drive_store.folders_by_ref(ctx.db, pairs)
    return {pair: found.get(pair) for pair in pairs}


@dataclass(frozen=True, slots=True)
class Recheck:
    recording: StoredRecording  # with its recognition brought up to date
    recognised: bool  # still a Teams recording: the policy may act on it
    unknown: bool = False  # could not be told this cycle: fail closed (no warning, no deletion)
    event: AuditEvent | None = None  # a change of recognition, for the trail


async def recheck(ctx: CycleContext, rec: StoredRecording, state: ItemState, *, before_first_warning: bool = False,
                  parents: Parents | None = None) -> Recheck:
    """``parents``: the stored parent folders of a batch of re-reads (``parents_of``); read here when not given."""
    config = ctx.config.recognition
    special = False
    if state.parent_id:
        key = (rec.drive_id, state.parent_id)
        if parents is None or key not in parents:  # not given, or this read was not among the batch's
            parents = parents_of(ctx, [rec], [state])
        parent = parents.get(key)
        special = parent is not None and (parent.special or "").lower() == SPECIAL_RECORDINGS
    location = location_from_path(state.parent_path, rec.drive_kind, config, parent_is_special=special)
    seen = classify(state, location, config)
    if seen.verdict is Verdict.RECORDING:
        fresh = rec if rec.evidence in FACETS else dataclasses.replace(rec, evidence=seen.evidence)
        if before_first_warning and config.confirm_with_beta and fresh.evidence not in FACETS:
            return await _confirm(ctx, fresh)
        return Recheck(fresh, True)
    fresh_facets = state.source_application is not None or state.content_category is not None
    if rec.evidence in FACETS and not fresh_facets and seen.verdict is not Verdict.NOT_RECORDING:
        return Recheck(rec, True)  # Teams' facets said so once; a folder does not make it less a recording
    if location is Location.UNKNOWN:
        return Recheck(rec, False, unknown=True)
    return _unsure(ctx, rec, f"seen afresh, {seen.note}")


async def _confirm(ctx: CycleContext, rec: StoredRecording) -> Recheck:
    try:
        facets = await ctx.gateway.read_beta_facets(rec.drive_id, rec.item_id)
    except GraphError:
        return Recheck(rec, False, unknown=True)  # not confirmed this cycle: no warning, try again next one
    if facets is None or (facets.source_application is None and facets.content_category is None):
        return Recheck(rec, True)  # beta says nothing either way: folder and name stand
    if (facets.source_application or "").lower() == "teams" and (facets.content_category or "").lower() == "meeting":
        confirmed = dataclasses.replace(rec, evidence=Evidence.BETA_FACETS)
        return Recheck(confirmed, True, event=ctx.event(AuditKind.RECOGNISED, confirmed, evidence=Evidence.BETA_FACETS,
                                                        reason="Confirmed as a Teams meeting recording by the beta "
                                                        "source/media facets before its first warning."))
    return _unsure(ctx, rec, f"the beta facets say it comes from {facets.source_application or '?'} "
                             f"({facets.content_category or '?'}), not a Teams meeting")


def _unsure(ctx: CycleContext, rec: StoredRecording, note: str) -> Recheck:
    unsure = dataclasses.replace(rec, state=RecordingState.UNSURE, recognition_note=note)
    event = ctx.event(AuditKind.UNTRACKED, unsure, reason=f"No longer recognised as a Teams recording: {note}. "
                      "teamsretention keeps it, will not warn about it or delete it, and lists it in plan.", note=note)
    return Recheck(unsure, False, event=event)
