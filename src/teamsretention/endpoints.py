"""Where Microsoft Graph is: national clouds, loopback endpoints, and how we introduce ourselves.

A token from one cloud's authority is worthless (and must not be sent) to another cloud's Graph, so the
pair is resolved in one place, for settings (validation) and the adapter (wiring) alike.
Source: https://learn.microsoft.com/graph/deployments
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

GRAPH_API_VERSION = "v1.0"


@dataclass(frozen=True, slots=True)
class Cloud:
    name: str
    graph_host: str  # https://<graph_host>/v1.0
    authority_host: str  # azure-identity's authority (a bare host, as AzureAuthorityHosts spells it)


CLOUDS: dict[str, Cloud] = {
    "global": Cloud("global", "graph.microsoft.com", "login.microsoftonline.com"),
    "usgov": Cloud("usgov", "graph.microsoft.us", "login.microsoftonline.us"),
    # DoD has its own Graph host but signs in at the same authority as GCC High.
    "usgov-dod": Cloud("usgov-dod", "dod-graph.microsoft.us", "login.microsoftonline.us"),
    "china": Cloud("china", "microsoftgraph.chinacloudapi.cn", "login.chinacloudapi.cn"),
}


def is_loopback_host(host: str | None) -> bool:
    """localhost, 127.0.0.0/8 or ::1: the only hosts allowed plain http and ``auth = "none"``."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname)


def graph_base_url(cloud: str, graph_endpoint: str | None = None) -> str:
    """Graph's versioned root without a trailing slash (msgraph-sdk would send ``/v1.0//users``).

    An explicit ``graph_endpoint`` (the simulator, an emulator) wins over ``cloud``; it may or may not carry
    a version segment. ``cloud`` must be a key of :data:`CLOUDS` (settings validate it)."""
    if graph_endpoint is None:
        return f"https://{CLOUDS[cloud].graph_host}/{GRAPH_API_VERSION}"
    endpoint = graph_endpoint.rstrip("/")
    last = urlsplit(endpoint).path.rstrip("/").rsplit("/", 1)[-1]
    return endpoint if last in (GRAPH_API_VERSION, "beta") else f"{endpoint}/{GRAPH_API_VERSION}"


def user_agent(org: str | None, version: str) -> str:
    """Microsoft asks for ``NONISV|<Org>|<App>/<version>`` so throttling can be attributed."""
    name = (org or "").replace("|", "-").strip() or "Unknown"
    return f"NONISV|{name}|teamsretention/{version}"
