"""Shared test doubles for the Graph adapter tests (imported by conftest and the test modules)."""

from __future__ import annotations

from typing import Any

from azure.core.credentials import AccessToken

GRAPH = "https://graph.microsoft.com/v1.0"
TOKEN = "eyJ0eXAi.secret-access-token.sig"
USER_AGENT = "NONISV|Contoso|teamsretention/0.1.0"


class StubCredential:
    """Just enough of an azure-identity TokenCredential."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(TOKEN, 4_102_444_800)

    def close(self) -> None:
        self.closed = True


class FakeClock:
    """Monotonic clock for the throttle gate; sleeping advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def graph_error(code: str, message: str) -> dict[str, Any]:
    """Graph's error body, as the wire contract and concepts/errors.md give it."""
    return {"error": {"code": code, "message": message, "innerError": {
        "date": "2024-05-02T06:00:00", "request-id": "94fb3b52-452a-4535-a601-69e0a90e3aa2",
        "client-request-id": "0f3c4b1e-1111-2222-3333-444455556666"}}}
