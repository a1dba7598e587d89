"""A client-wide throttle gate: one 429/503 pauses every request, not just the one that got it.

kiota's RetryHandler sleeps per request, so with eight concurrent tasks the seven others keep hammering a
tenant that already said "slow down" — and SharePoint counts those against the app's resource units.
This middleware sits behind the RetryHandler (every attempt, retries included, passes through it):

* before sending, wait until the gate is open;
* at most ``max_concurrency`` requests in flight (Graph throttles per app per tenant);
* a 429 or 503 closes the gate for ``Retry-After`` seconds (decimals accepted: Graph's documented sample
  says ``2.128``, which kiota cannot parse).

Clock and sleep are passed in so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime

import httpx
import structlog
from kiota_http.middleware import BaseMiddleware

from ..ports import GraphTraffic

THROTTLE_STATUSES = frozenset({429, 503})
# Graph says to back off when a 429 comes without Retry-After; a short client-wide pause is enough
# because the RetryHandler adds its own exponential backoff on top for the request that got it.
PAUSE_WITHOUT_RETRY_AFTER_SECONDS = 2.0
# Never stall the whole daemon longer than this on one answer; a drive that is still throttled after
# the retries is marked incomplete and picked up by the next cycle.
MAX_PAUSE_SECONDS = 300.0

_log = structlog.get_logger(__name__)

# Graph counts a request against the app's resource units; the documented SharePoint costs are 1 for a
# single read (a GET), 2 for a write or a delta / multi-item read. A rough estimate, labelled as such.
RESOURCE_UNITS = {"GET": 1}
RESOURCE_UNITS_OTHER = 2


def estimated_units(method: str) -> int:
    return RESOURCE_UNITS.get(method, RESOURCE_UNITS_OTHER)


class ThrottleGate(BaseMiddleware):
    def __init__(self, max_concurrency: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        super().__init__()
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._clock = clock
        self._sleep = sleep
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._open_at = 0.0
        self.pauses: list[float] = []  # every pause decided, for logs and tests
        # for the metrics endpoint, read from its own thread: hence the lock
        self._answers: Counter[tuple[str, int]] = Counter()
        self._waits, self._waited = 0, 0.0
        self._units = 0.0
        self._traffic_lock = threading.Lock()

    def traffic(self) -> GraphTraffic:
        with self._traffic_lock:
            return GraphTraffic(dict(self._answers), self._waits, self._waited, self._units)

    def count_inner(self, method: str, status: int) -> None:
        """An answer inside a ``$batch``: Graph serves (and bills) each as a request of its own."""
        with self._traffic_lock:
            self._answers[(method, status)] += 1
            self._units += estimated_units(method)

    @property
    def closed_for(self) -> float:
        """Seconds until the gate opens (0 when open)."""
        return max(0.0, self._open_at - self._clock())

    def close_for(self, seconds: float) -> None:
        seconds = min(max(seconds, 0.0), MAX_PAUSE_SECONDS)
        self._open_at = max(self._open_at, self._clock() + seconds)
        self.pauses.append(seconds)
        with self._traffic_lock:
            self._waits += 1
            self._waited += seconds

    async def wait_open(self) -> None:
        while (remaining := self._open_at - self._clock()) > 0:
            await self._sleep(remaining)

    async def send(self, request: httpx.Request, transport: httpx.AsyncBaseTransport) -> httpx.Response:
        await self.wait_open()
        async with self._semaphore:
            # The gate may have closed while this request queued for a slot.
            await self.wait_open()
            response = await super().send(request, transport)
        with self._traffic_lock:
            self._answers[(request.method, response.status_code)] += 1
            # a $batch envelope is not billed: its inner requests are, each counted by count_inner
            if not request.url.path.endswith("/$batch"):
                self._units += estimated_units(request.method)
        if response.status_code in THROTTLE_STATUSES:
            delay = parse_retry_after(response.headers.get("Retry-After"), now=self._wall_now())
            self.close_for(PAUSE_WITHOUT_RETRY_AFTER_SECONDS if delay is None else delay)
            # The path only: query strings carry delta tokens, and headers carry the bearer token.
            _log.warning("graph_throttled", status=response.status_code, pause_seconds=self.pauses[-1],
                         method=request.method, path=request.url.path)
        return response

    @staticmethod
    def _wall_now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def parse_retry_after(value: str | None, *, now: dt.datetime) -> float | None:
    """Seconds from a Retry-After header: a (possibly decimal) number or an HTTP date; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())
