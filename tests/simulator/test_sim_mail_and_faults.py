"""sendMail in both key casings, its refusals, throttling with Retry-After, per-path failures."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from teamsretention.simulator import TenantModel, create_app, example_path, load_scenario

from ._helpers import BASE, EPOCH

pytestmark = pytest.mark.anyio
SAMPLES = Path("/work/shared/graph-samples")
SENDER = "governance@contoso.example"


async def test_documented_and_sdk_casings_are_both_accepted(client: httpx.AsyncClient) -> None:
    documented = json.loads((SAMPLES / "user-sendmail.json").read_text())[0]["request_body"]
    first = await client.post(f"/v1.0/users/{SENDER}/sendMail", json=documented)
    sdk_style = {
        "Message": {
            "Subject": "Recordings due",
            "Body": {"ContentType": "HTML", "Content": "<p>Hej</p>"},
            "ToRecipients": [{"EmailAddress": {"Address": "anna@contoso.example", "Name": "Anna"}}],
        },
        "SaveToSentItems": False,
    }
    second = await client.post(f"/v1.0/users/{SENDER}/sendMail", json=sdk_style)
    assert (first.status_code, first.content, second.status_code) == (202, b"", 202)
    log = (await client.get("/_simulator/mail")).json()["value"]
    assert [m["subject"] for m in log] == ["Meet for lunch?", "Recordings due"]
    assert log[0]["to"] == ["frannis@contoso.com"] and log[0]["saveToSentItems"] is False
    assert log[1]["contentType"] == "HTML" and log[1]["content"] == "<p>Hej</p>"
    assert log[1]["toRecipients"] == [{"address": "anna@contoso.example", "name": "Anna"}]


async def test_sender_without_mailbox_and_mail_without_recipients_are_refused(
    client: httpx.AsyncClient,
) -> None:
    msg = {
        "message": {
            "subject": "x",
            "body": {"contentType": "Text", "content": "x"},
            "toRecipients": [{"emailAddress": {"address": "anna@contoso.example"}}],
        }
    }
    no_box = await client.post("/v1.0/users/dan@contoso.example/sendMail", json=msg)
    assert no_box.status_code == 404 and no_box.json()["error"]["code"] == "ErrorInvalidUser"
    nobody = await client.post("/v1.0/users/nobody@contoso.example/sendMail", json=msg)
    assert nobody.status_code == 404 and nobody.json()["error"]["code"] == "ErrorInvalidUser"
    empty = await client.post(f"/v1.0/users/{SENDER}/sendMail", json={"message": {"subject": "x"}})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "ErrorInvalidRecipients"
    assert (await client.get("/_simulator/mail")).json()["value"] == []


async def test_refusals_about_the_sender_answer_as_graph_does(model: TenantModel, client: httpx.AsyncClient) -> None:
    msg = {"message": {"subject": "x", "body": {"contentType": "Text", "content": "x"},
                       "toRecipients": [{"emailAddress": {"address": "anna@contoso.example"}}]}}
    model.users[model.resolve("bob")].has_mailbox = False  # a user without an Exchange Online mailbox
    unlicensed = await client.post("/v1.0/users/bob@contoso.example/sendMail", json=msg)
    assert unlicensed.status_code == 404
    assert unlicensed.json()["error"]["code"] == "MailboxNotEnabledForRESTAPI"
    assert "inactive, soft-deleted, or is hosted on-premise" in unlicensed.json()["error"]["message"]
    # An application access policy that leaves the sender's mailbox out.
    await client.post("/_simulator/knobs", json={"denied_mail_senders": [SENDER.upper()]})
    denied = await client.post(f"/v1.0/users/{SENDER}/sendMail", json=msg)
    assert denied.status_code == 403 and denied.json()["error"] == {
        **denied.json()["error"], "code": "ErrorAccessDenied", "message": "Access to OData is disabled."}
    assert (await client.get("/_simulator/knobs")).json()["denied_mail_senders"] == [SENDER]
    assert (await client.get("/_simulator/mail")).json()["value"] == []


async def test_failing_recipient_answers_503_with_retry_after_and_is_not_logged(
    client: httpx.AsyncClient,
) -> None:
    await client.post(
        "/_simulator/knobs",
        json={"failing_mail_recipients": {"Anna@contoso.example": 503}, "throttle_retry_after": 7},
    )
    msg = {
        "message": {"subject": "x", "toRecipients": [{"emailAddress": {"address": "anna@contoso.example"}}]}
    }
    resp = await client.post(f"/v1.0/users/{SENDER}/sendMail", json=msg)
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "7"
    log = (await client.get("/_simulator/mail")).json()
    assert log["value"] == [] and log["rejected"][0]["status"] == 503


async def test_throttling_answers_429_with_retry_after_and_graph_body(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    await client.post("/_simulator/knobs", json={"throttle_share": 1.0, "throttle_retry_after": 2.5})
    resp = await client.get(f"/v1.0/users/{model.resolve('anna')}")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "2.5"
    err = resp.json()["error"]
    sample = json.loads((SAMPLES / "throttling.json").read_text())["body"]["error"]
    assert err["code"] == sample["code"] == "TooManyRequests"
    assert set(sample["innerError"]) <= set(err["innerError"])
    stats = (await client.get("/_simulator/requests")).json()
    assert stats["byStatus"] == {"429": 1}


async def test_throttle_share_is_deterministic_for_a_seed() -> None:
    async def statuses() -> list[int]:
        sim = load_scenario(example_path(), epoch=EPOCH)
        sim.knobs.update({"throttle_share": 0.5, "seed": 3})
        sim.set_knobs(sim.knobs)
        transport = httpx.ASGITransport(app=create_app(sim))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            return [(await c.get(f"/v1.0/users/{sim.resolve('anna')}")).status_code for _ in range(20)]

    first, second = await statuses(), await statuses()
    assert first == second and 429 in first and 200 in first


async def test_fail_paths_fail_the_next_n_matching_requests_only(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    await client.post(
        "/_simulator/knobs",
        json={"fail_paths": [{"pattern": r"/root/delta$", "status": 503, "count": 2, "retry_after": 4}]},
    )
    drive = model.users[model.resolve("anna")].drive_id
    codes = [(await client.get(f"/v1.0/drives/{drive}/root/delta")) for _ in range(3)]
    assert [r.status_code for r in codes] == [503, 503, 200]
    assert (
        codes[0].headers["Retry-After"] == "4" and codes[0].json()["error"]["code"] == "serviceNotAvailable"
    )
    assert (await client.get(f"/v1.0/users/{model.resolve('anna')}")).status_code == 200
    assert model.find_item("anna-weekly").deleted is False
