"""A failed sign-in as the operator sees it: one line naming the authority, the tenant and the likely fix, exit 1,
no traceback, no secret, no Graph request; ``--debug`` adds what Microsoft Entra ID answered.

The credential is a fake raising what azure-identity raises (``ClientAuthenticationError`` with Entra ID's error
text, ``ServiceRequestError`` for an authority that cannot be reached); Graph is pinned with respx, so a request
that should never be made would show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import respx
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from typer.testing import CliRunner

from teamsretention.cli import app
from teamsretention.domain import RunStatus
from teamsretention.graph import gateway as gateway_module
from teamsretention.store import Database, runs
from tests.output import assert_no_traceback, one_line_error

TENANT = "contoso.onmicrosoft.com"
CLIENT = "11111111-2222-3333-4444-555555555555"
SECRET = "Zx9~wrong-secret-value-0123456789"
TRACE = ("Trace ID: 2f6a1c9e-4b6f-4a7e-9c1d-0c3f5e2a7b00 Correlation ID: 9b3f0c1e-7d2a-4c5b-8e6f-1a2b3c4d5e6f "
         "Timestamp: 2026-12-01 05:00:01Z")


def entra(error: str, description: str) -> ClientAuthenticationError:
    """What azure-identity raises for an error answer of the token endpoint (aad_client_base._raise_for_error)."""
    return ClientAuthenticationError(message=f"Microsoft Entra ID error '({error}) {description} {TRACE}'")


INVALID_SECRET = entra("invalid_client", (
    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client "
    f"secret value, not the client secret ID, for a secret added to app '{CLIENT}'."))
EXPIRED_SECRET = entra("invalid_client", (
    f"AADSTS7000222: The provided client secret keys for app '{CLIENT}' are expired. Visit the Azure portal to "
    "create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for "
    "added security: https://aka.ms/certCreds."))
TENANT_NOT_FOUND = entra("invalid_request", (
    f"AADSTS90002: Tenant '{TENANT}' not found. Check to make sure you have the correct tenant ID and are signing "
    "into the correct cloud. Check with your subscription administrator, this may happen if there are no active "
    "subscriptions for the tenant."))
APP_NOT_IN_TENANT = entra("unauthorized_client", (
    f"AADSTS700016: Application with identifier '{CLIENT}' was not found in the directory 'Contoso'. This can "
    "happen if the application has not been installed by the administrator of the tenant or consented to by any "
    "user in the tenant. You may have sent your authentication request to the wrong tenant."))
EXPIRED_CERTIFICATE = entra("invalid_client", (
    "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint "
    "of key used by client: 'FEE7837AEDA22B9C13EF27ED6A4A5143F6B8F8E8', Found key 'Start=01/28/2025 16:00:00, "
    f"End=01/28/2026 16:00:00', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
    f"configured keys for app Id '{CLIENT}'.]"))
UNREACHABLE = ServiceRequestError(
    "Cannot connect to host login.microsoftonline.com:443 ssl:default [Name or service not known]")


class FailingCredential:
    """Stands in for azure.identity.aio.ClientSecretCredential / CertificateCredential."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.calls += 1
        raise self.error

    async def close(self) -> None:
        return None


@pytest.fixture
def graph():
    with respx.mock(assert_all_called=False) as mock:
        yield mock.get(url__startswith="https://graph.microsoft.com/").respond(200, json={"value": []})


def sign_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: Exception, *args: str,
            certificate: bool = False) -> Any:
    credential = FailingCredential(error)
    monkeypatch.setattr(gateway_module, "build_credential", lambda *a, **k: credential)
    env = {"TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path), "TEAMSRETENTION_TENANT__TENANT_ID": TENANT,
           "TEAMSRETENTION_TENANT__CLIENT_ID": CLIENT}
    if certificate:
        pem = tmp_path / "teamsretention.pem"
        pem.write_text("-----BEGIN CERTIFICATE-----\n")
        pem.chmod(0o600)  # a key file others can read is refused before any sign-in
        env |= {"TEAMSRETENTION_GRAPH__AUTH": "certificate", "TEAMSRETENTION_GRAPH__CERTIFICATE_PATH": str(pem)}
    else:
        env["TEAMSRETENTION_GRAPH__CLIENT_SECRET"] = SECRET
    result = CliRunner().invoke(app, [*args, "plan"], env=env, catch_exceptions=False)
    assert credential.calls >= 1
    return result


@pytest.mark.parametrize(("error", "expected"), [
    (INVALID_SECRET, ["AADSTS7000215", "client secret is not valid", "TEAMSRETENTION_GRAPH__CLIENT_SECRET",
                      "not its Secret ID"]),
    (EXPIRED_SECRET, ["AADSTS7000222", "client secret has expired", "create a new one"]),
    (TENANT_NOT_FOUND, ["AADSTS90002", "tenant was not found", "check tenant.tenant_id", "graph.cloud"]),
    (APP_NOT_IN_TENANT, ["AADSTS700016", f"no application tenant.client_id = {CLIENT} in this tenant"]),
    (UNREACHABLE, ["the authority https://login.microsoftonline.com", "could not be reached",
                   "Name or service not known", "check DNS, the network or proxy (HTTPS_PROXY)"]),
], ids=["invalid-secret", "expired-secret", "wrong-tenant", "app-not-in-tenant", "unreachable-authority"])
def test_a_failed_sign_in_is_one_line_naming_authority_tenant_and_fix(monkeypatch, tmp_path, graph, error,
                                                                      expected):
    result = sign_in(monkeypatch, tmp_path, error)

    assert result.exit_code == 1
    line = one_line_error(result)
    assert TENANT in line and "login.microsoftonline.com" in line
    for words in expected:
        assert words in line
    assert "--debug" in line and "Trace ID" not in line  # Entra ID's long text only on demand
    assert SECRET not in result.output
    assert not graph.called  # no token, no Graph request
    assert result.stdout == ""  # no plan printed: nothing that could read as "nothing to do"


def test_an_expired_certificate_names_the_certificate_to_replace(monkeypatch, tmp_path, graph):
    result = sign_in(monkeypatch, tmp_path, EXPIRED_CERTIFICATE, certificate=True)

    assert result.exit_code == 1
    line = one_line_error(result)
    assert "AADSTS700027" in line and "certificate" in line and "has expired" in line
    assert str(tmp_path / "teamsretention.pem") in line and "graph.certificate_path" in line
    assert not graph.called


def test_debug_shows_what_entra_id_answered_but_still_no_traceback_and_no_secret(monkeypatch, tmp_path, graph):
    result = sign_in(monkeypatch, tmp_path, INVALID_SECRET, "--debug")

    assert result.exit_code == 1
    assert_no_traceback(result)
    assert "AADSTS7000215" in result.stderr and "Correlation ID: 9b3f0c1e" in result.stderr  # the detail
    assert SECRET not in result.output


def test_the_failed_sign_in_is_on_record_and_nothing_else_happened(monkeypatch, tmp_path, graph):
    sign_in(monkeypatch, tmp_path, TENANT_NOT_FOUND)

    db = Database(f"sqlite:///{tmp_path}/teamsretention.db")
    try:
        (run,) = runs.list_all(db)
    finally:
        db.dispose()
    assert run.status is RunStatus.FAILED and run.exit_code == 1
    assert "AADSTS90002" in (run.message or "") and SECRET not in (run.message or "")
    assert run.stats["tracked"] == 0 and run.stats["deleted"] == 0 and run.stats["digests_sent"] == 0


def test_an_unreadable_certificate_is_a_configuration_error_before_any_sign_in(tmp_path, graph):
    pem = tmp_path / "broken.pem"
    pem.write_text("not a certificate at all")
    env = {"TEAMSRETENTION_STATE__DIRECTORY": str(tmp_path), "TEAMSRETENTION_TENANT__TENANT_ID": TENANT,
           "TEAMSRETENTION_TENANT__CLIENT_ID": CLIENT, "TEAMSRETENTION_GRAPH__AUTH": "certificate",
           "TEAMSRETENTION_GRAPH__CERTIFICATE_PATH": str(pem),
           "TEAMSRETENTION_GRAPH__CERTIFICATE_PASSWORD": "pfx-pa55word"}

    result = CliRunner().invoke(app, ["plan"], env=env, catch_exceptions=False)

    assert result.exit_code == 2
    assert_no_traceback(result)
    assert "graph.certificate_path" in result.stderr and "broken.pem" in result.stderr
    assert "pfx-pa55word" not in result.output
    assert not graph.called
