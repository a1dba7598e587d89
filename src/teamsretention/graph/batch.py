"""GET requests in Graph JSON batches: ``POST /$batch`` with up to 20 GETs in one HTTP request
(learn.microsoft.com/graph/json-batching): the label re-reads (``GET /drives/{d}/items/{i}
?$expand=retentionLabel``), the OneDrive lookups (``GET /users/{id}/drive``) and the mailbox checks
(``GET /users/{id}/mailboxSettings``).

One POST instead of twenty GETs saves the client's per-request cost (kiota's middleware chain, httpcore);
it saves Graph nothing: each inner request is throttled and billed on its own (1 resource unit each).

:class:`GetBatches` hands each inner answer back as the single request path would have seen it: the body of
a 2xx (None when it is empty), or the GraphError its status maps to (404 NotFoundError, 423 LockedError, 403
ForbiddenError, ...), Graph's code and message kept; each caller then reads it as its single request did.
Inner 429/503/504 are what kiota's RetryHandler would retry for a single GET: here the requests that got
them are sent again in a later batch, at most ``GRAPH_MAX_RETRIES`` times, and a 429/503's ``Retry-After``
closes the client-wide throttle gate first, so the next POST (and every other request of the client) waits
for it. Graph also answers the whole POST with 429 when a batch is throttled as such: that is the outer
request, which the RetryHandler and the gate handle like any other. A POST that fails in the end fails
every request it carried (the caller fails closed).

For a label re-read (:class:`ItemBatches`), as for ``Drives.reread_item``: 200 with a driveItem is its
state, 404 is "gone" (None), an empty 200 or a body that is not a driveItem is a malformed answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Generic, TypeVar

import structlog

from ..domain import RecordingRef
from ..errors import GraphError, NotFoundError, graph_error_for
from ..ports import LabelRead
from .client import GRAPH_MAX_RETRIES
from .pacing import read_rate_limit
from .paging import Links
from .raw import RawJson
from .throttle import PAUSE_WITHOUT_RETRY_AFTER_SECONDS, THROTTLE_STATUSES, ThrottleGate, parse_retry_after
from .transform import MALFORMED, item_state_from_json

BATCH_LIMIT = 20  # Graph's documented maximum of requests in one JSON batch
RETRIED_STATUSES = frozenset({429, 503, 504})  # as kiota's RetryHandler retries a single request
THROTTLED = 429
FAILED_DEPENDENCY = 424  # what Graph's throttling page says a batch with a throttled request in it answers
REREAD_QUERY = "$expand=retentionLabel"
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")

_log = structlog.get_logger(__name__)


K = TypeVar("K", bound=Hashable)
# An inner request's answer as its single GET would have ended: the 2xx body (None when empty), or its error.
Answer = dict[str, Any] | None | GraphError


class GetBatches(Generic[K]):
    def __init__(self, raw: RawJson, links: Links, gate: ThrottleGate | None) -> None:
        """``gate``: the client's throttle gate (see throttle.py); an inner 429/503 closes it. Without one
        (a client built elsewhere), a throttled request is still sent again, only without the pause."""
        self._raw, self._links, self._gate = raw, links, gate

    async def get(self, urls: Mapping[K, str]) -> dict[K, Answer]:
        """``urls``: per key, the absolute URL of its GET (from ``Links.url``). Per key, its answer."""
        wanted = list(urls)
        chunks = [wanted[at:at + BATCH_LIMIT] for at in range(0, len(wanted), BATCH_LIMIT)]
        results: dict[K, Answer] = {}
        # Batches go out concurrently; the throttle gate bounds how many are in flight (graph.max_concurrency).
        for answered in await asyncio.gather(*(self._get_chunk({k: urls[k] for k in chunk}) for chunk in chunks)):
            results.update(answered)
        return {key: results[key] for key in wanted}

    async def _get_chunk(self, chunk: dict[K, str]) -> dict[K, Answer]:
        results: dict[K, Answer] = {}
        pending = chunk
        for attempt in range(GRAPH_MAX_RETRIES + 1):
            last = attempt == GRAPH_MAX_RETRIES
            retry: dict[K, str] = {}
            for key, status, answer in await self._post(pending):
                if isinstance(answer, GraphError) and status in RETRIED_STATUSES and not last:
                    retry[key] = pending[key]
                else:
                    results[key] = answer
            if not retry:
                break
            pending = retry
        return results

    async def _post(self, chunk: dict[K, str]) -> list[tuple[K, int, Answer]]:
        """One ``POST /$batch``: (key, inner status, its answer) per request."""
        by_id = {str(n): key for n, key in enumerate(chunk, start=1)}
        body = {"requests": [{"id": rid, "method": "GET", "url": self._relative(chunk[key])}
                             for rid, key in by_id.items()]}
        try:
            answer = await self._raw.post_json(self._links.url("$batch"), body, retry=True)
        except GraphError as exc:
            if exc.status == FAILED_DEPENDENCY:
                # [?] Graph's throttling page says a batch with a throttled request inside fails with 424 as a
                # whole (the batching page says 200 with an inner 429): both are handled, this one as a throttle.
                self._close_gate([exc.retry_after])
                return [(key, THROTTLED, exc) for key in chunk]
            # The POST itself failed after kiota's retries (429/503/504 included): not sent again here. Its error
            # is no inner answer (a 404 of the POST says nothing about an item or a user), so none of the requests
            # it carried can be read as "gone" or "has none": each fails (the caller fails closed).
            failed = GraphError(exc.status, exc.code or "batchFailed", f"the $batch request carrying it failed: "
                                f"{exc.message}"[:400], retry_after=exc.retry_after)
            return [(key, 0, failed) for key in chunk]
        responses = (answer or {}).get("responses")
        if not isinstance(responses, list):
            error = GraphError(200, MALFORMED, "Graph answered a $batch without a 'responses' list")
            return [(key, 200, error) for key in chunk]
        seen: dict[str, dict[str, Any]] = {}
        for response in responses:  # Graph documents no order: match by id
            if isinstance(response, dict) and str(response.get("id")) in by_id:
                seen[str(response["id"])] = response
        out: list[tuple[K, int, Answer]] = []
        throttled_for: list[float | None] = []
        self._observe_rate_limits(seen.values())
        for rid, key in by_id.items():
            response = seen.get(rid)
            if response is None:
                out.append((key, 200, GraphError(200, MALFORMED, f"Graph's $batch answer has no response for "
                                                 f"request {rid} ({self._relative(chunk[key])})")))
                continue
            status, result, retry_after = _inner_result(response)
            if self._gate is not None:
                self._gate.count_inner("GET", status)
            if status in THROTTLE_STATUSES:
                throttled_for.append(retry_after)
            out.append((key, status, result))
        if throttled_for:
            self._close_gate(throttled_for)
        return out

    def _observe_rate_limits(self, responses: Iterable[Mapping[str, Any]]) -> None:
        """Graph documents RateLimit-* on answers, not whether an inner answer carries them: believed when it
        does (the outer answer's go to the pacer from the gate). Of several, the one with the least left."""
        if self._gate is None:
            return
        seen = []
        for response in responses:
            headers = {name: value for name in RATE_LIMIT_HEADERS
                       if (value := _header(response.get("headers"), name)) is not None}
            limits = read_rate_limit(headers)
            if limits is not None:
                seen.append((limits.remaining, headers))
        if seen:
            self._gate.observe(min(seen, key=lambda s: s[0])[1])

    def _close_gate(self, retry_afters: list[float | None]) -> None:
        """One pause for the whole client, as long as the longest Retry-After asked for (Graph documents no
        inner Retry-After: without one, the gate's usual pause)."""
        if self._gate is None:
            return
        known = [s for s in retry_afters if s is not None]
        self._gate.close_for(max(known) if known else PAUSE_WITHOUT_RETRY_AFTER_SECONDS)
        _log.warning("graph_throttled", status=THROTTLED, pause_seconds=self._gate.pauses[-1], method="GET",
                     path="/$batch (a request inside)")

    def _relative(self, url: str) -> str:
        """The inner request's URL, relative to the version (``/drives/...``), as JSON batching wants it."""
        assert url.startswith(self._links.base_url), f"not a Graph URL of this client: {url}"
        return url[len(self._links.base_url):]


class ItemBatches:
    def __init__(self, gets: GetBatches[RecordingRef], links: Links) -> None:
        self._gets, self._links = gets, links

    async def read(self, refs: Iterable[RecordingRef]) -> dict[RecordingRef, LabelRead]:
        """Each item's state with its label, None when it is gone, or the GraphError its read ended in."""
        answers = await self._gets.get({ref: self._links.url("drives", ref.drive_id, "items", ref.item_id,
                                                             query=REREAD_QUERY) for ref in dict.fromkeys(refs)})
        return {ref: _label_read(answer) for ref, answer in answers.items()}


def _label_read(answer: Answer) -> LabelRead:
    if isinstance(answer, NotFoundError):
        return None
    if isinstance(answer, GraphError):
        return answer
    if not answer:  # as the single path: an empty 200 is no proof the item is gone
        return GraphError(200, MALFORMED, "Graph answered the re-read with an empty body")
    try:
        return item_state_from_json(answer)
    except GraphError as exc:
        return exc


def _inner_result(response: Mapping[str, Any]) -> tuple[int, Answer, float | None]:
    status = response.get("status")
    if not isinstance(status, int):
        return 200, GraphError(200, MALFORMED, "a $batch response without a status"), None
    body = response.get("body")
    headers = response.get("headers")
    retry_after = parse_retry_after(_header(headers, "Retry-After"), now=dt.datetime.now(dt.UTC))
    if 200 <= status < 300:
        if body is not None and not isinstance(body, dict):
            return status, GraphError(200, MALFORMED, f"Graph answered {status} inside a $batch with a body that "
                                      "is not a JSON object"), None
        return status, body, None  # no body: None, as a single GET's empty answer; ``{}`` stays what it is
    error = body.get("error") if isinstance(body, dict) else None
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    message = str(error.get("message") or "") if isinstance(error, dict) else ""
    if not message:
        message = f"Graph answered {status} to a request inside a $batch"
    # 404 maps to NotFoundError, 429 and 5xx to TransientGraphError, 423 to LockedError, 403 to ForbiddenError:
    # as a single GET's would.
    return status, graph_error_for(status, code, message[:400], retry_after=retry_after), retry_after


def _header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name.lower():
            return str(value)
    return None
