"""graph.signin: the identity library's failures become one SignInError naming authority, tenant and fix.

One test drives the real azure-identity ClientSecretCredential against an authority on a loopback port nothing
listens on (a real refused connection, its retries not waited for); the others use a fake credential raising
the library's own exception types with Entra ID's texts.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, ServiceResponseError
from azure.core.pipeline.policies import AsyncRetryPolicy

from teamsretention.errors import SignInError
from teamsretention.graph import connect
from teamsretention.graph.signin import SignInContext, SignInGuard
from teamsretention.ports import GraphConnection

pytestmark = pytest.mark.anyio
CTX = SignInContext(auth="client_secret", authority_host="login.microsoftonline.us", tenant_id="contoso.us",
                    client_id="app-1")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Raising:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise self.error

    async def close(self) -> None:
        return None


async def test_the_real_credential_against_an_unreachable_authority(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_wait(self: AsyncRetryPolicy, *args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(AsyncRetryPolicy, "sleep", no_wait)  # azure-core's backoff between its retries
    port = closed_port()
    gateway = connect(GraphConnection(
        base_url="https://graph.microsoft.com/v1.0", authority_host=f"127.0.0.1:{port}", auth="client_secret",
        user_agent="NONISV|Contoso|teamsretention/0", max_concurrency=1, tenant_id="contoso.onmicrosoft.com",
        client_id="app-1", client_secret="s3cret-value"))
    try:
        with pytest.raises(SignInError) as caught:
            async for _ in gateway.users_delta(None):
                pass
    finally:
        await gateway.aclose()

    message = str(caught.value)
    assert f"the authority https://127.0.0.1:{port} for tenant contoso.onmicrosoft.com could not be reached" in message
    assert "check DNS, the network or proxy" in message and "\n" not in message
    assert "ServiceRequestError" in caught.value.detail and "s3cret-value" not in message + caught.value.detail


async def test_an_answer_cut_off_on_the_way_back_is_an_unreachable_authority_too() -> None:
    with pytest.raises(SignInError) as caught:
        await SignInGuard(Raising(ServiceResponseError("Connection reset by peer")), CTX).get_token("scope")
    assert str(caught.value).startswith("sign-in failed: the authority https://login.microsoftonline.us for tenant "
                                        "contoso.us could not be reached (Connection reset by peer)")


async def test_an_unknown_aadsts_code_still_names_tenant_authority_and_what_to_check() -> None:
    error = ClientAuthenticationError(message="Microsoft Entra ID error '(invalid_request) AADSTS9999999: Something "
                                              "new. Trace ID: x'")
    with pytest.raises(SignInError) as caught:
        await SignInGuard(Raising(error), CTX).get_token("scope")
    assert str(caught.value) == ("sign-in failed for tenant contoso.us at login.microsoftonline.us (AADSTS9999999): "
                                 "check tenant.tenant_id, tenant.client_id and the app registration's credentials")


async def test_a_managed_identity_failure_says_which_auth_mode_failed() -> None:
    ctx = SignInContext(auth="managed_identity", authority_host="login.microsoftonline.com", tenant_id=None,
                        client_id=None)
    error = ClientAuthenticationError(message="ManagedIdentityCredential authentication unavailable, no response "
                                              "from the IMDS endpoint.\nMore detail here")
    with pytest.raises(SignInError) as caught:
        await SignInGuard(Raising(error), ctx).get_token("scope")
    assert str(caught.value) == ("sign-in with graph.auth = managed_identity failed for the tenant at "
                                 "login.microsoftonline.com: ManagedIdentityCredential authentication unavailable, "
                                 "no response from the IMDS endpoint.")
