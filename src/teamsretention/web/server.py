"""The endpoint's HTTP server: the standard library's threading server in a daemon thread, so a scrape
never waits for the cycle's event loop and the cycle never waits for a scrape.

``/healthz`` answers 200 while the process runs; ``/readyz`` 200 or 503 with one line (``readiness``);
``/metrics`` the Prometheus text format (503 with one line when the store cannot be read). Nothing else
is served, requests are not logged (a scraper every 15 s would drown the cycle's lines), and no answer
carries a traceback or a secret.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from ..errors import ConfigError
from ..ports import GraphTraffic
from ..store.database import Database
from .metrics import metrics_registry
from .readiness import readiness

log = structlog.get_logger(__name__)
TEXT = "text/plain; charset=utf-8"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """A client that went away mid-answer: one line, not socketserver's traceback on stderr."""
        log.info("web.client_gone", client=client_address[0])


class HealthServer:
    def __init__(self, db: Database, *, host: str, port: int, clock: Callable[[], dt.datetime],
                 traffic: Callable[[], GraphTraffic] | None = None, origin: str = "web.host / web.port") -> None:
        self.db, self.host, self.clock = db, host, clock
        self.registry = metrics_registry(db, traffic)
        try:
            self._server = _QuietServer((host, port), self._handler())
        except OSError as exc:
            raise ConfigError(f"the health and metrics endpoint cannot listen on {host}:{port} ({origin}): "
                              f"{exc.strerror or exc}; choose a free port (web.port) or set web.enabled = false"
                              ) from None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> HealthServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="teamsretention-web", daemon=True)
        self._thread.start()
        log.info("web.started", url=self.url, paths="/healthz /readyz /metrics", store=self.db.location)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> HealthServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- answers ---------------------------------------------------------------------------------------
    def answer(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for ``path``: a failure nobody foresaw is one line too, never a traceback."""
        try:
            return self._answer(path)
        except Exception as exc:
            first = (str(exc) or type(exc).__name__).splitlines()[0]
            log.warning("web.request_failed", path=path, error=first, store=self.db.location)
            return 503, TEXT, f"{path} unavailable: {first}\n".encode()

    def _answer(self, path: str) -> tuple[int, str, bytes]:
        text = TEXT
        if path == "/healthz":
            return 200, text, b"ok: the teamsretention daemon is running\n"
        if path == "/readyz":
            verdict = readiness(self.db, self.clock())
            return (200 if verdict.ready else 503), text, (verdict.reason + "\n").encode()
        if path == "/metrics":
            try:
                return 200, CONTENT_TYPE_LATEST, generate_latest(self.registry)
            except Exception as exc:  # the store went away mid-scrape: one line, no traceback
                first = (str(exc) or type(exc).__name__).splitlines()[0]
                log.warning("web.metrics_failed", error=first, store=self.db.location)
                return 503, text, f"metrics unavailable: {first}\n".encode()
        return 404, text, b"not found: this endpoint serves /healthz, /readyz and /metrics\n"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "teamsretention"
            sys_version = ""

            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                status, content_type, body = server.answer(self.path.split("?", 1)[0])
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the standard library's name)
                pass

        return Handler
