"""A simulated tenant (the simulator in-process, over httpx's ASGI transport) governed by the production cycle,
one cycle a day; the ``make_world`` fixture (conftest.py) builds one per test, as Graph v1.0 answers and with
the beta-only Teams facets switched on."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from kiota_http.middleware import RetryHandler

from teamsretention.cycle import Cycle, CycleConfig, ScopeRules
from teamsretention.domain import PolicyConfig, RunMode
from teamsretention.graph.credentials import NoCredential
from teamsretention.graph.gateway import build_gateway
from teamsretention.notify.render import render_digest
from teamsretention.simulator.app import create_app
from teamsretention.simulator.scenario import load_scenario
from teamsretention.store import Database, audit
from teamsretention.store.audit import AuditEntry

from .test_cycle import DAY0, at

SENDER = "retention@contoso.example"

BASE = """
[tenant]
domain = "contoso.example"
seed = 3

[[users]]
key = "anna"
display_name = "Anna Berg"
preferred_language = "sv-SE"

[[users]]
key = "bob"
display_name = "Bob Smith"
preferred_language = "en-US"

[[users]]
key = "retention"
display_name = "Recording governance"
has_onedrive = false

[[users]]
key = "it-support"
display_name = "IT support"
has_onedrive = false
"""


def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """kiota's RetryHandler waits 3-5 s between attempts; tests never sleep."""
    monkeypatch.setattr(RetryHandler, "get_delay_time", lambda self, *a, **k: 0)


class SimWorld:
    def __init__(self, tmp_path: Any, scenario: str, **config: Any) -> None:
        self.model = load_scenario(BASE + scenario, epoch=at(0))
        self.app = create_app(self.model, knobs=self.model.knobs)
        self.db = Database(f"sqlite:///{tmp_path}/state.db")
        defaults: dict[str, Any] = dict(
            policy=PolicyConfig(), scope=ScopeRules(), sender=SENDER, language="sv",
            fallback_contact="it-support@contoso.example", contact="it-support@contoso.example", max_concurrency=4)
        defaults.update(config)
        self.config = CycleConfig(**defaults)
        self.reports: dict[int, Any] = {}

    def key(self, alias: str) -> str:
        return self.model.aliases[alias]

    def cycle(self, day: int, mode: RunMode = RunMode.ENFORCE, stop: asyncio.Event | None = None, **kw: Any) -> Any:
        moment = at(day)
        self.model.advance_to(moment)

        async def go() -> Any:
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app))
            gateway = build_gateway("http://127.0.0.1/v1.0", NoCredential(), user_agent="NONISV|Test|teamsretention/0",
                                    max_concurrency=4, http_client=http)
            try:
                cycle = Cycle(self.db, gateway, self.config, render_digest, clock=lambda: moment, stop=stop)
                return await cycle.run(mode=mode, at=moment, **kw)
            finally:
                await gateway.aclose()

        report = asyncio.run(go())
        self.reports[day] = report
        return report

    def days(self, first: int, last: int, mode: RunMode = RunMode.ENFORCE) -> None:
        for d in range(first, last + 1):
            self.cycle(d, mode)

    def audit(self, event: str, alias: str | None = None) -> list[AuditEntry]:
        item = self.key(alias) if alias else None
        return [a for a in audit.entries(self.db)
                if a.kind == event and (item is None or (a.recording_key or "").endswith(item))]

    def day_of(self, rows: list[AuditEntry]) -> list[int]:
        return [(r.cycle_date - DAY0).days for r in rows]

    def mails_to(self, address: str) -> list[dict[str, Any]]:
        return [m for m in self.model.mail_log if address in str(m)]

    def in_recycle_bin(self, alias: str) -> bool:
        return any(item_id == self.key(alias) for (_, item_id) in self.model.recycle_bin)


def make_world(tmp_path: Any, request: pytest.FixtureRequest):
    """Every timeline twice: as Graph v1.0 answers (no Teams facets: recognised by folder and name), and with
    the beta-only facets switched on in the simulator."""
    worlds: list[SimWorld] = []

    def make(scenario: str, **config: Any) -> SimWorld:
        w = SimWorld(tmp_path / str(len(worlds)), scenario, **config)
        w.model.knobs.media_facets = request.param
        worlds.append(w)
        return w

    yield make
    for w in worlds:
        w.db.dispose()


