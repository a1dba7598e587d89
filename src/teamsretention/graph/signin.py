"""Sign-in failures as an operator can act on them: one line naming the authority, the tenant and the likely fix.

azure-identity raises ``ClientAuthenticationError`` carrying Microsoft Entra ID's answer (an ``AADSTS`` code and
a long description with trace ids), and azure-core raises ``ServiceRequestError`` / ``ServiceResponseError``
when the authority cannot be reached (DNS, a refused connection, a proxy, a timeout). :class:`SignInGuard` wraps
the credential the Graph client asks for tokens, and turns each of these into :class:`~teamsretention.errors.
SignInError`: the cycle stops at once (every later Graph call would fail the same way) and the command prints one
line. What the library said stays in ``SignInError.detail`` for ``--debug``.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any, cast

from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError, ServiceResponseError

from ..errors import SignInError

_SECRET_VARIABLE = "TEAMSRETENTION_GRAPH__CLIENT_SECRET (or graph.client_secret_file)"
_AADSTS = re.compile(r"\bAADSTS(\d+)\b")


@dataclass(frozen=True)
class SignInContext:
    """What a message about a failed sign-in names (no secret in here)."""

    auth: str
    authority_host: str
    tenant_id: str | None
    client_id: str | None
    certificate_path: str | None = None

    @property
    def tenant(self) -> str:
        return f"tenant {self.tenant_id}" if self.tenant_id else "the tenant"

    @property
    def who(self) -> str:
        return f"{self.tenant} at {_host(self.authority_host)}"


def _host(authority: str) -> str:
    return authority.removeprefix("https://").removeprefix("http://").rstrip("/")


def _fix_for(code: str, description: str, ctx: SignInContext) -> str:
    """The likely fix for an AADSTS code, in the words of our settings."""
    app = f"tenant.client_id = {ctx.client_id}" if ctx.client_id else "tenant.client_id"
    lower = description.lower()
    if code == "7000215":
        return (f"the client secret is not valid: {_SECRET_VARIABLE} must hold the secret's Value (not its "
                "Secret ID) of the app registration's current secret")
    if code == "7000222":
        return (f"the client secret has expired: create a new one under the app registration's Certificates & "
                f"secrets and put it in {_SECRET_VARIABLE}")
    if code in ("90002", "900023", "90019"):
        return ("the tenant was not found: check tenant.tenant_id (the directory id or its onmicrosoft.com "
                "domain) and graph.cloud (a national cloud tenant is not in the global cloud)")
    if code == "700016":
        return (f"no application {app} in this tenant: check tenant.client_id (the Application (client) id) and "
                "that the app is registered in, or consented to by, tenant.tenant_id")
    if code == "7000112":
        return f"the application {app} is disabled in this tenant: enable it (Enterprise applications)"
    if code in ("700027", "50013", "700023"):
        cert = f" ({ctx.certificate_path})" if ctx.certificate_path else ""
        if "expired" in lower:
            return (f"the certificate{cert} has expired: upload a new certificate to the app registration and "
                    "point graph.certificate_path at it")
        return (f"the certificate{cert} is not one the app registration knows: upload its public key under "
                "Certificates & secrets, or point graph.certificate_path at the registered one")
    if code == "700024":
        return "the signed client assertion is outside its valid time: check this machine's clock (NTP)"
    if code == "7000218":
        return f"no client secret or certificate was sent: set {_SECRET_VARIABLE} or graph.certificate_path"
    if code in ("500011", "70011", "1002012"):
        return ("Entra ID does not know the Graph resource asked for: check graph.cloud and "
                "graph.graph_endpoint (they must belong to the same cloud)")
    if code == "53003":
        return "a Conditional Access policy blocked the sign-in: exclude this workload identity from it"
    if code == "50049":
        return "the authority is unknown: check graph.cloud"
    return "check tenant.tenant_id, tenant.client_id and the app registration's credentials"


def describe(exc: BaseException, ctx: SignInContext) -> SignInError:
    """The SignInError for an exception the credential raised."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ServiceRequestError | ServiceResponseError | OSError | TimeoutError):
        reason = _first_line(str(getattr(exc, "message", None) or exc)) or type(exc).__name__
        return SignInError(
            f"sign-in failed: the authority https://{_host(ctx.authority_host)} for {ctx.tenant} "
            f"could not be reached ({reason}); check DNS, the network or proxy (HTTPS_PROXY) of this machine, "
            "and graph.cloud", detail=detail)
    if isinstance(exc, ClientAuthenticationError):
        text = str(exc.message or exc)
        if ctx.auth in ("managed_identity", "workload_identity", "default"):
            return SignInError(f"sign-in with graph.auth = {ctx.auth} failed for {ctx.who}: "
                               f"{_shorten(_first_line(text))}", detail=detail)
        found = _AADSTS.search(text)
        if found is None:
            return SignInError(f"sign-in failed for {ctx.who}: {_shorten(_first_line(text))}; check "
                               "tenant.tenant_id, tenant.client_id and the app registration's credentials",
                               detail=detail)
        code = found.group(1)
        return SignInError(f"sign-in failed for {ctx.who} (AADSTS{code}): {_fix_for(code, text, ctx)}",
                           detail=detail)
    return SignInError(f"sign-in failed for {ctx.who}: {type(exc).__name__}: {_shorten(_first_line(str(exc)))}",
                       detail=detail)


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0].strip()


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SignInGuard:
    """An async token credential that raises SignInError instead of the identity library's exceptions."""

    def __init__(self, credential: Any, ctx: SignInContext) -> None:
        self.credential = credential
        self.ctx = ctx

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        try:
            token = self.credential.get_token(*scopes, **kwargs)
            if inspect.isawaitable(token):  # azure.identity.aio; a synchronous credential also works
                token = await token
        except (ClientAuthenticationError, ServiceRequestError, ServiceResponseError, OSError, TimeoutError) as exc:
            raise describe(exc, self.ctx) from exc
        return cast(AccessToken, token)

    async def close(self) -> None:
        result = self.credential.close()
        if inspect.isawaitable(result):
            await result
