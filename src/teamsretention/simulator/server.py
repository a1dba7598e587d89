"""Run the simulator on loopback with uvicorn in a background thread (demo, ``simulator serve``, bench).

``serve()`` returns only once the socket accepts connections and refuses any host that is not loopback:
the simulator has no authentication and must never be reachable from the network.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .knobs import Knobs
from .model import TenantModel

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
STARTUP_TIMEOUT_S = 10.0


@dataclass
class RunningSimulator:
    base_url: str  # "http://127.0.0.1:PORT", without a trailing slash; Graph paths are under /v1.0
    model: TenantModel
    app: Starlette
    _server: uvicorn.Server
    _thread: threading.Thread

    @property
    def graph_url(self) -> str:
        return self.base_url + "/v1.0"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT_S)


def start(
    model: TenantModel, host: str = "127.0.0.1", port: int = 0, knobs: Knobs | None = None
) -> RunningSimulator:
    """Start serving ``model``; port 0 picks a free port. Call ``stop()`` on the result."""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the simulator only listens on loopback, not on {host!r}")
    app = create_app(model, knobs=knobs)
    config = uvicorn.Config(app, host=host, port=port, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="graph-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the simulator did not start on {host}:{port}")
        time.sleep(0.01)  # real wall-clock wait for a real socket, not simulated time
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    running = RunningSimulator(f"http://{shown_host}:{bound_port}", model, app, server, thread)
    _wait_accepting(host, bound_port)
    return running


def _wait_accepting(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=STARTUP_TIMEOUT_S):
        pass


@contextlib.contextmanager
def serve(
    model: TenantModel, host: str = "127.0.0.1", port: int = 0, knobs: Knobs | None = None
) -> Iterator[RunningSimulator]:
    """``with serve(model) as sim: ... sim.base_url ...``; stops the server on exit."""
    running = start(model, host, port, knobs)
    try:
        yield running
    finally:
        running.stop()


def serve_forever(
    model: TenantModel, host: str = "127.0.0.1", port: int = 8765, knobs: Knobs | None = None
) -> None:
    """Blocking variant for ``teamsretention simulator serve``: runs until interrupted (Ctrl-C / SIGTERM)."""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the simulator only listens on loopback, not on {host!r}")
    uvicorn.run(create_app(model, knobs=knobs), host=host, port=port, lifespan="off", log_level="info")
