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
    sharepoint_domain: str = "sharepoint.com"  # a tenant's sites: <tenant>.<domain>, OneDrives: <tenant>-my.<domain>


CLOUDS: dict[str, Cloud] = {
    "global": Cloud("global", "graph.microsoft.com", "login.microsoftonline.com", "sharepoint.com"),
    "usgov": Cloud("usgov", "graph.microsoft.us", "login.microsoftonline.us", "sharepoint.us"),
    # DoD has its own Graph host but signs in at the same authority as GCC High.
    "usgov-dod": Cloud("usgov-dod", "dod-graph.microsoft.us", "login.microsoftonline.us", "sharepoint-mil.us"),
    "china": Cloud("china", "microsoftgraph.chinacloudapi.cn", "login.chinacloudapi.cn", "sharepoint.cn"),
}


def tenant_link_problem(url: str, cloud: str, tenant: str | None = None) -> str | None:
    """Why ``url`` may not be put in a mail as a link to a recording, or None when it may: only https links
    to the tenant's own SharePoint and OneDrive hosts (``<tenant>.sharepoint.com``,
    ``<tenant>-my.sharepoint.com`` in the global cloud); with no tenant name configured, any host of the
    cloud's SharePoint domain."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    domain = CLOUDS[cloud].sharepoint_domain if cloud in CLOUDS else CLOUDS["global"].sharepoint_domain
    if parts.scheme != "https" or not host or parts.username or parts.password or parts.port not in (None, 443):
        return f"not a plain https link ({parts.scheme or 'no scheme'}://{host or '?'})"
    if tenant:
        allowed = {f"{tenant.lower()}.{domain}", f"{tenant.lower()}-my.{domain}"}
        return None if host in allowed else f"{host} is not one of the tenant's hosts ({', '.join(sorted(allowed))})"
    return None if host.endswith(f".{domain}") else f"{host} is not a SharePoint host of the {cloud} cloud (*.{domain})"


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
