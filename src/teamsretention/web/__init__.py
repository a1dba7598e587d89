"""The optional health and metrics endpoint (``[web]``): ``/healthz``, ``/readyz`` and ``/metrics``.

``readiness`` decides whether the daemon is ready and says why not; ``metrics`` turns the store's record of
the cycles into Prometheus metrics at each scrape; ``server`` serves both from a thread of the daemon
(the standard library's HTTP server: no web framework in the daemon).
"""

from .metrics import StoreCollector, metrics_registry
from .readiness import Readiness, readiness
from .server import HealthServer

__all__ = ["HealthServer", "Readiness", "StoreCollector", "metrics_registry", "readiness"]
