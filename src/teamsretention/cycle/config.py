"""What one cycle is told to do (the policy, the scope, the safety limits, who is written to), and what its
steps share while it runs."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain import PolicyConfig, RecognitionConfig
from ..ports import GraphGateway
from ..store import directory
from ..store.audit import AuditEvent, AuditKind, Subject
from ..store.database import Database
from .outcome import CycleReport, Organizer
from .progress import CycleProgress


@dataclass(frozen=True)
class ScopeRules:
    include_groups: tuple[str, ...] = ()  # empty: all users
    exclude_users: tuple[str, ...] = ()
    onedrive: bool = True
    channel_sites: bool = True
    teams: tuple[str, ...] = ()  # empty: all teams (ids or display names)


@dataclass(frozen=True)
class CycleConfig:
    policy: PolicyConfig
    scope: ScopeRules
    recognition: RecognitionConfig = field(default_factory=RecognitionConfig)
    delete_mode: str = "recycle"  # recycle | permanent
    max_deletions_per_cycle: int = 200
    max_deletion_share: float = 0.25
    deletion_share_minimum: int = 20
    blocked_retry_days: tuple[int, ...] = (1, 2, 4, 8, 16)
    restore_window_days: int = 93
    sender: str | None = None
    language: str = "sv"
    fallback_contact: str | None = None
    contact: str | None = None
    approvers: tuple[str, ...] = ()
    # exemptions: who decides ([approvers], UPNs / object ids / group ids), the Retention requests list, and the
    # weekly DPO digest (weekday 0 = Monday; to dpo_digest_to, else the DPO approvers' mailboxes)
    dpo: tuple[str, ...] = ()
    it_admins: tuple[str, ...] = ()
    lists_site: str | None = None
    requests_list: str = "Retention requests"
    dpo_digest_weekday: int = 0
    dpo_digest_to: tuple[str, ...] = ()
    max_items_per_digest: int = 50
    max_concurrency: int = 8
    max_poll_interval_days: int = 7  # [policy]: an idle drive is read this often (cycle.polling); 1: daily
    cloud: str = "global"  # endpoints.CLOUDS: whose SharePoint hosts links in mails may point to
    sharepoint_tenant: str | None = None  # <tenant>.sharepoint.com: links only to the tenant's own hosts
    keep_years: int = 7  # [evidence]: how long the evidence of a deleted recording is kept
    keep_mail_bodies: bool = False  # [evidence]: keep digests' subject and text (not only proof of notice)
    assignments_list: str = "Assignments"  # [lists] assignments: the list's display name
    tag_rules: tuple[str, ...] = ()  # [assignments] tag_rules
    config_snapshot: dict[str, Any] = field(default_factory=dict)
    graph_endpoint: str = ""  # the Graph root (https://graph.microsoft.com/v1.0), named when it cannot be read


@dataclass
class CycleContext:
    """What every step of one cycle shares: the store, Graph, the configuration, the clock and the report."""

    db: Database
    gateway: GraphGateway
    config: CycleConfig
    clock: Callable[[], dt.datetime]
    cycle_date: dt.date
    report: CycleReport
    stop: asyncio.Event
    checkpoint: Callable[[], None] = lambda: None  # the cycle's: keeps its lock alive, stops if it was lost
    progress: CycleProgress = field(default_factory=CycleProgress)  # how far it has come, for whoever watches
    shared: dict[str, Any] = field(default_factory=dict)  # per-cycle caches shared by steps (the roles)
    _organizers: dict[str, Organizer] = field(default_factory=dict)  # read once per cycle, as needed

    @property
    def run_id(self) -> int | None:
        return self.report.run_id

    def organizer(self, organizer_id: str | None) -> Organizer:
        """The organizer's name and UPN from the stored directory, for what the cycle reports and logs."""
        if not organizer_id:
            return Organizer(None)
        if organizer_id not in self._organizers:
            person = directory.person(self.db, organizer_id)
            self._organizers[organizer_id] = (Organizer(organizer_id, person.display_name, person.upn)
                                              if person else Organizer(organizer_id))
        return self._organizers[organizer_id]

    def event(self, kind: AuditKind, subject: Subject | None = None, *, reason: str = "", **kw: Any) -> AuditEvent:
        """An audit event of this cycle, now."""
        return AuditEvent.about(kind, subject, at=self.clock(), cycle_date=self.cycle_date, run_id=self.run_id,
                                reason=reason, **kw)
