"""Simulated ``POST /users/{sender}/sendMail``: 202 and an entry in the mail log, or Graph's refusals.

202 means accepted, not delivered: mail to a tenant user without a mailbox is still accepted (Exchange sends
a non-delivery report later), and its log entry gets ``"undeliverable": true`` with the bouncing addresses
in ``undeliverableRecipients``. Knob ``send_mail_status`` makes success answer another 2xx (e.g. 200).
Refusals about the sender: a sender that is no user answers 404 ErrorInvalidUser, a user without an Exchange
Online mailbox 404 MailboxNotEnabledForRESTAPI, a mailbox in knob ``denied_mail_senders`` 403 ErrorAccessDenied
(an application access policy that leaves it out).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .endpoint import Ctx, GraphFault, graph_endpoint
from .entities import SimUser
from .model import TenantModel
from .reqlog import RU_LIST


async def send_mail(request: Request, ctx: Ctx) -> Response:
    sim = ctx.sim
    sender_ref = request.path_params["user_id"]
    sender = sim.find_user(sender_ref)
    if sender is None or not sender.mail:
        raise GraphFault(404, "ErrorInvalidUser", f"The requested user '{sender_ref}' is invalid.")
    if not sender.has_mailbox:  # a user without an Exchange Online mailbox, as Graph answers for it
        raise GraphFault(404, "MailboxNotEnabledForRESTAPI",
                         "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
    denied = sim.knobs.denied_mail_senders
    if sender_ref.lower() in denied or sender.mail.lower() in denied or sender.id.lower() in denied:
        # An application access policy that leaves this mailbox out (auth-limit-mailbox-access).
        raise GraphFault(403, "ErrorAccessDenied", "Access to OData is disabled.")
    try:
        payload = _lower_keys(json.loads(await request.body()))
        message = payload["message"]
    except (ValueError, KeyError, TypeError):
        raise GraphFault(
            400, "ErrorInvalidRequest", "The request body is not a valid sendMail request."
        ) from None
    entry = _mail_entry(sim, sender, message, payload.get("savetosentitems", True))
    if not entry["to"] and not entry["cc"] and not entry["bcc"]:
        raise GraphFault(
            400, "ErrorInvalidRecipients", "At least one recipient is not valid., Recipient is missing."
        )
    failing = sim.knobs.failing_mail_recipients
    refused = [a for a in entry["to"] + entry["cc"] + entry["bcc"] if a.lower() in failing]
    if refused:
        status = failing[refused[0].lower()]
        sim.rejected_mail.append({**entry, "status": status})
        raise GraphFault(status, retry_after=sim.knobs.throttle_retry_after if status in (429, 503) else None)
    bounced = [a for a in entry["to"] + entry["cc"] + entry["bcc"] if _without_mailbox(sim, a)]
    if bounced:
        entry["undeliverable"] = True
        entry["undeliverableRecipients"] = bounced
    sim.mail_log.append(entry)
    return Response(status_code=sim.knobs.send_mail_status)


def _without_mailbox(sim: TenantModel, address: str) -> bool:
    """A tenant user (by mail or UPN) who has no Exchange mailbox; outside addresses are not judged."""
    low = address.strip().lower()
    return bool(low) and any(
        not u.removed and not u.has_mailbox and low in (u.upn.lower(), (u.mail or "").lower())
        for u in sim.users.values()
    )


def _mail_entry(sim: TenantModel, sender: SimUser, message: dict[str, Any], save: Any) -> dict[str, Any]:
    def addresses(key: str) -> list[dict[str, Any]]:
        return [r.get("emailaddress", {}) for r in message.get(key) or []]

    body = message.get("body") or {}
    to = addresses("torecipients")
    return {
        "at": sim.now.isoformat(),
        "sender": sender.mail,
        "senderId": sender.id,
        "to": [str(a.get("address", "")) for a in to],
        "toRecipients": [{"address": a.get("address"), "name": a.get("name")} for a in to],
        "cc": [str(a.get("address", "")) for a in addresses("ccrecipients")],
        "bcc": [str(a.get("address", "")) for a in addresses("bccrecipients")],
        "subject": message.get("subject"),
        "contentType": body.get("contenttype"),
        "content": body.get("content"),
        # The docs show the string "false"; msgraph-sdk sends a boolean.
        "saveToSentItems": str(save).lower() != "false",
    }


def _lower_keys(value: Any) -> Any:
    """msgraph-sdk serialises sendMail with capitalised keys (Message, SaveToSentItems): accept both."""
    if isinstance(value, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


ROUTES = [
    Route(
        "/v1.0/users/{user_id}/sendMail", graph_endpoint("mail.send", RU_LIST)(send_mail), methods=["POST"]
    ),
]
