"""Shared fixtures. PostgreSQL: a throwaway cluster started from the machine's binaries (as a non-root
user: initdb refuses root), skipped with a reason only where the binaries are absent, never in CI."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings

from .pgcluster import for_tests

# Locally hypothesis explores new cases on every run; CI replays a fixed sequence so a merge is never
# blocked by a case nobody has seen (any counterexample found locally is fixed and pinned as a test).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def postgres_server():
    cluster = for_tests()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the throwaway cluster for each test."""
    return postgres_server.database()
