"""``MsGraphGateway``: :class:`teamsretention.ports.GraphGateway` on msgraph-sdk.

msgraph-sdk types stay inside ``graph/``; every method hands out ports/domain dataclasses and raises
only :mod:`teamsretention.errors` GraphErrors (Graph's code and message kept, never a token).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from msgraph.graph_service_client import GraphServiceClient

from ..domain import Person, RecordingRef
from ..errors import GraphError
from ..lists import Column
from ..ports import (
    DeltaPage,
    DirectoryPage,
    DriveRef,
    GraphConnection,
    GraphTraffic,
    ItemFacets,
    ItemState,
    LabelRead,
    ListDeltaPage,
    ListInfo,
    ListItemVersion,
    OutgoingMail,
    SharedItem,
    SiteInfo,
    Team,
    TeamDrives,
    TeamsPage,
)
from .batch import GetBatches, ItemBatches
from .client import build_graph_client, new_http_client
from .credentials import NoCredential, build_credential, token_roles
from .directory import Directory
from .drives import Drives
from .lists import Lists
from .mail import send_mail
from .paging import Links
from .raw import RawJson
from .signin import SignInContext, SignInGuard
from .throttle import ThrottleGate


class MsGraphGateway:
    def __init__(self, client: GraphServiceClient, *, http_client: httpx.AsyncClient | None = None,
                 credential: Any = None, gate: ThrottleGate | None = None, delta_page_size: int | None = None
                 ) -> None:
        """``client`` from :func:`build_graph_client`. ``http_client`` / ``credential``, when given, are
        closed by :meth:`aclose` (the gateway owns them). ``gate``: the client's throttle gate, whose counts
        :meth:`traffic` reports and which a throttled request inside a ``$batch`` closes (the gate only sees the
        batch's outer answer). ``delta_page_size``: the ``$top`` a drive's full enumeration asks for."""
        self._client = client
        self._gate = gate
        self._links = Links(client.request_adapter.base_url)
        self._raw = RawJson(client)
        gets: GetBatches[Any] = GetBatches(self._raw, self._links, gate)
        self._directory = Directory(client, self._links, gets)
        self._drives = Drives(client, self._links, page_size=delta_page_size)
        self._batches = ItemBatches(gets, self._links)
        self._lists = Lists(client, self._links)
        self._http_client = http_client
        self._credential = credential
        parts = urlsplit(client.request_adapter.base_url)
        self._scope = f"{parts.scheme}://{parts.netloc}/.default"

    def traffic(self) -> GraphTraffic:
        """What this gateway's client has sent so far (empty without a gate)."""
        return self._gate.traffic() if self._gate is not None else GraphTraffic()

    # --- directory -----------------------------------------------------------------------------
    def users_delta(self, delta_link: str | None) -> AsyncIterator[DirectoryPage]:
        return self._directory.users_delta(delta_link)

    async def group_member_ids(self, group_id: str) -> set[str]:
        return await self._directory.group_member_ids(group_id)

    async def get_user(self, user_id: str) -> Person | None:
        return await self._directory.get_user(user_id)

    async def get_user_drives(self, users: Sequence[Person]) -> dict[str, DriveRef | None | GraphError]:
        return await self._directory.get_user_drives(users)

    def teams_delta(self, delta_link: str | None) -> AsyncIterator[TeamsPage]:
        return self._directory.teams_delta(delta_link)

    async def get_team_drives(self, team: Team) -> TeamDrives:
        return await self._directory.get_team_drives(team)

    async def team_owners(self, team_id: str) -> list[Person]:
        return await self._directory.team_owners(team_id)

    async def have_mailboxes(self, user_ids: Sequence[str]) -> dict[str, bool | None | GraphError]:
        return await self._directory.have_mailboxes(user_ids)

    # --- drives --------------------------------------------------------------------------------
    def drive_delta(self, drive_id: str, delta_link: str | None, *, videos_only: bool = False
                    ) -> AsyncIterator[DeltaPage]:
        return self._drives.drive_delta(drive_id, delta_link, videos_only=videos_only)

    async def reread_item(self, drive_id: str, item_id: str) -> ItemState | None:
        return await self._drives.reread_item(drive_id, item_id)

    async def get_items_with_labels(self, refs: Sequence[RecordingRef]) -> dict[RecordingRef, LabelRead]:
        return await self._batches.read(refs)

    async def read_beta_facets(self, drive_id: str, item_id: str) -> ItemFacets | None:
        return await self._drives.read_beta_facets(drive_id, item_id)

    async def delete_item(self, drive_id: str, item_id: str, etag: str | None, permanent: bool) -> None:
        await self._drives.delete_item(drive_id, item_id, etag, permanent)

    async def granted_roles(self) -> frozenset[str] | None:
        return await token_roles(self._credential, self._scope)

    async def resolve_share(self, web_url: str) -> SharedItem | None:
        return await self._lists.resolve_share(web_url)

    async def transitive_group_ids(self, user_id: str) -> frozenset[str]:
        return await self._lists.transitive_group_ids(user_id)

    # --- lists ---------------------------------------------------------------------------------
    async def get_site(self, site: str) -> SiteInfo | None:
        return await self._lists.get_site(site)

    async def get_list(self, site_id: str, display_name: str) -> ListInfo | None:
        return await self._lists.get_list(site_id, display_name)

    async def create_list(self, site_id: str, display_name: str, columns: tuple[Column, ...]) -> ListInfo:
        return await self._lists.create_list(site_id, display_name, columns)

    async def add_list_column(self, site_id: str, list_id: str, column: Column) -> None:
        await self._lists.add_list_column(site_id, list_id, column)

    def list_items_delta(self, site_id: str, list_id: str, delta_link: str | None) -> AsyncIterator[ListDeltaPage]:
        return self._lists.list_items_delta(site_id, list_id, delta_link)

    async def list_item_versions(self, site_id: str, list_id: str, item_id: str) -> list[ListItemVersion]:
        return await self._lists.list_item_versions(site_id, list_id, item_id)

    # --- mail ----------------------------------------------------------------------------------
    async def send_mail(self, sender: str, mail: OutgoingMail) -> None:
        await send_mail(self._raw, self._links, sender, mail)

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()
            await _close_wrapped_transports(self._http_client)
        close = getattr(self._credential, "close", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):
                await result


def build_gateway(base_url: str, credential: Any, *, user_agent: str, max_concurrency: int,
                  http_client: httpx.AsyncClient | None = None,
                  gate: ThrottleGate | None = None, ru_budget_per_minute: int = 0,
                  delta_page_size: int | None = None) -> MsGraphGateway:
    """The one-call wiring for ``bootstrap``: client and gateway. The gateway owns (and closes) the
    credential and the HTTP client, including one passed in. ``ru_budget_per_minute``: see throttle.py;
    ``delta_page_size``: see ``Drives``."""
    http_client = http_client or new_http_client()
    gate = gate or ThrottleGate(max_concurrency, ru_budget_per_minute=ru_budget_per_minute)
    client = build_graph_client(base_url, credential, user_agent=user_agent, max_concurrency=max_concurrency,
                                http_client=http_client, gate=gate)
    return MsGraphGateway(client, http_client=http_client, credential=credential, gate=gate,
                          delta_page_size=delta_page_size)


def connect(conn: GraphConnection, *, http_client: httpx.AsyncClient | None = None) -> MsGraphGateway:
    """The gateway for a resolved connection: its credential, client and gateway. Raises ConfigError for a
    credential that cannot be built (before any Graph call); a sign-in that fails later raises SignInError."""
    credential = build_credential(
        conn.auth, tenant_id=conn.tenant_id, client_id=conn.client_id, client_secret=conn.client_secret,
        certificate_path=conn.certificate_path, certificate_password=conn.certificate_password,
        authority_host=conn.authority_host)
    if not isinstance(credential, NoCredential):
        credential = SignInGuard(credential, SignInContext(
            auth=conn.auth, authority_host=conn.authority_host, tenant_id=conn.tenant_id, client_id=conn.client_id,
            certificate_path=conn.certificate_path))
    return build_gateway(conn.base_url, credential, user_agent=conn.user_agent,
                         max_concurrency=conn.max_concurrency, http_client=http_client,
                         ru_budget_per_minute=conn.ru_budget_per_minute, delta_page_size=conn.delta_page_size)


async def _close_wrapped_transports(http_client: httpx.AsyncClient) -> None:
    """msgraph-core's AsyncGraphTransport wraps the real transport but has no ``aclose``: closing the
    client leaves the wrapped connection pool (and its sockets) open. Close what it wraps ourselves."""
    transports = [getattr(http_client, "_transport", None), *getattr(http_client, "_mounts", {}).values()]
    for transport in transports:
        inner = getattr(transport, "transport", None)
        if isinstance(inner, httpx.AsyncBaseTransport):
            await inner.aclose()
