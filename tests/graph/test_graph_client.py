"""Client wiring: national clouds, credentials, where the token may go, User-Agent, the throttle gate."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest
import respx
from azure.core.credentials import AccessToken
from graph_fakes import GRAPH, TOKEN, USER_AGENT, FakeClock, StubCredential, graph_error
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from teamsretention.endpoints import CLOUDS, graph_base_url, user_agent
from teamsretention.errors import ConfigError, ForbiddenError, GraphError, NotFoundError, TransientGraphError
from teamsretention.graph import (
    NoCredential,
    ThrottleGate,
    build_credential,
    build_gateway,
    build_graph_client,
)
from teamsretention.graph.raw import RawJson

pytestmark = pytest.mark.anyio

USER_SELECT = "$select=id,displayName,userPrincipalName,mail,accountEnabled,preferredLanguage"


@pytest.mark.parametrize(("cloud", "graph_url", "authority"), [
    ("global", "https://graph.microsoft.com/v1.0", "login.microsoftonline.com"),
    ("usgov", "https://graph.microsoft.us/v1.0", "login.microsoftonline.us"),
    ("usgov-dod", "https://dod-graph.microsoft.us/v1.0", "login.microsoftonline.us"),
    ("china", "https://microsoftgraph.chinacloudapi.cn/v1.0", "login.chinacloudapi.cn"),
])
async def test_national_cloud_requests_and_token_scope(cloud: str, graph_url: str, authority: str) -> None:
    assert graph_base_url(cloud) == graph_url and CLOUDS[cloud].authority_host == authority
    credential = StubCredential()
    with respx.mock(assert_all_mocked=True) as graph:
        route = graph.get(url__eq=f"{graph_url}/users/u1?{USER_SELECT}").respond(200, json={"id": "u1"})
        gateway = build_gateway(graph_base_url(cloud), credential, user_agent=USER_AGENT, max_concurrency=2)
        await gateway.get_user("u1")
        await gateway.aclose()

    assert route.call_count == 1  # no "/v1.0//users": the base URL has no trailing slash
    assert credential.scopes == [(f"{graph_url.removesuffix('/v1.0')}/.default",)]
    assert credential.closed


def test_credentials_use_the_cloud_authority() -> None:
    credential = build_credential("client_secret", tenant_id="t", client_id="c", client_secret="s3cr3t",
                                  authority_host=CLOUDS["china"].authority_host)
    assert "login.chinacloudapi.cn" in credential._client._authority  # type: ignore[attr-defined]


def test_missing_inputs_name_the_settings_and_never_the_secret() -> None:
    with pytest.raises(ConfigError) as caught:
        build_credential("client_secret", tenant_id="t", client_id=None, client_secret="s3cr3t")
    message = str(caught.value)
    assert "graph.auth = client_secret needs tenant.tenant_id, tenant.client_id and" in message
    assert "TEAMSRETENTION_GRAPH__CLIENT_SECRET or graph.client_secret_file" in message
    assert "missing: tenant.client_id" in message and "s3cr3t" not in message

    with pytest.raises(ConfigError, match="graph.certificate_path"):
        build_credential("certificate", tenant_id="t", client_id="c", certificate_path="/nonexistent/cert.pem",
                         certificate_password="hunter2")
    with pytest.raises(ConfigError, match="graph.auth = 'kerberos'"):
        build_credential("kerberos")


@pytest.mark.parametrize("credential", [NoCredential(), None])
def test_auth_none_is_refused_for_a_real_endpoint(credential: object) -> None:
    with pytest.raises(ConfigError, match="graph.auth = none is only allowed for a loopback"):
        build_graph_client("https://graph.microsoft.com/v1.0", credential, user_agent=USER_AGENT, max_concurrency=1)


async def test_auth_none_on_loopback_sends_no_authorization() -> None:
    with respx.mock(assert_all_mocked=True) as graph:
        route = graph.get(url__eq=f"http://127.0.0.1:8765/v1.0/users/u1?{USER_SELECT}").respond(200, json={"id": "u1"})
        gateway = build_gateway("http://127.0.0.1:8765/v1.0", build_credential("none"), user_agent=USER_AGENT,
                                max_concurrency=1)
        await gateway.get_user("u1")
        await gateway.aclose()
    assert "Authorization" not in route.calls.last.request.headers


async def test_bearer_token_goes_only_to_the_graph_host(graph: respx.MockRouter, credential: StubCredential) -> None:
    client = build_graph_client("https://graph.microsoft.com/v1.0", credential, user_agent=USER_AGENT,
                                max_concurrency=1)
    ours = graph.get(url__eq="https://graph.microsoft.com/v1.0/me").respond(200, json={"id": "me"})
    theirs = graph.get(url__eq="https://attacker.example/v1.0/me").respond(200, json={"id": "me"})

    await client.me.with_url("https://graph.microsoft.com/v1.0/me").get()
    await client.me.with_url("https://attacker.example/v1.0/me").get()

    assert ours.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in theirs.calls.last.request.headers
    assert ours.calls.last.request.headers["User-Agent"] == USER_AGENT
    assert user_agent("Contoso|AB", "1.2").startswith("NONISV|Contoso-AB|teamsretention/1.2")


async def test_one_throttled_answer_pauses_every_task(graph: respx.MockRouter, credential: StubCredential,
                                                      clock: FakeClock) -> None:
    """Task A is throttled for 5 s; task B, sent meanwhile, waits for the same gate."""
    sent_at: dict[str, list[float]] = {"a": [], "b": []}

    def answer(name: str, statuses: list[int]) -> object:
        def respond(request: httpx.Request) -> httpx.Response:
            sent_at[name].append(clock.now)
            status = statuses.pop(0)
            if status == 429:
                return httpx.Response(429, headers={"Retry-After": "5"},
                                      json=graph_error("TooManyRequests", "Please retry again later."))
            return httpx.Response(200, json={"id": name})
        return respond

    graph.get(url__eq=f"https://graph.microsoft.com/v1.0/users/a?{USER_SELECT}").mock(side_effect=answer("a", [429, 200]))
    graph.get(url__eq=f"https://graph.microsoft.com/v1.0/users/b?{USER_SELECT}").mock(side_effect=answer("b", [200]))
    gate = ThrottleGate(8, clock=clock, sleep=clock.sleep)
    gateway = build_gateway("https://graph.microsoft.com/v1.0", credential, user_agent=USER_AGENT,
                            max_concurrency=8, gate=gate)

    async def b_after_a() -> object:
        while not sent_at["a"]:
            await asyncio.sleep(0)
        return await gateway.get_user("b")

    a, b = await asyncio.gather(gateway.get_user("a"), b_after_a())
    await gateway.aclose()

    assert a is not None and b is not None
    assert sent_at["a"] == [1000.0, 1005.0]
    assert sent_at["b"] == [1005.0]  # without the shared gate B would have gone out at 1000
    assert gate.pauses == [5.0]


async def test_gate_limits_requests_in_flight(clock: FakeClock) -> None:
    in_flight, peak = 0, 0

    async def app(scope: dict, receive: object, send: object) -> None:  # a raw ASGI app that yields
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        in_flight -= 1
        response = JSONResponse({"id": "x"})
        await response(scope, receive, send)  # type: ignore[arg-type]

    http_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    gateway = build_gateway("http://127.0.0.1/v1.0", NoCredential(), user_agent=USER_AGENT, max_concurrency=2,
                            http_client=http_client, gate=ThrottleGate(2, clock=clock, sleep=clock.sleep))
    await asyncio.gather(*(gateway.get_user(f"u{i}") for i in range(6)))
    await gateway.aclose()

    assert peak == 2


async def test_runs_over_an_asgi_transport() -> None:
    """The simulator is served in-process through httpx.ASGITransport; the SDK pipeline must run over it."""
    seen: list[str] = []

    async def get_user(request: Request) -> JSONResponse:
        seen.append(str(request.url))
        return JSONResponse({"id": request.path_params["uid"], "userPrincipalName": "a@contoso.com",
                             "displayName": "A", "mail": "a@contoso.com", "accountEnabled": True})

    app = Starlette(routes=[Route("/v1.0/users/{uid}", get_user)])
    http_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    gateway = build_gateway("http://localhost/v1.0", NoCredential(), user_agent=USER_AGENT, max_concurrency=2,
                            http_client=http_client)
    person = await gateway.get_user("u1")
    await gateway.aclose()

    assert person is not None and person.upn == "a@contoso.com"
    assert seen == [f"http://localhost/v1.0/users/u1?{USER_SELECT}"]


class ClaimsCredential(StubCredential):
    """Records the claims each token was asked for (continuous access evaluation)."""

    def __init__(self) -> None:
        super().__init__()
        self.claims: list[str | None] = []

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.claims.append(kwargs.get("claims"))  # type: ignore[arg-type]
        return AccessToken(f"{TOKEN}-{len(self.claims)}", 4_102_444_800)


async def test_json_requests_carry_the_token_to_graph_only(graph: respx.MockRouter, credential: StubCredential) -> None:
    """Delta pages, batches and re-reads skip kiota's adapter but not its authentication: the bearer token goes
    to the Graph host, never to another host, and the User-Agent and telemetry headers are still sent."""
    client = build_graph_client(GRAPH, credential, user_agent=USER_AGENT, max_concurrency=1)
    ours = graph.get(url__eq=f"{GRAPH}/drives/d1/items/i1").respond(200, json={"id": "i1"})
    theirs = graph.get(url__eq="https://attacker.example/v1.0/drives/d1/items/i1").respond(200, json={"id": "i1"})
    raw = RawJson(client)

    assert await raw.get_json(f"{GRAPH}/drives/d1/items/i1") == {"id": "i1"}
    assert await raw.get_json("https://attacker.example/v1.0/drives/d1/items/i1") == {"id": "i1"}

    sent = ours.calls.last.request.headers
    assert sent["Authorization"] == f"Bearer {TOKEN}" and sent["User-Agent"] == USER_AGENT
    assert sent["Accept"] == "application/json" and "SdkVersion" in sent and "client-request-id" in sent
    assert "Authorization" not in theirs.calls.last.request.headers


async def test_a_claims_challenge_is_answered_once_with_a_token_for_those_claims(graph: respx.MockRouter) -> None:
    credential = ClaimsCredential()
    client = build_graph_client(GRAPH, credential, user_agent=USER_AGENT, max_concurrency=1)
    claims = base64.b64encode(b'{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}').decode()
    challenge = f'Bearer realm="", error="insufficient_claims", claims="{claims}"'
    route = graph.get(url__eq=f"{GRAPH}/drives/d1/items/i1").mock(side_effect=[
        httpx.Response(401, headers={"WWW-Authenticate": challenge}, json=graph_error("InvalidAuthenticationToken",
                                                                                      "Token was revoked.")),
        httpx.Response(200, json={"id": "i1"})])

    assert await RawJson(client).get_json(f"{GRAPH}/drives/d1/items/i1") == {"id": "i1"}
    assert route.call_count == 2
    assert credential.claims == [None, '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}']
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}-2"


async def test_a_401_without_claims_is_not_sent_again(graph: respx.MockRouter, credential: StubCredential) -> None:
    client = build_graph_client(GRAPH, credential, user_agent=USER_AGENT, max_concurrency=1)
    route = graph.get(url__eq=f"{GRAPH}/drives/d1/items/i1").respond(
        401, headers={"WWW-Authenticate": 'Bearer realm=""'}, json=graph_error("InvalidAuthenticationToken", "No."))
    with pytest.raises(GraphError) as caught:
        await RawJson(client).get_json(f"{GRAPH}/drives/d1/items/i1")
    assert route.call_count == 1 and caught.value.status == 401 and caught.value.code == "InvalidAuthenticationToken"


@pytest.mark.parametrize(("answer", "kind", "code", "message"), [
    (httpx.Response(404, json=graph_error("itemNotFound", "The resource could not be found.")), NotFoundError,
     "itemNotFound", "The resource could not be found."),
    (httpx.Response(502, headers={"Content-Type": "text/html; charset=utf-8"}, content=b"<html>Bad gateway</html>"),
     TransientGraphError, "unexpectedStatus", "the answer carried no Graph error (text/html, 24 bytes)"),
    (httpx.Response(403), ForbiddenError, "unexpectedStatus", "the answer had no body"),
    (httpx.Response(400, json={"value": []}), GraphError, "unexpectedStatus", "the answer carried no Graph error (application/json, "
     "12 bytes)"),
])
async def test_graph_answers_that_are_not_a_success_keep_their_status_code_and_message(
        graph: respx.MockRouter, credential: StubCredential, answer: httpx.Response, kind: type[GraphError],
        code: str, message: str) -> None:
    client = build_graph_client(GRAPH, credential, user_agent=USER_AGENT, max_concurrency=1)
    graph.post(url__eq=f"{GRAPH}/sites/s1/lists").mock(return_value=answer)
    with pytest.raises(GraphError) as caught:
        await RawJson(client).post_json(f"{GRAPH}/sites/s1/lists", {"displayName": "Assignments"})
    assert type(caught.value) is kind and caught.value.status == answer.status_code
    assert (caught.value.code, caught.value.message) == (code, message)


async def test_a_create_answered_503_is_not_sent_again_and_keeps_its_retry_after(
        graph: respx.MockRouter, credential: StubCredential, clock: FakeClock) -> None:
    """A POST that is not a batch may have been carried out: kiota's retry handler is told not to resend it."""
    gate = ThrottleGate(1, clock=clock, sleep=clock.sleep)
    client = build_graph_client(GRAPH, credential, user_agent=USER_AGENT, max_concurrency=1, gate=gate)
    route = graph.post(url__eq=f"{GRAPH}/sites/s1/lists").respond(
        503, headers={"Retry-After": "7"}, json=graph_error("serviceNotAvailable", "Try later."))
    with pytest.raises(TransientGraphError) as caught:
        await RawJson(client).post_json(f"{GRAPH}/sites/s1/lists", {"displayName": "Assignments"})
    assert route.call_count == 1 and caught.value.retry_after == 7.0 and gate.pauses == [7.0]


async def test_an_empty_success_is_no_body(graph: respx.MockRouter, credential: StubCredential) -> None:
    client = build_graph_client(GRAPH, credential, user_agent=USER_AGENT, max_concurrency=1)
    graph.get(url__eq=f"{GRAPH}/drives/d1/items/i1").respond(204)
    assert await RawJson(client).get_json(f"{GRAPH}/drives/d1/items/i1") is None


def test_a_kiota_release_that_hides_its_client_fails_at_start_saying_what_to_install(
        credential: StubCredential) -> None:
    client = build_graph_client(GRAPH, credential, user_agent=USER_AGENT, max_concurrency=1)
    del client.request_adapter._http_client  # as a kiota release that renames it would leave it
    with pytest.raises(ConfigError) as caught:
        RawJson(client)
    message = str(caught.value)
    assert "microsoft-kiota-http 1." in message and "msgraph-sdk 1." in message
    assert "nothing was sent to Graph" in message and "pip install -r deploy/requirements.lock" in message
