"""Build the azure-identity credential for ``graph.auth``.

Async credentials (``azure.identity.aio``) so that fetching a token never blocks the event loop; the
gateway closes them in ``aclose``. Secrets go into the credential and nowhere else: error messages name
settings, never values.
"""

from __future__ import annotations

import base64
import inspect
import json
from typing import Any, get_args

import httpx
from azure.core.credentials import AccessToken
from azure.identity.aio import (
    CertificateCredential,
    ClientSecretCredential,
    DefaultAzureCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from ..errors import ConfigError
from ..ports import AuthMode

AUTH_MODES: tuple[str, ...] = get_args(AuthMode)


class NoCredential:
    """``graph.auth = none``: no token at all. Only for a loopback endpoint (the simulator); the client
    factory refuses it for any other host and sends requests through an anonymous provider."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise RuntimeError("graph.auth = none has no token; it is only usable with an anonymous provider")

    async def close(self) -> None:
        return None


def build_credential(
    auth: str,
    *,
    tenant_id: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    certificate_path: str | None = None,
    certificate_password: str | None = None,
    authority_host: str | None = None,
) -> Any:
    """The credential for ``auth``; raises ConfigError naming the missing or broken setting."""
    authority: dict[str, str] = {"authority": authority_host} if authority_host else {}
    if auth == "client_secret":
        _require(auth, tenant_id=tenant_id, client_id=client_id, secret=client_secret,
                 secret_hint="TEAMSRETENTION_GRAPH__CLIENT_SECRET or graph.client_secret_file")
        assert tenant_id and client_id and client_secret
        return ClientSecretCredential(tenant_id, client_id, client_secret, **authority)
    if auth == "certificate":
        _require(auth, tenant_id=tenant_id, client_id=client_id, secret=certificate_path,
                 secret_hint="graph.certificate_path")
        assert tenant_id and client_id and certificate_path
        password: dict[str, str] = {"password": certificate_password} if certificate_password else {}
        try:
            # Reads and parses the PEM/PFX now, so a wrong path or password fails at startup.
            return CertificateCredential(tenant_id, client_id, certificate_path, **password, **authority)
        except (OSError, ValueError) as exc:
            # The exception text may quote the file; it never contains the password.
            raise ConfigError(
                f"graph.certificate_path = {certificate_path!r} could not be loaded "
                f"({type(exc).__name__}); check the file and TEAMSRETENTION_GRAPH__CERTIFICATE_PASSWORD"
            ) from None
    if auth == "managed_identity":
        # client_id selects a user-assigned identity; None means the system-assigned one.
        return ManagedIdentityCredential(client_id=client_id or None)
    if auth == "workload_identity":
        try:
            # tenant/client fall back on AZURE_TENANT_ID / AZURE_CLIENT_ID, the token file on
            # AZURE_FEDERATED_TOKEN_FILE (set by the AKS workload identity webhook).
            return WorkloadIdentityCredential(tenant_id=tenant_id or None, client_id=client_id or None,
                                              **authority)
        except ValueError as exc:
            raise ConfigError(
                "graph.auth = workload_identity needs tenant.tenant_id, tenant.client_id and "
                f"AZURE_FEDERATED_TOKEN_FILE ({exc})"
            ) from None
    if auth == "default":
        return DefaultAzureCredential(**authority)
    if auth == "none":
        return NoCredential()
    raise ConfigError(f"graph.auth = {auth!r} is not one of {' | '.join(AUTH_MODES)}")


def _require(auth: str, *, tenant_id: str | None, client_id: str | None, secret: str | None,
             secret_hint: str) -> None:
    missing = [name for name, value in (("tenant.tenant_id", tenant_id), ("tenant.client_id", client_id),
                                        (secret_hint, secret)) if not value]
    if missing:
        needs = f"tenant.tenant_id, tenant.client_id and {secret_hint}"
        raise ConfigError(f"graph.auth = {auth} needs {needs} (missing: {', '.join(missing)})")


async def token_roles(credential: Any, scope: str) -> frozenset[str] | None:
    """The application permissions (``roles`` claim) of the token the credential gets for ``scope``; None when
    there is no token (``auth = none``) or it cannot be read. The token is decoded, not verified: it only
    tells us what Graph will be told, and it never leaves this function."""
    if credential is None or isinstance(credential, NoCredential):
        return None
    try:
        token = credential.get_token(scope)
        if inspect.isawaitable(token):
            token = await token
        payload = str(token.token).split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except Exception:  # noqa: BLE001 - any failure means "cannot tell", never an error of its own
        return None
    roles = claims.get("roles") if isinstance(claims, dict) else None
    return frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset()


class SimulatorToken:
    """For ``check`` with ``graph.auth = none`` against the simulator on loopback: the JWT-shaped token its
    ``GET /_simulator/token`` issues, whose ``roles`` claim the scenario sets (knob ``app_roles``). Nothing is
    ever sent with it: it only stands in for the token a real credential would get, for reading its roles."""

    def __init__(self, endpoint_root: str, http_client: httpx.AsyncClient | None = None) -> None:
        self.url = endpoint_root.rstrip("/") + "/_simulator/token"
        self.http_client = http_client

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        client = self.http_client or httpx.AsyncClient(timeout=10)
        try:
            answer = await client.get(self.url)
            answer.raise_for_status()
            data = answer.json()
        finally:
            if self.http_client is None:
                await client.aclose()
        return AccessToken(str(data["access_token"]), int(data.get("expires_in", 3600)))
