"""Run the simulator on loopback with uvicorn in a background thread (demo, ``simulator serve``, bench).

``serve()`` returns only once the socket accepts connections and refuses any host that is not loopback:
the simulator has no authentication and must never be reachable from the network. The socket is bound here,
before uvicorn starts, so a port in use is one :class:`ListenError` naming host and port (uvicorn itself would
log a traceback-like error from its thread and exit 3, the code teamsretention keeps for a safety limit).
"""

from __future__ import annotations

import contextlib
import errno
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .knobs import Knobs
from .model import TenantModel

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
STARTUP_TIMEOUT_S = 10.0


class ListenError(RuntimeError):
    """The simulator could not listen on the address asked for (the port is in use, the address unknown)."""


def _shown(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (not yet listening: uvicorn's asyncio server calls listen())."""
    sock: socket.socket | None = None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a TIME_WAIT is no conflict
        sock.bind(address)
    except OSError as exc:
        if sock is not None:
            sock.close()
        reason = ("the port is already in use (another simulator or program listens there: stop it, or choose "
                  "another with --port)") if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise ListenError(f"cannot listen on {_shown(host, port)}: {reason}") from None
    return sock


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
    model: TenantModel, host: str = "127.0.0.1", port: int = 0, knobs: Knobs | None = None,
    *, access_log: bool = False,
) -> RunningSimulator:
    """Start serving ``model``; port 0 picks a free port. Call ``stop()`` on the result. Raises ListenError
    when host:port cannot be listened on."""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the simulator only listens on loopback, not on {host!r}")
    sock = _bind(host, port)
    app = create_app(model, knobs=knobs)
    config = uvicorn.Config(app, host=host, port=port, lifespan="off",
                            log_level="info" if access_log else "warning", access_log=access_log)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="graph-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ListenError(f"the simulator did not start on {_shown(host, port)}")
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
    model: TenantModel, host: str = "127.0.0.1", port: int = 8765, knobs: Knobs | None = None,
    on_ready: Callable[[RunningSimulator], None] | None = None,
) -> None:
    """Blocking variant for ``teamsretention simulator serve``: runs until interrupted (Ctrl-C / SIGTERM).
    ``on_ready`` is called once the socket accepts connections (the banner: never shown for a server that is not
    there). Raises ListenError when host:port cannot be listened on."""
    running = start(model, host, port, knobs, access_log=True)
    stopping = threading.Event()
    main = threading.current_thread() is threading.main_thread()  # signal handlers only there
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set()) if main else None
    try:
        if on_ready is not None:
            on_ready(running)
        while not stopping.is_set() and running._thread.is_alive():
            stopping.wait(0.5)  # wakes for SIGTERM; Ctrl-C raises KeyboardInterrupt here
    except KeyboardInterrupt:
        pass
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        running.stop()
