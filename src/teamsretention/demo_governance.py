"""The exemptions and client assignments the demo starts with, as an IT admin and the DPO would have
recorded them (the workflows that create them come with the `exemptions` and `assignments` commands;
here they are written to the store directly)."""

from __future__ import annotations

import datetime as dt

from .errors import ConfigError
from .simulator.model import TenantModel
from .simulator.tenants import DEMO_DPO, DEMO_FALLBACK
from .store import Database
from .store.tables import AssignmentRow, AssignmentTagRow, AuditRow, ExemptionRow


def _old_onedrive_recordings(model: TenantModel, start: dt.datetime, count: int) -> list[tuple[str, str]]:
    """Recordings aged 35-55 days in users' OneDrives, oldest first: the ones the policy would delete."""
    found = []
    for key, item_id in sorted(model.aliases.items()):
        if not key.startswith("rec-") or item_id not in model.item_drive:
            continue
        item = model.find_item(key)
        drive = model.drives[item.drive_id]
        age = (start - item.created).days
        if drive.owner_user_id and item.label is None and 35 <= age <= 55:
            found.append((age, item.drive_id, item.id))
    found.sort(reverse=True)
    return [(d, i) for _, d, i in found[:count]]


def seed_governance(db: Database, model: TenantModel, start: dt.datetime, day0: dt.date,
                    assignment_closes: dt.date) -> dict[str, str]:
    """Returns recording key -> what was recorded for it, for the summary."""
    (hold, exception, pending, tagged_a, tagged_b) = _old_onedrive_recordings(model, start, 5)
    what: dict[str, str] = {}
    with db.session() as s:
        if s.get(AssignmentRow, "A-FALCON") is not None:
            raise ConfigError("--state-dir already holds a demo's state: give an empty directory")
        s.add(ExemptionRow(id="EX-1", kind="legal_hold", status="approved", target_kind="recording",
                           target_id="/".join(hold), requested_on=day0 - dt.timedelta(days=10),
                           requested_by="legal@contoso.example", decided_on=day0 - dt.timedelta(days=9),
                           decided_by=DEMO_DPO, review_on=day0 + dt.timedelta(days=90),
                           reason="Dispute with a supplier: evidence must be preserved."))
        what["/".join(hold)] = f"legal hold EX-1 approved by {DEMO_DPO}"
        s.add(ExemptionRow(id="EX-2", kind="exception", status="approved", target_kind="recording",
                           target_id="/".join(exception), requested_on=day0 - dt.timedelta(days=3),
                           requested_by="organizer", decided_on=day0 - dt.timedelta(days=2),
                           decided_by=DEMO_FALLBACK, valid_until=day0 + dt.timedelta(days=20),
                           reason="Needed for a training course until the course ends."))
        what["/".join(exception)] = f"exception EX-2 until {day0 + dt.timedelta(days=20)}, approved by {DEMO_FALLBACK}"
        s.add(ExemptionRow(id="EX-3", kind="exception", status="pending", target_kind="recording",
                           target_id="/".join(pending), requested_on=day0, requested_by="organizer",
                           reason="Asked to keep it; nobody has decided yet."))
        what["/".join(pending)] = "exemption request EX-3 left undecided (grace 14 days)"
        s.add(AssignmentRow(id="A-FALCON", name="Falcon Project", client="Falcon AB", status="active",
                            opened_on=day0 - dt.timedelta(days=120), created_by=DEMO_FALLBACK))
        for drive_id, item_id in (tagged_a, tagged_b):
            s.add(AssignmentTagRow(assignment_id="A-FALCON", drive_id=drive_id, item_id=item_id,
                                   tagged_on=day0 - dt.timedelta(days=20), tagged_by=DEMO_FALLBACK))
            what[f"{drive_id}/{item_id}"] = f"tagged to client assignment Falcon Project (closed {assignment_closes})"
        s.add(AuditRow(at=start, cycle_date=day0, actor=DEMO_FALLBACK, event="demo_seeded",
                       reason="Demo: one legal hold, one time-boxed exception, one pending request and one "
                       "client assignment recorded before the first cycle.", detail={}))
    return what


def close_assignment(db: Database, when: dt.datetime, day: dt.date) -> None:
    with db.session() as s:
        assignment = s.get(AssignmentRow, "A-FALCON")
        assert assignment is not None
        assignment.status, assignment.closed_on = "closed", day
        s.add(AuditRow(at=when, cycle_date=day, actor=DEMO_FALLBACK, event="assignment_closed",
                       reason="Client assignment Falcon Project closed: its recordings get fresh warnings.",
                       detail={"assignment": "A-FALCON"}))
