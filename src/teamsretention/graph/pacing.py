"""Resource-unit pacing: every request of the client waits until its estimated cost fits the app's budget.

SharePoint and OneDrive throttle an application per tenant by resource units (RU) per minute (graph-notes.md,
"Throttling"): 1,200 RU/min for a tenant of up to 1,000 licences, 2,400 up to 5,000, 3,600 up to 15,000,
4,800 up to 50,000, 6,000 above. A first cycle on a large tenant asks for far more than that; sending it
at full speed only earns 429s (which count against the budget too) and a stop-and-go of Retry-After pauses.

The pacer keeps a sliding window: each request's cost is held from the moment it is sent until 60 s after its
answer arrived (Graph received it no later than that), and a request is sent only when the costs held plus its
own fit the budget. So no 60-second window of Graph's (fixed minutes or sliding) sees more than the budget,
whatever the latency and the concurrency. Requests queue in order (first come, first sent); only the one at
the head sleeps, so the time it sleeps is the wall time the client spent waiting on the budget.

When Graph sends ``RateLimit-Limit`` / ``RateLimit-Remaining`` / ``RateLimit-Reset`` (SharePoint does once an
app has used 80% of its budget; a preview, IETF draft-03), the pacer believes them: a limit below the
configured budget becomes the budget, and a remaining lower than the pacer's own reckoning (another process of
the same app spends from the same budget) is booked as used until the reset.

Clock and sleep are passed in so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import structlog

WINDOW_SECONDS = 60.0
# The smallest documented band (a tenant of up to 1,000 licences); the default of graph.ru_budget_per_minute.
SMALLEST_BAND_RU_PER_MINUTE = 1200
# A RateLimit-Reset longer than this is not believed (the budget is per minute).
MAX_RESET_SECONDS = WINDOW_SECONDS

_log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Ticket:
    """A request's hold on the budget, from its send until ``release`` (at its answer)."""

    cost: float
    released: bool = False


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    limit: float | None
    remaining: float
    reset_seconds: float


def read_rate_limit(headers: Mapping[str, str]) -> RateLimitHeaders | None:
    """``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds), ``RateLimit-Limit`` if present; None when
    either of the first two is absent or unreadable. Values are read up to the first ``,`` or ``;`` (draft-03
    allows a policy after the number)."""
    remaining = _number(headers.get("RateLimit-Remaining"))
    reset = _number(headers.get("RateLimit-Reset"))
    if remaining is None or reset is None:
        return None
    return RateLimitHeaders(_number(headers.get("RateLimit-Limit")), max(0.0, remaining),
                            min(max(0.0, reset), MAX_RESET_SECONDS))


def _number(value: str | None) -> float | None:
    if not value:
        return None
    head = value.split(",", 1)[0].split(";", 1)[0].strip()
    try:
        number = float(head)
    except ValueError:
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


class RuPacer:
    def __init__(self, budget_per_minute: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        if budget_per_minute <= 0:
            raise ValueError("budget_per_minute must be positive (no pacer at all means pacing off)")
        self.configured_budget = float(budget_per_minute)
        self.budget = float(budget_per_minute)
        self._clock, self._sleep = clock, sleep
        self._lock = asyncio.Lock()
        self._released_event = asyncio.Event()
        self._in_flight = 0.0
        self._released: deque[tuple[float, float]] = deque()  # (expires at, cost), in expiry order
        self._booked: list[tuple[float, int, float]] = []  # heap of (expires at, n, cost) from RateLimit-*
        self._booked_n = itertools.count()
        self._held_released = 0.0
        self.wait_seconds = 0.0  # wall time the head of the queue slept for the budget

    async def acquire(self, cost: float) -> Ticket:
        """Wait until ``cost`` fits the budget, then hold it. A cost above the whole budget is sent alone."""
        cost = max(0.0, cost)
        async with self._lock:
            while True:
                now = self._clock()
                wait = self._wait_for(min(cost, self.budget), now)
                if wait == 0.0:
                    break
                self._released_event.clear()
                if wait is None:  # only answers still in flight can free enough: wait for one
                    await self._released_event.wait()
                else:
                    await self._sleep(wait)
                self.wait_seconds += max(0.0, self._clock() - now)
            self._in_flight += cost
            return Ticket(cost)

    def release(self, ticket: Ticket) -> None:
        """The answer arrived: hold the cost for one more window from now."""
        if ticket.released:
            return
        ticket.released = True
        self._in_flight -= ticket.cost
        self._released.append((self._clock() + WINDOW_SECONDS, ticket.cost))
        self._held_released += ticket.cost
        self._released_event.set()

    def observe(self, headers: Mapping[str, str]) -> None:
        """Believe Graph's RateLimit-* headers when an answer carries them."""
        seen = read_rate_limit(headers)
        if seen is None:
            return
        if seen.limit is not None and 0 < seen.limit < self.budget:
            _log.warning("graph_budget_lowered", configured_ru_per_minute=self.configured_budget,
                         graph_ru_per_minute=seen.limit,
                         hint="Graph reports a smaller resource-unit budget than graph.ru_budget_per_minute; "
                              f"pacing to Graph's figure. Set graph.ru_budget_per_minute = {seen.limit:.0f} "
                              "to start at it")
            self.budget = seen.limit
        now = self._clock()
        self._expire(now)
        ours = self.budget - self._in_flight - self._held_released
        unseen = ours - seen.remaining
        if unseen > 0 and seen.reset_seconds > 0:
            # Graph has counted more than this client sent: book the difference until Graph's reset.
            heapq.heappush(self._booked, (now + seen.reset_seconds, next(self._booked_n), unseen))
            self._held_released += unseen

    def _expire(self, now: float) -> None:
        while self._released and self._released[0][0] <= now:
            self._held_released -= self._released.popleft()[1]
        while self._booked and self._booked[0][0] <= now:
            self._held_released -= heapq.heappop(self._booked)[2]
        if not self._released and not self._booked:
            self._held_released = 0.0  # no float drift once the window is empty

    def _wait_for(self, cost: float, now: float) -> float | None:
        """Seconds until ``cost`` fits (0.0: now), None when only in-flight answers can free enough."""
        self._expire(now)
        excess = self._in_flight + self._held_released + cost - self.budget
        if excess <= 1e-9:
            return 0.0
        freed = 0.0
        booked = sorted((at, c) for at, _, c in self._booked)
        for at, c in heapq.merge(self._released, booked):
            freed += c
            if freed >= excess - 1e-9:
                return max(at - now, 1e-3)
        return None
