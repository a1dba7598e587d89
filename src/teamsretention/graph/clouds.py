"""National clouds: which Graph endpoint and which sign-in authority belong together.

A token from one cloud's authority is worthless (and must not be sent) to another cloud's Graph, so the
pair is resolved in one place. Source: learn.microsoft.com/graph/deployments
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ConfigError

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

_LOOPBACK_NAMES = {"localhost"}


def resolve_cloud(cloud: str) -> Cloud:
    try:
        return CLOUDS[cloud]
    except KeyError:
        known = " | ".join(CLOUDS)
        raise ConfigError(f"graph.cloud = {cloud!r} is not a known cloud ({known})") from None


def build_base_url(cloud: str = "global", graph_endpoint: str | None = None) -> str:
    """The Graph base URL, ``https://host/v1.0`` without a trailing slash.

    msgraph-sdk joins ``base_url + "/users"``: a trailing slash would give ``/v1.0//users``.
    An explicit ``graph_endpoint`` (a simulator, an emulator) wins over ``cloud``; it may or may not carry
    the ``/v1.0`` suffix.
    """
    if graph_endpoint:
        parts = urlsplit(graph_endpoint.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(f"graph.graph_endpoint = {graph_endpoint!r} is not an http(s) URL")
        if parts.scheme == "http" and not is_loopback_url(graph_endpoint):
            # kiota's token provider refuses plain http except on loopback; fail at startup instead.
            raise ConfigError(
                f"graph.graph_endpoint = {graph_endpoint!r}: plain http is only allowed on a loopback address"
            )
        path = parts.path.rstrip("/")
        if not path.endswith(f"/{GRAPH_API_VERSION}"):
            path = f"{path}/{GRAPH_API_VERSION}"
        return f"{parts.scheme}://{parts.netloc}{path}"
    return f"https://{resolve_cloud(cloud).graph_host}/{GRAPH_API_VERSION}"


def authority_for(cloud: str) -> str:
    return resolve_cloud(cloud).authority_host


def is_loopback_url(url: str) -> bool:
    """True for localhost / 127.0.0.0/8 / ::1 — the only places an unauthenticated endpoint may live."""
    host = urlsplit(url).hostname
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
