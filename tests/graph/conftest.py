"""Fixtures for the Graph adapter tests: respx pins the wire, a stub credential stands in for
azure-identity (which does not use httpx), and a fake clock drives the throttle gate."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx
from graph_fakes import GRAPH, USER_AGENT, FakeClock, StubCredential
from kiota_http.middleware import RetryHandler

from teamsretention.graph import MsGraphGateway, ThrottleGate, build_gateway


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """kiota's RetryHandler would wait 3-5 s (or Retry-After) between attempts: make it zero. Records
    the status of every retryable answer it saw."""
    seen: list[int] = []

    def zero_delay(self: RetryHandler, retry_count: int, response: Any = None, delay: float = 0) -> float:
        if response is not None and response.status_code in RetryHandler.DEFAULT_RETRY_STATUS_CODES:
            seen.append(response.status_code)
        return 0

    monkeypatch.setattr(RetryHandler, "get_delay_time", zero_delay)
    return seen


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def credential() -> StubCredential:
    return StubCredential()


@pytest.fixture
def graph() -> Iterator[respx.MockRouter]:
    # assert_all_mocked: any request the test did not pin fails the test instead of leaving the machine.
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
async def gateway(graph: respx.MockRouter, credential: StubCredential,
                  clock: FakeClock) -> AsyncIterator[MsGraphGateway]:
    gate = ThrottleGate(4, clock=clock, sleep=clock.sleep)
    gw = build_gateway(GRAPH, credential, user_agent=USER_AGENT, max_concurrency=4,
                       http_client=httpx.AsyncClient(), gate=gate)
    yield gw
    await gw.aclose()
