"""Digest mail through ``POST /users/{sender}/sendMail`` (wire contract item 10).

Graph has no multipart text+HTML: the HTML goes out, the text part stays with the caller for the audit
trail. Never retried automatically by kiota — a 503/504 may come after Exchange accepted the message,
and a retry would mean a second digest; the caller records the failure and decides. The one exception is
429: throttling rejects a request before it is processed, so sending it again after the client-wide pause
(the throttle gate already honours Retry-After) cannot duplicate a mail.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, cast

import httpx
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_http.middleware.options import ResponseHandlerOption
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.message import Message
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody
from msgraph.graph_service_client import GraphServiceClient

from ..errors import GraphError, SenderRefused, graph_error_for
from ..ports import OutgoingMail
from .client import NO_RETRY, quiet_sdk_imports
from .failures import translating
from .paging import Links
from .throttle import parse_retry_after

if TYPE_CHECKING:
    from kiota_abstractions.default_query_parameters import QueryParameters

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


def build_message(mail: OutgoingMail) -> SendMailPostRequestBody:
    if not mail.to:
        raise GraphError(0, "noRecipients", "a digest needs at least one recipient")
    message = Message(
        subject=mail.subject,
        body=ItemBody(content_type=BodyType.Html, content=mail.html),
        to_recipients=[Recipient(email_address=EmailAddress(address=address)) for address in mail.to],
    )
    # The SDK model defaults SaveToSentItems to False (Graph's default is true): set it, so the sender
    # mailbox keeps a copy an admin can point to.
    return SendMailPostRequestBody(message=message, save_to_sent_items=True)


async def send_mail(client: GraphServiceClient, links: Links, sender: str, mail: OutgoingMail) -> None:
    """Returns only on 202 Accepted; anything else raises a GraphError (one request, no retry)."""
    config: RequestConfiguration[QueryParameters] = RequestConfiguration(options=[
        NO_RETRY,
        # The raw response, so that "accepted" means exactly 202 and not "some 2xx".
        ResponseHandlerOption(NativeResponseHandler()),
    ])
    with quiet_sdk_imports():
        builder = client.users.by_user_id("_").send_mail.with_url(links.url("users", sender, "sendMail"))
    body = build_message(mail)
    for attempt in range(MAIL_THROTTLE_RESENDS + 1):
        with translating():
            # With a native response handler, post() hands back the httpx.Response it is typed to hide.
            response: object = await cast(Any, builder).post(body, request_configuration=config)
        if not isinstance(response, httpx.Response):
            raise GraphError(0, "noResponse", "sendMail returned no HTTP response")
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
    code, message = "", ""
    try:
        error = json.loads(response.content or b"{}").get("error") or {}
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
    except (ValueError, AttributeError):
        pass  # not Graph's error body (a gateway's HTML page): the status line says enough
    if response.status_code in SENDER_STATUSES or code in SENDER_CODES:
        return SenderRefused(response.status_code, code or "unexpectedStatus", message or response.reason_phrase,
                             hint=_sender_hint(response.status_code, code))
    return graph_error_for(
        response.status_code, code or "unexpectedStatus", message or response.reason_phrase,
        retry_after=parse_retry_after(response.headers.get("Retry-After"), now=dt.datetime.now(dt.UTC)),
    )
