"""Build the msgraph-sdk client: explicit base URL, default middleware plus our throttle gate, a token
provider that only ever sends the bearer token to the Graph host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.authentication import AnonymousAuthenticationProvider, AuthenticationProvider
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.kiota_client_factory import KiotaClientFactory
from kiota_http.middleware import RetryHandler
from kiota_http.middleware.options import RetryHandlerOption, UserAgentHandlerOption
from msgraph._version import VERSION as MSGRAPH_VERSION
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import APIVersion, GraphClientFactory
from msgraph_core.middleware import GraphTelemetryHandler
from msgraph_core.middleware.options import GraphTelemetryHandlerOption

from ..endpoints import is_loopback_url
from ..errors import ConfigError
from .credentials import NoCredential
from .throttle import ThrottleGate

# Retries for 429/503/504. Graph's throttling guidance: honour Retry-After and retry a few times; more
# retries only burn resource units. After these a page read fails, the drive is marked incomplete and
# the next cycle tries again — nothing is deleted on a partial inventory.
GRAPH_MAX_RETRIES = 3
# kiota adds this base delay to its exponential backoff when Graph sends no Retry-After.
GRAPH_RETRY_BASE_DELAY_SECONDS = 2.0
# sendMail is a POST that is not idempotent: a retried 503/504 can deliver the digest twice. The caller
# decides (and records) instead; this option goes on every sendMail request.
NO_RETRY = RetryHandlerOption(delay=0, max_retries=0, should_retry=False)

# Timeouts: a delta page of a large drive can take tens of seconds to build on Graph's side.
CONNECT_TIMEOUT_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 120.0


def new_http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(REQUEST_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS))


def build_graph_client(
    base_url: str,
    credential: Any,
    *,
    user_agent: str,
    max_concurrency: int,
    http_client: httpx.AsyncClient | None = None,
    gate: ThrottleGate | None = None,
) -> GraphServiceClient:
    """A GraphServiceClient for ``base_url`` (``https://host/v1.0``, no trailing slash).

    ``credential`` is an azure-identity credential (sync or async), or ``NoCredential`` / None for
    ``graph.auth = none``, which is refused unless ``base_url`` is a loopback address.
    Pass ``http_client`` to run over another transport (``httpx.ASGITransport`` for the simulator).
    """
    base_url = base_url.rstrip("/")
    host = urlsplit(base_url).hostname
    if not host:
        raise ConfigError(f"graph endpoint {base_url!r} has no host")
    auth_provider: AuthenticationProvider
    if credential is None or isinstance(credential, NoCredential):
        if not is_loopback_url(base_url):
            raise ConfigError(
                f"graph.auth = none is only allowed for a loopback endpoint, not {host} "
                "(use the simulator on 127.0.0.1/localhost, or configure real authentication)"
            )
        auth_provider = AnonymousAuthenticationProvider()
    else:
        # Without allowed_hosts the provider attaches the bearer token to ANY URL it is handed — and
        # nextLink / Location URLs come from the server. Pin it to the Graph host.
        auth_provider = AzureIdentityAuthenticationProvider(
            credential, scopes=[f"{urlsplit(base_url).scheme}://{host}/.default"], allowed_hosts=[host]
        )

    if http_client is None:
        http_client = new_http_client()
    # Exactly Microsoft's format; kiota's own UA product is switched off so nothing is appended.
    http_client.headers["User-Agent"] = user_agent
    http_client = _install_middleware(http_client, gate or ThrottleGate(max_concurrency))

    adapter = GraphRequestAdapter(auth_provider, client=http_client)
    adapter.base_url = base_url  # set explicitly: the SDK's default would be the global cloud
    return GraphServiceClient(request_adapter=adapter)


def _install_middleware(http_client: httpx.AsyncClient, gate: ThrottleGate) -> httpx.AsyncClient:
    """msgraph's default middleware (same handlers and options as
    ``GraphClientFactory.create_with_default_middleware``) with the throttle gate right behind the
    RetryHandler, so every attempt — first or retried — waits for the client-wide gate."""
    options = {
        RetryHandlerOption.get_key(): RetryHandlerOption(
            delay=GRAPH_RETRY_BASE_DELAY_SECONDS, max_retries=GRAPH_MAX_RETRIES
        ),
        UserAgentHandlerOption.get_key(): UserAgentHandlerOption(enabled=False),
    }
    middleware = KiotaClientFactory.get_default_middleware(options)
    retry_at = next(i for i, m in enumerate(middleware) if isinstance(m, RetryHandler))
    middleware.insert(retry_at + 1, gate)
    middleware.append(GraphTelemetryHandler(
        options=GraphTelemetryHandlerOption(api_version=APIVersion.v1, sdk_version=MSGRAPH_VERSION)
    ))
    client: httpx.AsyncClient = GraphClientFactory.create_with_custom_middleware(middleware, client=http_client)
    return client
