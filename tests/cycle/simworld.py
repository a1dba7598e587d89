"""A simulated tenant (the simulator in-process, over httpx's ASGI transport) governed by the production cycle,
one cycle a day; the ``make_world`` fixture (conftest.py) builds one per test, as Graph v1.0 answers and with
the beta-only Teams facets switched on.

Lists: ``world.site_url`` is what ``[lists] site`` names (the scenario's ``[records_site]``, else one added at
/sites/records); ``provision_lists()`` creates both lists through Graph; ``add_list_item`` / ``edit_list_item``
/ ``delete_list_item`` edit them as a given user would; ``list_requests[day]`` counts what that day's cycle asked
of the lists (``model.requests.count("list.")``)."""

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
from teamsretention.simulator import wire
from teamsretention.simulator.app import create_app
from teamsretention.simulator.scenario import load_scenario
from teamsretention.store import Database, audit
from teamsretention.store.audit import AuditEntry
from teamsretention.workflows import provision as provision_workflow

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
        self.delta_page_size: int | None = None  # graph.delta_page_size; None: Graph's default page (no $top)
        self.list_requests: dict[int, int] = {}  # day -> requests that day's cycle made to lists (items, versions)

    def key(self, alias: str) -> str:
        return self.model.aliases[alias]

    def cycle(self, day: int, mode: RunMode = RunMode.ENFORCE, stop: asyncio.Event | None = None, **kw: Any) -> Any:
        moment = at(day)
        self.model.advance_to(moment)

        async def go() -> Any:
            gateway = self.gateway()
            try:
                cycle = Cycle(self.db, gateway, self.config, render_digest, clock=lambda: moment, stop=stop)
                return await cycle.run(mode=mode, at=moment, **kw)
            finally:
                await gateway.aclose()

        before = self.model.requests.count("list.")
        report = asyncio.run(go())
        self.reports[day] = report
        self.list_requests[day] = self.model.requests.count("list.") - before
        return report

    def gateway(self) -> Any:
        """The production Graph adapter, talking to this world's simulator in-process."""
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app))
        return build_gateway("http://127.0.0.1/v1.0", NoCredential(), user_agent="NONISV|Test|teamsretention/0",
                             max_concurrency=4, http_client=http, delta_page_size=self.delta_page_size)

    # --- the records site and its lists ------------------------------------------------------------------
    @property
    def site_url(self) -> str:
        """What ``[lists] site`` names: the records site (added, at /sites/records, when the scenario has none)."""
        if self.model.records_site_id is None:
            self.model.add_records_site()
        assert self.model.records_site_id is not None
        return self.model.sites[self.model.records_site_id].web_url

    def provision_lists(self, assignments: str = "Assignments", requests: str = "Retention requests") -> Any:
        """Both lists created in the records site as ``teamsretention provision`` creates them (through Graph)."""
        site = self.site_url

        async def go() -> Any:
            gateway = self.gateway()
            try:
                return await provision_workflow.provision(gateway, site, provision_workflow.targets(assignments, requests))
            finally:
                await gateway.aclose()

        return asyncio.run(go())

    def add_list_item(self, list_name: str, by: str | None, **fields: Any) -> str:
        """``by`` (a scenario key; None: the application) adds an item, as in SharePoint; returns its id. Dates may
        be ``YYYY-MM-DD`` (stored as SharePoint stores a date-only value)."""
        lst = self.model.list_by_ref(list_name)
        return self.model.add_list_item(lst, by, fields).id

    def edit_list_item(self, list_name: str, item_id: str, by: str | None, **fields: Any) -> None:
        """``by`` edits the item: a new version whose ``lastModifiedBy`` is that user (None clears a field)."""
        self.model.edit_list_item(self.model.list_by_ref(list_name), item_id, by, fields)

    def delete_list_item(self, list_name: str, item_id: str) -> None:
        self.model.delete_list_item(self.model.list_by_ref(list_name), item_id)

    def list_item(self, list_name: str, item_id: str) -> Any:
        return self.model.list_by_ref(list_name).items[item_id]

    def recording_url(self, alias: str) -> str:
        """The web URL an organizer pastes into the requests list (Copy link)."""
        item = self.model.find_item(alias)
        return wire.item_json(item, self.model, in_delta=False)["webUrl"]

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


