"""Mailboxes: mailboxSettings, mail to a user without a mailbox (accepted, undeliverable), other 2xx."""

from __future__ import annotations

import httpx
import pytest

from teamsretention.simulator import TenantModel, load_scenario

from ._helpers import EPOCH, client_for

pytestmark = pytest.mark.anyio
SENDER = "governance@contoso.example"


def _mail(*to: str) -> dict[str, object]:
    return {
        "message": {"subject": "Due", "toRecipients": [{"emailAddress": {"address": a}} for a in to]},
    }


async def test_mailbox_settings_or_404_without_a_mailbox(client: httpx.AsyncClient, model: TenantModel) -> None:
    anna = (await client.get(f"/v1.0/users/{model.resolve('anna')}/mailboxSettings")).json()
    assert anna["timeZone"] == "UTC"
    assert anna["language"] == {"locale": "sv-SE", "displayName": "Swedish (Sweden)"}
    dan = await client.get("/v1.0/users/dan@contoso.example/mailboxSettings")  # mail = "": no mailbox
    err = dan.json()["error"]
    assert dan.status_code == 404 and err["code"] == "MailboxNotEnabledForRESTAPI"
    assert err["message"] == "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
    unknown = await client.get("/v1.0/users/nobody@contoso.example/mailboxSettings")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "Request_ResourceNotFound"


async def test_has_mailbox_and_time_zone_scenario_fields() -> None:
    model = load_scenario(
        '[[users]]\nkey = "a"\nhas_mailbox = false\n'  # a mail address, but the mailbox is gone
        '[[users]]\nkey = "b"\ntime_zone = "W. Europe Standard Time"\n',
        epoch=EPOCH,
    )
    assert model.users[model.resolve("a")].mail == "a@contoso.example"
    async with client_for(model) as client:
        assert (await client.get("/v1.0/users/a@contoso.example/mailboxSettings")).status_code == 404
        b = (await client.get("/v1.0/users/b@contoso.example/mailboxSettings")).json()
        assert b["timeZone"] == "W. Europe Standard Time" and b["language"]["locale"] == "en-US"
        sent = await client.post("/v1.0/users/a@contoso.example/sendMail", json=_mail("b@contoso.example"))
        assert sent.status_code == 404  # a sender needs a mailbox


async def test_mail_to_a_user_without_a_mailbox_is_accepted_but_undeliverable(client: httpx.AsyncClient) -> None:
    resp = await client.post(f"/v1.0/users/{SENDER}/sendMail", json=_mail("Dan@contoso.example", "anna@contoso.example"))
    assert resp.status_code == 202
    ok = await client.post(f"/v1.0/users/{SENDER}/sendMail", json=_mail("anna@contoso.example", "x@elsewhere.example"))
    assert ok.status_code == 202
    bounced, delivered = (await client.get("/_simulator/mail")).json()["value"]
    assert bounced["undeliverable"] is True and bounced["undeliverableRecipients"] == ["Dan@contoso.example"]
    assert "undeliverable" not in delivered


async def test_send_mail_status_knob_answers_another_2xx_and_still_logs(client: httpx.AsyncClient) -> None:
    await client.post("/_simulator/knobs", json={"send_mail_status": 200})
    resp = await client.post(f"/v1.0/users/{SENDER}/sendMail", json=_mail("anna@contoso.example"))
    assert resp.status_code == 200 and resp.content == b""
    assert len((await client.get("/_simulator/mail")).json()["value"]) == 1
    assert (await client.get("/_simulator/knobs")).json()["send_mail_status"] == 200
    assert (await client.post("/_simulator/knobs", json={"send_mail_status": 500})).status_code == 400
