"""The one place that wires dependencies: settings in; the store, the Graph gateway and the cycle out."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from . import __version__
from .cycle import Cycle, CycleConfig, ScopeRules
from .cycle.progress import CycleProgress
from .errors import ConfigError
from .graph import connect
from .logging import register_secret
from .notify import render_digest
from .ports import GraphGateway
from .settings import Settings
from .store import Database


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rehearsal_clock(at: dt.datetime) -> Callable[[], dt.datetime]:
    """For ``--at`` runs: time starts at the rehearsed moment and moves on with the real seconds."""
    start = time.monotonic()
    return lambda: at.astimezone(dt.UTC) + dt.timedelta(seconds=time.monotonic() - start)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def cycle_config(settings: Settings) -> CycleConfig:
    p, n, sc = settings.policy, settings.notifications, settings.scope
    if p.enforce and not n.sender:
        raise ConfigError("notifications.sender: required when policy.enforce = true (the mailbox digests are "
                          "sent from)")
    return CycleConfig(
        policy=settings.policy_config(),
        recognition=settings.recognition_config(),
        scope=ScopeRules(include_groups=tuple(sc.include_groups), exclude_users=tuple(sc.exclude_users),
                         onedrive=sc.onedrive, channel_sites=sc.channel_sites, teams=tuple(sc.teams)),
        delete_mode=p.delete_mode, max_deletions_per_cycle=p.max_deletions_per_cycle,
        max_deletion_share=p.max_deletion_share, deletion_share_minimum=p.deletion_share_minimum,
        blocked_retry_days=tuple(p.blocked_retry_days), restore_window_days=p.restore_window_days,
        sender=n.sender, language=n.language, fallback_contact=n.fallback_contact, contact=n.contact,
        approvers=(*settings.approvers.dpo, *settings.approvers.it_admins),
        dpo=tuple(settings.approvers.dpo), it_admins=tuple(settings.approvers.it_admins),
        lists_site=settings.lists.site, requests_list=settings.lists.requests,
        dpo_digest_weekday=WEEKDAYS.index(n.dpo_digest_weekday), dpo_digest_to=tuple(n.dpo_digest_to),
        max_items_per_digest=n.max_items_per_digest, max_concurrency=settings.graph.max_concurrency,
        max_poll_interval_days=p.max_poll_interval_days,
        cloud=settings.graph.cloud, sharepoint_tenant=n.sharepoint_tenant,
        keep_years=settings.evidence.keep_years, keep_mail_bodies=settings.evidence.keep_mail_bodies,
        assignments_list=settings.lists.assignments,
        tag_rules=tuple(settings.assignments.tag_rules),
        config_snapshot=settings.redacted_snapshot(), graph_endpoint=settings.graph_base_url,
    )


def register_secrets(settings: Settings) -> None:
    """From now on no log line shows a configured secret (client secret, certificate or database password)."""
    for secret in settings.secret_values():
        register_secret(secret)


def open_store(settings: Settings, *, create: bool = False) -> Database:
    """The state store the settings point at, for any command.

    Only a cycle (``plan``, ``run``, the daemon) passes ``create=True``. Every other command (``pause``,
    ``resume``, and the admin commands to come: assignments, exemptions, tags) uses the default and gets
    :class:`~teamsretention.errors.StoreNotFound` (exit 2) when there is no store: the message names the
    file or the URL (without its password), where that came from (``Settings.store_origin``) and that the
    first ``plan`` or ``run`` creates it. So an admin command run without the daemon's configuration can
    never act on a new, empty store while the daemon keeps using its own. For PostgreSQL, "exists" means
    reachable and holding our tables. Either way the store is checked before use: private files, SQLite's
    ``quick_check``. ``Database.location`` is how to name it in output."""
    register_secrets(settings)
    state_dir = settings.state_dir() if settings.database.url is None and settings.database.url_file is None else None
    return Database(settings.database_url_value(), create=create, state_dir=state_dir,
                    origin=settings.store_origin())


def connect_gateway(settings: Settings) -> GraphGateway:
    """Graph alone, for admin commands that look people and recordings up (no cycle); the caller closes it."""
    register_secrets(settings)
    return connect(settings.graph_connection(__version__))


@dataclass
class App:
    settings: Settings
    db: Database
    gateway: GraphGateway
    config: CycleConfig

    def cycle(self, clock: Callable[[], dt.datetime] = utc_now, stop: asyncio.Event | None = None,
              progress: CycleProgress | None = None) -> Cycle:
        return Cycle(self.db, self.gateway, self.config, render_digest, clock=clock, stop=stop, progress=progress,
                     lease=dt.timedelta(seconds=self.settings.ha.lease_seconds))

    async def aclose(self) -> None:
        await self.gateway.aclose()
        self.db.dispose()


def build_app(settings: Settings, *, http_client: httpx.AsyncClient | None = None,
              gateway: GraphGateway | None = None) -> App:
    """Validate what only makes sense together, then wire. Raises ConfigError before any Graph call."""
    register_secrets(settings)
    config = cycle_config(settings)
    gw = gateway or connect(settings.graph_connection(__version__), http_client=http_client)  # no call yet
    db = open_store(settings, create=True)
    return App(settings=settings, db=db, gateway=gw, config=config)
