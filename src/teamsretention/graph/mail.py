"""Digest mail through ``POST /users/{sender}/sendMail`` (wire contract item 10).

Graph has no multipart text+HTML: the HTML goes out, the text part stays with the caller for the audit
trail. Never retried automatically by kiota — a 503/504 may come after Exchange accepted the message,
and a retry would mean a second digest; the caller records the failure and decides. The one exception is
429: throttling rejects a request before it is processed, so sending it again after the client-wide pause
(the throttle gate already honours Retry-After) cannot duplicate a mail.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..errors import GraphError, SenderRefused
from ..ports import OutgoingMail
from .failures import error_from_response
from .paging import Links
from .raw import RawJson

ACCEPTED = 202
THROTTLED = 429
# Resends after a 429 only (see the module docstring); each waits for the client-wide throttle pause.
MAIL_THROTTLE_RESENDS = 3
# sendMail answers about the resource in its URL, /users/{sender}: a 404 (ErrorInvalidUser: no such user;
# MailboxNotEnabledForRESTAPI: a user without an Exchange Online mailbox) or a 403 (ErrorAccessDenied: no
# Mail.Send, or an application access policy that leaves this mailbox out) is about the sender. A recipient
# Exchange cannot deliver to is accepted (202) and bounces later; a malformed recipient is a 400.
SENDER_STATUSES = frozenset({403, 404})
SENDER_CODES = frozenset({"ErrorInvalidUser", "MailboxNotEnabledForRESTAPI", "ErrorAccessDenied",
                          "ErrorSendAsDenied", "ErrorNonExistentMailbox"})


def build_message(mail: OutgoingMail) -> dict[str, Any]:
    """sendMail's body as Graph documents it (user-sendmail): the HTML body, the recipients, and a copy kept in
    the sender's Sent Items (Graph's default, said explicitly) that an admin can point to."""
    if not mail.to:
        raise GraphError(0, "noRecipients", "a digest needs at least one recipient")
    return {"message": {"subject": mail.subject, "body": {"contentType": "html", "content": mail.html},
                        "toRecipients": [{"emailAddress": {"address": address}} for address in mail.to]},
            "saveToSentItems": True}


async def send_mail(raw: RawJson, links: Links, sender: str, mail: OutgoingMail) -> None:
    """Returns only on 202 Accepted; anything else raises a GraphError (one request, no retry)."""
    url, body = links.url("users", sender, "sendMail"), build_message(mail)
    for attempt in range(MAIL_THROTTLE_RESENDS + 1):
        response: httpx.Response = await raw.post_for_answer(url, body)
        if response.status_code == ACCEPTED:
            return
        if 200 <= response.status_code < 300:
            # Not the documented 202: Graph took the request, but whether Exchange accepted the mail is not
            # said. Never resent (it may arrive), and no notice clock starts (it may not).
            raise GraphError(response.status_code, "unexpectedSuccess",
                             f"sendMail answered {response.status_code}, not the documented 202 Accepted")
        if response.status_code != THROTTLED or attempt == MAIL_THROTTLE_RESENDS:
            raise _error_from(response)


def _sender_hint(status: int, code: str) -> str:
    if code == "MailboxNotEnabledForRESTAPI":
        return ("this user has no Exchange Online mailbox (no licence, soft-deleted, or hosted on-premises): use a "
                "mailbox in Exchange Online (a shared mailbox works)")
    if status == 403 or code in ("ErrorAccessDenied", "ErrorSendAsDenied"):
        return ("the application may not send as this mailbox: grant the Mail.Send application permission with "
                "admin consent, and include the mailbox in any application access policy that limits it")
    return ("no mailbox has this address in the tenant: set notifications.sender to an existing mailbox (a shared "
            "mailbox works)")


def _error_from(response: httpx.Response) -> GraphError:
    """Graph's error, read as any other answer's (``failures.error_from_response``); one about the sender is a
    SenderRefused with what to do about it."""
    error = error_from_response(response)
    if response.status_code in SENDER_STATUSES or error.code in SENDER_CODES:
        return SenderRefused(response.status_code, error.code, error.message,
                             hint=_sender_hint(response.status_code, error.code))
    return error
