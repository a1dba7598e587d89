"""The exception tree, drawn once::

    TeamsRetentionError
    ├── ConfigError               bad settings or usage; exit 2, raised before any Graph call
    ├── SignInError               no token: the sign-in authority refused us or could not be reached; the
    │                             cycle stops (every Graph call would fail the same way)
    ├── StoreError                the state database cannot be read or written (exit 1)
    │   ├── StoreSetupError       the store cannot be used where the settings put it (exit 2): its
    │   │   │                     directory is a file, cannot be created or written, is readable by others
    │   │   └── StoreNotFound     no store there, and this command does not create one (exit 2)
    │   ├── StoreDamaged          the database fails its integrity check: refused (exit 1)
    │   └── LockBusy              another cycle holds the store's cycle lock
    │       └── LockLost          this cycle's lock expired and another cycle took it: stop at once
    └── GraphError                Microsoft Graph answered with an error (status, code, message)
        ├── TransientGraphError   429 / 5xx / network: try again later
        ├── NotFoundError         404
        ├── ForbiddenError        403
        ├── LockedError           423
        ├── PreconditionFailed    412 (the eTag no longer matches)
        ├── ResyncRequired        410 on a delta link: enumerate again from scratch
        └── SenderRefused         sendMail refused because of the sender mailbox (notifications.sender) or the
                                  application's right to send from it, not because of a recipient
"""

from __future__ import annotations


class TeamsRetentionError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(TeamsRetentionError):
    """Bad configuration or usage. The message names the key and where it came from."""


class SignInError(TeamsRetentionError):
    """Signing in to Microsoft Entra ID failed (wrong secret, unknown tenant, expired certificate, the authority
    unreachable). The message is one line naming the authority, the tenant and the likely fix; ``detail`` holds
    what the identity library said (for ``--debug``), never a secret."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail
class InvalidInput(ConfigError):
    """An admin command's input is wrong or refused (a malformed date, a missing reason, an unknown recording,
    a decision the roles do not allow). The message names the option or field; nothing was written."""


class StoreError(TeamsRetentionError):
    """The state store cannot be read or written. The message names the store (path, or URL without its
    password) and the reason; ``exit_code`` is what the command line exits with."""

    exit_code = 1


class StoreSetupError(StoreError):
    """The store cannot be used where the configuration puts it: a matter of configuration (exit 2)."""

    exit_code = 2


class StoreNotFound(StoreSetupError):
    """No store where the settings point, and this command only uses an existing one."""


class StoreDamaged(StoreError):
    """The database fails its integrity check: nothing is read from it or written to it."""


class LockBusy(StoreError):
    pass


class LockLost(LockBusy):
    pass


class GraphError(TeamsRetentionError):
    def __init__(self, status: int, code: str = "", message: str = "", *, retry_after: float | None = None,
                 location: str | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.location = location
        super().__init__(f"Graph answered {status} {code}: {message}".strip() if status
                         else f"no answer from Graph ({code}): {message}".strip())

    @property
    def outcome_unknown(self) -> bool:
        """No HTTP answer (timeout, network), a 5xx, or a success other than the documented one (sendMail
        answering 200 instead of 202): Graph may have carried the request out."""
        return self.status == 0 or self.status >= 500 or 200 <= self.status < 300


class TransientGraphError(GraphError):
    pass


class NotFoundError(GraphError):
    pass


class ForbiddenError(GraphError):
    pass


class LockedError(GraphError):
    pass


class PreconditionFailed(GraphError):
    pass


class ResyncRequired(GraphError):
    pass


class SenderRefused(GraphError):
    """``POST /users/{sender}/sendMail`` refused for a reason about the sender, not the recipients: the mailbox
    does not exist or has no Exchange Online mailbox (404), or the application may not send from it (403).
    Every other digest of the cycle would fail the same way. ``hint`` says what to fix."""

    def __init__(self, status: int, code: str = "", message: str = "", *, hint: str = "") -> None:
        super().__init__(status, code, message)
        self.hint = hint


def graph_error_for(status: int, code: str = "", message: str = "", *, retry_after: float | None = None,
                    location: str | None = None) -> GraphError:
    """The GraphError subclass for an HTTP status."""
    cls: type[GraphError]
    if status == 404:
        cls = NotFoundError
    elif status == 403:
        cls = ForbiddenError
    elif status == 423:
        cls = LockedError
    elif status == 412:
        cls = PreconditionFailed
    elif status == 410:
        cls = ResyncRequired
    elif status == 429 or status >= 500:
        cls = TransientGraphError
    else:
        cls = GraphError
    return cls(status, code, message, retry_after=retry_after, location=location)
