"""The exception tree, drawn once::

    TeamsRetentionError
    ├── ConfigError               bad settings or usage; exit 2, raised before any Graph call
    ├── StoreError                the state database cannot be read or written
    │   └── LockBusy              another cycle holds the store's cycle lock
    │       └── LockLost          this cycle's lock expired and another cycle took it: stop at once
    └── GraphError                Microsoft Graph answered with an error (status, code, message)
        ├── TransientGraphError   429 / 5xx / network: try again later
        ├── NotFoundError         404
        ├── ForbiddenError        403
        ├── LockedError           423
        ├── PreconditionFailed    412 (the eTag no longer matches)
        └── ResyncRequired        410 on a delta link: enumerate again from scratch
"""

from __future__ import annotations


class TeamsRetentionError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(TeamsRetentionError):
    """Bad configuration or usage. The message names the key and where it came from."""


class InvalidInput(ConfigError):
    """An admin command's input is wrong or refused (a malformed date, a missing reason, an unknown recording,
    a decision the roles do not allow). The message names the option or field; nothing was written."""


class StoreError(TeamsRetentionError):
    pass


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
        super().__init__(f"Graph answered {status} {code}: {message}".strip())

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
