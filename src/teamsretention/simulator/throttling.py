"""The simulator's throttling model: a per-minute resource-unit bucket for the app (knob ``ru_per_minute``).

SharePoint limits each app in a tenant by resource units (RU) per minute (1,200 for the smallest tenants).
Here each minute of the model's own clock (monotonic, counted from the first request) holds ``ru_per_minute``
RU. A request whose cost does not fit what is left of the current minute answers 429 with Graph's error body
and ``Retry-After``: the whole seconds until the next minute starts, when the bucket is full again. Throttled
requests are charged too, as SharePoint documents ("throttled requests count towards usage limits"). Once 80%
of a minute's budget is used, answers carry ``RateLimit-Limit`` (the budget), ``RateLimit-Remaining`` (what is
left, never below 0) and ``RateLimit-Reset`` (whole seconds until the minute ends), as SharePoint does
(its preview RateLimit headers, IETF draft-03).

Inside a ``$batch`` each request is charged and throttled on its own (the envelope costs nothing), so a batch
answers 200 with a 429 (and its ``Retry-After``) for each request that did not fit.

One bucket for the simulator: it serves one app in one tenant. ``stats()`` reports each minute's accepted
and throttled RU and requests, for benchmarks (``GET /_simulator/throttle``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WINDOW_SECONDS = 60.0
RATE_LIMIT_HEADERS_AT = 0.8  # share of the budget used from which RateLimit-* headers are sent


@dataclass(slots=True)
class Minute:
    accepted_ru: int = 0
    throttled_ru: int = 0
    accepted: int = 0
    throttled: int = 0

    @property
    def used(self) -> int:
        return self.accepted_ru + self.throttled_ru


@dataclass(frozen=True, slots=True)
class Charge:
    """The outcome of charging one request: throttled (with its Retry-After) or not."""

    throttled: bool
    retry_after: int | None = None


class RuBucket:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._origin: float | None = None
        self._minutes: dict[int, Minute] = {}

    def _now(self) -> tuple[int, float]:
        """The current minute's index and the seconds left in it."""
        now = self._clock()
        if self._origin is None:
            self._origin = now
        elapsed = now - self._origin
        index = int(elapsed // WINDOW_SECONDS)
        return index, (index + 1) * WINDOW_SECONDS - elapsed

    def charge(self, cost: int, budget: int) -> Charge:
        """Charge ``cost`` RU against this minute's ``budget``; a request costing nothing is never throttled."""
        index, left_s = self._now()
        minute = self._minutes.setdefault(index, Minute())
        if cost > 0 and minute.used + cost > budget:
            minute.throttled_ru += cost
            minute.throttled += 1
            return Charge(True, max(1, math.ceil(left_s)))
        minute.accepted_ru += cost
        minute.accepted += 1
        return Charge(False)

    def adjust(self, delta: int) -> None:
        """A handler found the request costs ``delta`` RU more (or less) than its route's default: a delta
        query with a token costs 1, not 2."""
        index, _ = self._now()
        minute = self._minutes.setdefault(index, Minute())
        minute.accepted_ru = max(0, minute.accepted_ru + delta)

    def rate_limit_headers(self, budget: int) -> dict[str, str]:
        """RateLimit-* once 80% of this minute's budget is used, else none."""
        index, left_s = self._now()
        minute = self._minutes.get(index)
        used = minute.used if minute else 0
        if budget <= 0 or used < RATE_LIMIT_HEADERS_AT * budget:
            return {}
        return {"RateLimit-Limit": str(budget), "RateLimit-Remaining": str(max(0, budget - used)),
                "RateLimit-Reset": str(max(1, math.ceil(left_s)))}

    def stats(self) -> dict[str, object]:
        """Every minute so far (the last one may still be running: ``elapsedSeconds`` says how far the clock is
        from the first request): accepted and throttled resource units and requests."""
        elapsed = self._clock() - self._origin if self._origin is not None else 0.0
        return {"windowSeconds": WINDOW_SECONDS, "elapsedSeconds": elapsed,
                "minutes": [{"minute": i, "acceptedRu": m.accepted_ru, "throttledRu": m.throttled_ru,
                             "accepted": m.accepted, "throttled": m.throttled}
                            for i, m in sorted(self._minutes.items())]}

    def reset(self) -> None:
        self._origin = None
        self._minutes.clear()


async def throttle_control(request: Request) -> Response:
    """``GET /_simulator/throttle``: the knob and each minute's figures; ``DELETE`` starts afresh."""
    bucket: RuBucket = request.app.state.ru_bucket
    if request.method == "DELETE":
        bucket.reset()
        return Response(status_code=204)
    return JSONResponse({"ruPerMinute": request.app.state.sim.knobs.ru_per_minute, **bucket.stats()})


ROUTES = [Route("/_simulator/throttle", throttle_control, methods=["GET", "DELETE"])]
