"""What the demo's people do, through the product's own paths: the IT admin and the DPO at the command line's
workflows, organizers, a colleague and the DPO in the two Microsoft Lists (edits in the simulated SharePoint,
read back by the cycle through Graph: listItem delta and version history).

The story, by demo day (day 1 is the first cycle):

- before day 1: ``provision`` creates both lists; the IT admin adds the client assignment A-FALCON to the
  Assignments list; at the CLI the IT admin requests a legal hold the DPO approves (EX-1), and requests an
  exception then tries to approve it themself (refused: EX-2 stays pending, its grace runs out); in the Retention
  requests list one organizer tags a recording to A-FALCON and another requests an exception (EX-3);
- day 2: the IT admin tags a second recording to A-FALCON at the CLI, after its organizer got the first warning;
- day 3: a colleague who is no approver sets EX-3's row to Approved: ignored, reported to the DPO, audited;
- day 4: the DPO puts the row back to Requested and approves it: EX-3 keeps the recording until its end, with
  warnings before that end;
- day 16: the IT admin closes A-FALCON in the list: its recordings are warned, then deleted after the notice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from ..cycle.roles import Roles
from ..domain import ExemptionStatus, RecordingRef, local_date
from ..errors import InvalidInput
from ..lists import (
    A_STATUS_ACTIVE,
    A_STATUS_CLOSED,
    ASSIGNMENTS,
    KIND_EXCEPTION,
    KIND_TAG,
    R_STATUS_APPROVED,
    R_STATUS_REQUESTED,
    REQUESTS,
    SCOPE_RECORDING,
)
from ..ports import GraphGateway
from ..settings import Settings
from ..simulator import TenantModel, wire
from ..simulator.tenants import DEMO_DPO, DEMO_FALLBACK
from ..store import Database, assignments, exemptions
from ..workflows import assignments as assignment_workflow
from ..workflows import exemptions as exemption_workflow
from ..workflows import provision as provision_workflow

CODE = "A-FALCON"
IT_ADMIN = "it-support"  # the simulated tenant's keys of the people who act
DPO = "dpo"
COLLEAGUE = "erik.lind"  # edits a row of the requests list without being an approver
CLI_TAG_DAY, OUTSIDER_DAY, DPO_LIST_DAY = 1, 2, 3  # demo day index (0: the first cycle)


@dataclass
class Chosen:
    """A recording the story acts on: where it is, its web link, and its organizer's scenario key."""

    ref: RecordingRef
    url: str
    organizer: str
    organizer_upn: str


@dataclass
class DemoGovernance:
    model: TenantModel
    db: Database
    gateway: GraphGateway
    settings: Settings
    day0: dt.date
    closes_on_day: int
    echo: Callable[[str], None]
    what: dict[str, str] = field(default_factory=dict)  # recording key -> what was done for it, for the summary
    _item: dict[str, str] = field(default_factory=dict)  # name -> list item id

    # --- before day 1 ------------------------------------------------------------------------------------
    async def before_first_cycle(self, now: dt.datetime) -> None:
        hold, pending, listed, tagged_list, tagged_cli = self._old_onedrive_recordings(now, 5)
        self._tagged_cli = tagged_cli
        self._listed = listed
        report = await provision_workflow.provision(self.gateway, self.settings.lists.site, provision_workflow.targets(
            self.settings.lists.assignments, self.settings.lists.requests))
        self.echo("Before day 1:")
        for line in provision_workflow.report_lines(report):
            self.echo(f"  provision: {line}")
        self._item["assignment"] = self._add(ASSIGNMENTS.display_name, IT_ADMIN, Title=CODE,
                                             AssignmentTitle="Falcon Project", Client="Falcon AB",
                                             AssignmentStatus=A_STATUS_ACTIVE,
                                             OpenedOn=(self.day0 - dt.timedelta(days=120)).isoformat())
        self.echo(f"  Assignments list: {DEMO_FALLBACK} adds {CODE} (Falcon Project, client Falcon AB), active")

        held = await self._cli_request(now, IT_ADMIN, "legal_hold", hold, review=self.day0 + dt.timedelta(days=90),
                                       reason="Dispute with a supplier: evidence must be preserved.",
                                       legal_basis="Litigation hold, case 2026-17")
        done = await self._cli_decide(now, DPO, held, ExemptionStatus.APPROVED, "Until the case is closed.")
        self.echo(f"  CLI: {DEMO_FALLBACK} requests legal hold {held}; {DEMO_DPO} approves it: {done}")
        self.what[hold.ref.key] = (f"legal hold {held} (CLI): requested by {DEMO_FALLBACK}; {DEMO_DPO} approves: "
                                   f"{done}; review {self.day0 + dt.timedelta(days=90)}")

        asked = await self._cli_request(now, IT_ADMIN, "exception", pending, until=self.day0 + dt.timedelta(days=60),
                                        reason="Keep for the yearly security review.",
                                        legal_basis="Internal audit plan 2026")
        refused = await self._cli_decide(now, IT_ADMIN, asked, ExemptionStatus.APPROVED, "")
        self.echo(f"  CLI: {DEMO_FALLBACK} requests exception {asked}, then approves it: {refused}")
        grace = self.settings.policy.pending_request_grace_days
        self.what[pending.ref.key] = (f"exception {asked} (CLI) requested by {DEMO_FALLBACK}, self-approval "
                                      f"{'refused' if refused.startswith('exit 2') else refused}, never decided (a "
                                      f"pending request postpones deletion {grace} days at most)")

        self._add(REQUESTS.display_name, tagged_list.organizer, Title="Falcon kickoff", RequestKind=KIND_TAG,
                  Scope=SCOPE_RECORDING, RecordingLink=tagged_list.url, AssignmentCode=CODE,
                  Reason="Kickoff of the Falcon Project")
        self.echo(f"  Retention requests list: {tagged_list.organizer_upn} tags a recording to {CODE}")
        self.what[tagged_list.ref.key] = f"tagged to {CODE} in the requests list by {tagged_list.organizer_upn}"
        self._tagged_list = tagged_list

        end = self.day0 + dt.timedelta(days=20)
        self._item["exception"] = self._add(
            REQUESTS.display_name, listed.organizer, Title="Training material", RequestKind=KIND_EXCEPTION,
            Scope=SCOPE_RECORDING, RecordingLink=listed.url, Reason="Used in a training course until it ends.",
            LegalBasis="Training agreement with the works council", EndDate=end.isoformat())
        self.echo(f"  Retention requests list: {listed.organizer_upn} requests an exception until {end}")
        self.what[listed.ref.key] = f"exception requested in the list by {listed.organizer_upn} until {end}"
        self.echo("")

    # --- during the 40 days -------------------------------------------------------------------------------
    async def before_cycle(self, day: int, now: dt.datetime) -> list[str]:
        """What people do on that day before its cycle; one line each, for the day's notes."""
        if day == CLI_TAG_DAY:
            admin = assignment_workflow.Admin(self.db, DEMO_FALLBACK, now, local_date(now, self._tz),
                                              self.settings.lists.site, self.settings.lists.assignments)
            rec = await assignment_workflow.find_recording(admin, self._tagged_cli.url, self.gateway)
            assignment_workflow.tag(admin, rec, CODE)
            self.what[self._tagged_cli.ref.key] = f"tagged to {CODE} at the CLI on day {day + 1}, after a first warning"
            return [f"CLI: {CODE} tag"]
        if day == OUTSIDER_DAY:
            self._edit(REQUESTS.display_name, self._item["exception"], COLLEAGUE, RequestStatus=R_STATUS_APPROVED)
            self.what[self._listed.ref.key] += f"; set to Approved in the list by {COLLEAGUE} on day {day + 1}"
            return [f"list: {COLLEAGUE} approves"]
        if day == DPO_LIST_DAY:
            # the colleague's version still set Approved: the DPO puts the row back, then decides (a new version)
            self._edit(REQUESTS.display_name, self._item["exception"], DPO, RequestStatus=R_STATUS_REQUESTED)
            self.model.advance(hours=0.05)
            self._edit(REQUESTS.display_name, self._item["exception"], DPO, RequestStatus=R_STATUS_APPROVED,
                       DecisionNote="Until the course ends.")
            self.what[self._listed.ref.key] += f"; set to Approved in the list by {DEMO_DPO} on day {day + 1}"
            return ["list: DPO approves"]
        if day == self.closes_on_day:
            self._edit(ASSIGNMENTS.display_name, self._item["assignment"], IT_ADMIN, AssignmentStatus=A_STATUS_CLOSED,
                       ClosedOn=self._closed_on.isoformat())
            for tagged in (self._tagged_list, self._tagged_cli):
                self.what[tagged.ref.key] += f"; {CODE} closed in the Assignments list on day {day + 1}"
            return [f"list: {CODE} closed"]
        return []

    # --- helpers ------------------------------------------------------------------------------------------
    @property
    def _tz(self) -> str:
        return self.settings.schedule.timezone

    @property
    def _closed_on(self) -> dt.date:
        return self.day0 + dt.timedelta(days=self.closes_on_day)

    def _add(self, list_name: str, by: str, **fields: str) -> str:
        return self.model.add_list_item(self.model.list_by_ref(list_name), by, dict(fields)).id

    def _edit(self, list_name: str, item_id: str, by: str, **fields: str) -> None:
        self.model.edit_list_item(self.model.list_by_ref(list_name), item_id, by, dict(fields))

    async def _cli_request(self, now: dt.datetime, actor: str, kind: str, rec: Chosen, *, reason: str,
                           legal_basis: str, until: dt.date | None = None, review: dt.date | None = None) -> str:
        made = await exemption_workflow.request(
            self.db, self.gateway, actor=self._upn(actor), kind=kind,
            target=exemption_workflow.Target(rec.url, None, None, None), reason=reason, legal_basis=legal_basis,
            until=until.isoformat() if until else None, review=review.isoformat() if review else None, now=now,
            timezone=self._tz)
        return made.id

    async def _cli_decide(self, now: dt.datetime, actor: str, exemption_id: str, status: ExemptionStatus,
                          note: str) -> str:
        a = self.settings.approvers
        roles = Roles(self.gateway, dpo=tuple(a.dpo), it_admins=tuple(a.it_admins))
        try:
            done = await exemption_workflow.decide(self.db, self.gateway, roles, actor=self._upn(actor),
                                                   exemption_id=exemption_id, status=status, note=note, now=now,
                                                   timezone=self._tz)
        except InvalidInput as exc:
            return f"exit 2, {exc}"
        return done.status.value

    def _upn(self, key: str) -> str:
        user = self.model.find_user(key)
        assert user is not None, key
        return user.upn

    def _old_onedrive_recordings(self, start: dt.datetime, count: int) -> list[Chosen]:
        """Recordings aged 35-55 days in users' OneDrives, oldest first: the ones the policy would delete."""
        found = []
        for key, item_id in sorted(self.model.aliases.items()):
            if not key.startswith("rec-") or item_id not in self.model.item_drive:
                continue
            item = self.model.find_item(key)
            drive = self.model.drives[item.drive_id]
            age = (start - item.created).days
            if drive.owner_user_id and item.label is None and 35 <= age <= 55:
                found.append((age, item))
        found.sort(key=lambda x: (-x[0], x[1].id))
        chosen = []
        for _, item in found[:count]:
            owner = self.model.find_user(self.model.drives[item.drive_id].owner_user_id or "")
            assert owner is not None
            chosen.append(Chosen(RecordingRef(item.drive_id, item.id), wire.item_json(item, self.model,
                                 in_delta=False)["webUrl"], owner.id, owner.upn))
        return chosen


def already_used(db: Database) -> bool:
    """Anything a demo wrote (its first steps write exemptions before any cycle)."""
    return assignments.has_assignment(db, CODE) or bool(exemptions.list_all(db))
