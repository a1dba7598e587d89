"""What an exemption request points at, resolved against the store and Graph (shared by the CLI and the
Retention requests list), and whose recordings it covers (for :func:`policy.approval.may_decide`)."""

from __future__ import annotations

import re

from ..domain import RecordingRef, TargetKind
from ..errors import GraphError
from ..policy.approval import Covered
from ..ports import GraphGateway
from ..store import drives as drive_store
from ..store import recordings
from ..store.database import Database
from ..store.exemptions import StoredExemption

_URL = re.compile(r"^https?://", re.IGNORECASE)


def is_url(text: str) -> bool:
    return bool(_URL.match(text.strip()))


async def resolve_recording(db: Database, gateway: GraphGateway, text: str) -> RecordingRef | None:
    """A recording by its web URL (Graph's shares API), its store id, or ``<drive id>/<item id>``. None: no
    such recording. Raises GraphError when Graph cannot answer."""
    text = text.strip()
    if is_url(text):
        shared = await gateway.resolve_share(text)
        return shared.ref if shared is not None else None
    if text.isdigit():
        rec = recordings.get(db, int(text))
        return rec.ref if rec is not None else None
    drive_id, _, item_id = text.partition("/")
    if drive_id and item_id and item_id in recordings.in_drive(db, drive_id, [item_id]):
        return RecordingRef(drive_id, item_id)
    return None


async def resolve_site(db: Database, gateway: GraphGateway, text: str) -> str | None:
    """A team site's target id: the team (all its channels' drives) when the drive belongs to one, else the
    drive. ``text`` is the link of the site's document library (shares API), a drive id or a team id."""
    text = text.strip()
    drive_id: str | None = text
    if is_url(text):
        shared = await gateway.resolve_share(text)
        drive_id = shared.ref.drive_id if shared is not None else None
    if drive_id is None:
        return None
    drive = drive_store.get(db, drive_id)
    if drive is not None:
        return drive.team_id or drive.id
    return text if text in {t for t in drive_store.teams_of(db).values() if t} else None


def organizer_of(db: Database, key: str) -> tuple[bool, str | None]:
    """Whether the store governs the recording ``key``, and its organizer (None: no user made it, a channel
    recording by Teams' own service)."""
    drive_id, _, item_id = key.partition("/")
    rec = recordings.in_drive(db, drive_id, [item_id]).get(item_id)
    return (rec is not None, rec.organizer_id if rec is not None else None)


async def team_owners_of(db: Database, gateway: GraphGateway, drive_id: str) -> frozenset[str] | None:
    """The Entra object ids (lower case) of the owners of the team whose channel holds the drive; empty when it
    is no team's; None when Graph could not say."""
    drive = drive_store.get(db, drive_id)
    if drive is None or drive.team_id is None:
        return frozenset()
    try:
        owners = await gateway.team_owners(drive.team_id)
    except GraphError:
        return None
    return frozenset(o.id.lower() for o in owners if o.id)


def covered(db: Database, e: StoredExemption) -> Covered:
    """Whose recordings ``e`` covers, as far as the store knows them."""
    owners: set[str] = set()
    if e.target_kind is TargetKind.ORGANIZER:
        owners.add(e.target_id)
    elif e.target_kind is TargetKind.RECORDING:
        _, organizer = organizer_of(db, e.target_id)
        if organizer:
            owners.add(organizer)
    return Covered(e.requested_by_id, frozenset(owners))

