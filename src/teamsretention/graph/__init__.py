"""The Microsoft Graph adapter (msgraph-sdk + azure-identity) behind ``ports.GraphGateway``.

msgraph-sdk, kiota and azure-identity are imported only here; the gateway hands out ports/domain
dataclasses and raises only ``errors.GraphError`` subclasses.
"""

from .client import build_graph_client
from .credentials import NoCredential, SimulatorToken, build_credential, token_roles
from .gateway import MsGraphGateway, build_gateway, connect
from .throttle import ThrottleGate

__all__ = [
    "MsGraphGateway",
    "NoCredential",
    "SimulatorToken",
    "ThrottleGate",
    "build_credential",
    "build_gateway",
    "build_graph_client",
    "connect",
    "token_roles",
]
