"""The Microsoft Graph adapter (msgraph-sdk + azure-identity) behind ``ports.GraphGateway``."""

from .client import build_graph_client, format_user_agent
from .clouds import authority_for, build_base_url, is_loopback_url
from .credentials import NoCredential, build_credential
from .gateway import MsGraphGateway, build_gateway
from .throttle import ThrottleGate

__all__ = [
    "MsGraphGateway",
    "NoCredential",
    "ThrottleGate",
    "authority_for",
    "build_base_url",
    "build_credential",
    "build_gateway",
    "build_graph_client",
    "format_user_agent",
    "is_loopback_url",
]
