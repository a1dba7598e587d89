"""Fixtures of the cycle's end-to-end tests: a simulated tenant per test (see simworld.py)."""

from __future__ import annotations

from typing import Any

import pytest

from . import simworld


@pytest.fixture(autouse=True)
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    simworld.no_retry_delay(monkeypatch)


@pytest.fixture(params=[False, True], ids=["v1.0", "teams-facets"])
def make_world(tmp_path: Any, request: pytest.FixtureRequest) -> Any:
    yield from simworld.make_world(tmp_path, request)
