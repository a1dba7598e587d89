"""A client-wide throttle gate: one 429/503 pauses every request, not just the one that got it.

kiota's RetryHandler sleeps per request, so with eight concurrent tasks the seven others keep hammering a
tenant that already said "slow down" — and SharePoint counts those against the app's resource units.
This middleware sits behind the RetryHandler (every attempt, retries included, passes through it):

* before sending, wait until the gate is open;
* at most ``max_concurrency`` requests in flight (Graph throttles per app per tenant);
* with a resource-unit budget (``graph.ru_budget_per_minute``), wait until the request's estimated cost fits
  it (pacing.py), and feed Graph's ``RateLimit-*`` headers back to the pacer (those of an answer inside a
  ``$batch`` too: ``batch.py``);
* a 429 or 503 closes the gate for ``Retry-After`` seconds (decimals accepted: Graph's documented sample
  says ``2.128``, which kiota cannot parse).

Clock and sleep are passed in so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

import httpx
import structlog
from kiota_http.middleware import BaseMiddleware

from ..ports import GraphTraffic
from .pacing import RuPacer

THROTTLE_STATUSES = frozenset({429, 503})
# Graph says to back off when a 429 comes without Retry-After; a short client-wide pause is enough
# because the RetryHandler adds its own exponential backoff on top for the request that got it.
PAUSE_WITHOUT_RETRY_AFTER_SECONDS = 2.0
# Never stall the whole daemon longer than this on one answer; a drive that is still throttled after
# the retries is marked incomplete and picked up by the next cycle.
MAX_PAUSE_SECONDS = 300.0

_log = structlog.get_logger(__name__)

# SharePoint's documented costs per Graph request (graph-notes.md, "Throttling"): 1 RU for a single-item read
# and a delta with a token, 2 for a multi-item read (a collection, a delta without a token) and for a create,
# update or delete, 5 for a permission call. A delta URL does not say whether its token starts a full
# enumeration (2 RU on Graph's side) or continues from a delta link (1 RU): it is counted as 2, so the
# estimate errs high and pacing never overdraws. A $batch envelope costs nothing: its inner requests do.
RU_SINGLE, RU_MULTI, RU_PERMISSION = 1, 2, 5
COLLECTION_SEGMENTS = frozenset({
    "users", "groups", "members", "transitivemembers", "owners", "memberof", "transitivememberof", "channels",
    "children", "lists", "items", "columns", "versions", "microsoft.graph.user", "microsoft.graph.group"})
# A $batch whose body cannot be read is counted as if it carried the most it may: 20 multi-item reads.
UNREADABLE_BATCH_UNITS = 20 * RU_MULTI


def estimated_units(method: str, url: str = "") -> int:
    """The estimated cost of one request (not a $batch: see ``request_units``). ``url`` absolute, or relative
    as inside a batch; without it, any GET counts as a single read."""
    if method.upper() != "GET":
        return RU_MULTI
    parts = urlsplit(url)
    segments = [s for s in unquote(parts.path).lower().split("/") if s]
    if "permissions" in segments or "permissions" in unquote(parts.query).lower():
        return RU_PERMISSION
    last = segments[-1] if segments else ""
    if last.startswith("delta") or last in COLLECTION_SEGMENTS:
        return RU_MULTI
    return RU_SINGLE


def is_batch(request: httpx.Request) -> bool:
    return request.url.path.endswith("/$batch")


def request_units(request: httpx.Request) -> int:
    """A request's estimated cost; for a $batch, the sum of its inner requests' (read from its body)."""
    if not is_batch(request):
        return estimated_units(request.method, str(request.url))
    try:
        inner = json.loads(request.content)["requests"]
        return sum(estimated_units(str(r["method"]), str(r["url"])) for r in inner)
    except (ValueError, TypeError, KeyError, httpx.RequestNotRead):
        return UNREADABLE_BATCH_UNITS


class ThrottleGate(BaseMiddleware):
    def __init__(self, max_concurrency: int, *, ru_budget_per_minute: float = 0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        """``ru_budget_per_minute``: 0 paces nothing (only Retry-After and the concurrency bound apply)."""
        super().__init__()
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._clock = clock
        self._sleep = sleep
        self.pacer = RuPacer(ru_budget_per_minute, clock=clock, sleep=sleep) if ru_budget_per_minute > 0 else None
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
            paced = self.pacer.wait_seconds if self.pacer is not None else 0.0
            return GraphTraffic(dict(self._answers), self._waits, self._waited, self._units, paced)

    def count_inner(self, method: str, status: int) -> None:
        """An answer inside a ``$batch``: Graph serves each as a request of its own (its cost was counted
        with the batch that carried it, from the batch's body)."""
        with self._traffic_lock:
            self._answers[(method, status)] += 1

    def observe(self, headers: Mapping[str, str]) -> None:
        """RateLimit-* headers read elsewhere (an answer inside a ``$batch``), for the pacer."""
        if self.pacer is not None:
            self.pacer.observe(headers)

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
        units = request_units(request)
        await self.wait_open()
        async with self._semaphore:
            # The gate may have closed while this request queued for a slot (or for the budget).
            await self.wait_open()
            ticket = await self.pacer.acquire(units) if self.pacer is not None else None
            await self.wait_open()
            try:
                response = await super().send(request, transport)
            finally:
                if ticket is not None and self.pacer is not None:
                    self.pacer.release(ticket)
        if self.pacer is not None:
            self.pacer.observe(response.headers)
        with self._traffic_lock:
            self._answers[(request.method, response.status_code)] += 1
            self._units += units  # a $batch's: its inner requests' (the envelope itself is not billed)
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
