"""sendMail: the body msgraph-sdk really sends, 202 only, and never a second attempt."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from graph_fakes import GRAPH, TOKEN, graph_error

from teamsretention.errors import GraphError, SenderRefused, TransientGraphError
from teamsretention.graph import MsGraphGateway
from teamsretention.ports import OutgoingMail

pytestmark = pytest.mark.anyio

SEND = f"{GRAPH}/users/retention@contoso.com/sendMail"
MAIL = OutgoingMail(to=["ryan@contoso.com"], subject="Inspelningar raderas snart",
                    text="Hej Ryan", html="<p>Hej Ryan</p>", language="sv")


async def test_send_mail_posts_html_body_saved_to_sent_items(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    route = graph.post(url__eq=SEND).respond(202)

    await gateway.send_mail("retention@contoso.com", MAIL)

    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"].startswith("application/json")
    # As user-sendmail documents it (msgraph-sdk's models capitalised the two top-level keys).
    assert json.loads(request.content) == {
        "message": {
            "subject": "Inspelningar raderas snart",
            "body": {"contentType": "html", "content": "<p>Hej Ryan</p>"},
            "toRecipients": [{"emailAddress": {"address": "ryan@contoso.com"}}],
        },
        "saveToSentItems": True,
    }


async def test_a_503_on_send_mail_is_not_retried(gateway: MsGraphGateway, graph: respx.MockRouter,
                                                 no_retry_delay: list[int]) -> None:
    route = graph.post(url__eq=SEND).respond(503, headers={"Retry-After": "5"},
                                             json=graph_error("ServiceUnavailable", "Try again later"))

    with pytest.raises(TransientGraphError) as caught:
        await gateway.send_mail("retention@contoso.com", MAIL)

    assert route.call_count == 1 and no_retry_delay == []  # exactly one request: no duplicate digest
    assert caught.value.code == "ServiceUnavailable" and caught.value.retry_after == 5


async def test_a_429_on_send_mail_is_sent_again_after_the_pause(gateway: MsGraphGateway, graph: respx.MockRouter,
                                                                clock) -> None:
    # Throttling rejects a request before Exchange processes it, so a resend cannot duplicate the digest.
    route = graph.post(url__eq=SEND).mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "3"}, json=graph_error("TooManyRequests", "slow down")),
        httpx.Response(202),
    ])

    await gateway.send_mail("retention@contoso.com", MAIL)

    assert route.call_count == 2
    assert json.loads(route.calls[0].request.content) == json.loads(route.calls[1].request.content)


async def test_persistent_429_on_send_mail_gives_up(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    route = graph.post(url__eq=SEND).respond(429, headers={"Retry-After": "1"},
                                             json=graph_error("TooManyRequests", "slow down"))

    with pytest.raises(TransientGraphError):
        await gateway.send_mail("retention@contoso.com", MAIL)
    assert route.call_count == 4  # the first send and three resends


async def test_sender_without_mailbox(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.post(url__eq=SEND).respond(404, json=graph_error(
        "ErrorInvalidUser", "The requested user 'retention@contoso.com' is invalid."))

    with pytest.raises(SenderRefused) as caught:
        await gateway.send_mail("retention@contoso.com", MAIL)

    # About the sender, not a recipient: the cycle stops sending after it (cycle/warn.py).
    assert caught.value.code == "ErrorInvalidUser" and "is invalid" in caught.value.message
    assert "notifications.sender" in caught.value.hint


async def test_only_202_counts_as_accepted(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.post(url__eq=SEND).mock(return_value=httpx.Response(200, json={}))

    with pytest.raises(GraphError) as caught:
        await gateway.send_mail("retention@contoso.com", MAIL)

    # Graph took the request: the mail may arrive, so it is never sent again, and it starts no notice clock.
    assert caught.value.status == 200 and caught.value.code == "unexpectedSuccess"
    assert caught.value.outcome_unknown


async def test_a_mail_without_recipients_is_refused_before_sending(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    route = graph.post(url__eq=SEND).respond(202)

    with pytest.raises(GraphError):
        await gateway.send_mail("retention@contoso.com", OutgoingMail(to=[], subject="s", text="t", html="h"))
    assert route.call_count == 0
