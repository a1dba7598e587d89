"""Every CLI test: kiota's retry handler waits no real time (its retries still happen and are counted)."""

from __future__ import annotations

import pytest
from kiota_http.middleware import RetryHandler


@pytest.fixture(autouse=True)
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RetryHandler, "get_delay_time", lambda self, *a, **k: 0)
