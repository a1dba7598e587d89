"""The seams between the cycle and the outside world.

The cycle (``cycle/``) talks to Microsoft Graph only through :class:`GraphGateway`; ``graph/`` implements it on
msgraph-sdk, tests implement it with small fakes. Every type crossing this seam is a plain dataclass:
msgraph-sdk types never leave ``graph/``.

Errors: methods raise :mod:`teamsretention.errors` ``GraphError`` subclasses (never SDK exceptions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from .domain import DriveKind, Person, RecordingRef, RetentionLabel
from .errors import GraphError
from .lists import Column

AuthMode = Literal["client_secret", "certificate", "managed_identity", "workload_identity", "default", "none"]


@dataclass(frozen=True, slots=True)
class GraphConnection:
    """Everything the adapter needs to reach Graph, resolved by settings (secrets read, cloud looked up)."""

    base_url: str  # https://host/v1.0, no trailing slash
    authority_host: str  # the sign-in authority of the same cloud
    auth: AuthMode
    user_agent: str
    max_concurrency: int
    ru_budget_per_minute: int = 0  # graph.ru_budget_per_minute; 0: pacing off
    delta_page_size: int | None = None  # graph.delta_page_size: $top of a drive's full enumeration; None: Graph's
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None
    certificate_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class GraphTraffic:
    """What a Graph client has sent since it was built: every attempt (retries included) by method and the
    answer's HTTP status, and the client-wide pauses throttling (429 / 503) imposed."""

    requests: dict[tuple[str, int], int] = field(default_factory=dict)  # (method, status) -> attempts
    throttle_waits: int = 0
    throttle_wait_seconds: float = 0.0
    resource_units: float = 0.0  # estimated SharePoint resource units of those requests (graph.throttle)
    pacing_wait_seconds: float = 0.0  # wall time requests waited for the resource-unit budget (graph.pacing)


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    """One page of ``/users/delta`` (or ``/groups/delta`` for teams)."""

    users: list[Person] = field(default_factory=list)
    removed_ids: list[str] = field(default_factory=list)
    delta_link: str | None = None  # set on the last page only
    reset: bool = False  # True on the first page of a full enumeration (no token, or after 410)


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class TeamsPage:
    teams: list[Team] = field(default_factory=list)
    removed_ids: list[str] = field(default_factory=list)  # removed groups, or groups that are no longer teams
    delta_link: str | None = None
    reset: bool = False


@dataclass(frozen=True, slots=True)
class DriveRef:
    id: str
    kind: DriveKind
    owner_id: str | None = None  # OneDrive: the owning user's object id
    team_id: str | None = None  # channel sites: the team (group) id
    name: str = ""  # for people: the owner's UPN or the team / channel name
    web_url: str | None = None


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One driveItem from a delta page, reduced to what recognition and the inventory need."""

    id: str
    deleted: bool = False
    name: str | None = None  # deletes may arrive without a name
    is_folder: bool = False
    is_root: bool = False
    parent_id: str | None = None
    created_at: dt.datetime | None = None
    etag: str | None = None
    web_url: str | None = None
    mime_type: str | None = None
    size: int | None = None
    created_by_id: str | None = None
    source_application: str | None = None  # source.application (beta; when Graph sends it)
    content_category: str | None = None  # media.mediaSource.contentCategory (beta; when Graph sends it)
    special_folder: str | None = None  # specialFolder.name of a folder ("recordings" for the Recordings folder)


@dataclass(frozen=True, slots=True)
class DeltaPage:
    items: list[ItemChange]
    delta_link: str | None = None  # set on the last page only: store it, replay it verbatim
    reset: bool = False  # first page of a full enumeration (initial sync or resync after 410)
    others: tuple[str, ...] = ()  # with videos_only: the ids of the other files (no folder, video or delete)


@dataclass(frozen=True, slots=True)
class ItemState:
    """A fresh re-read of one item with its retention label (``?$expand=retentionLabel``). Unlike delta, a
    plain GET carries ``parentReference.path``: recognition is re-established from it."""

    etag: str | None
    name: str | None
    label: RetentionLabel
    parent_id: str | None = None
    parent_path: str | None = None
    mime_type: str | None = None
    source_application: str | None = None
    content_category: str | None = None


@dataclass(frozen=True, slots=True)
class ItemFacets:
    """What the beta driveItem says of an item's origin (``source`` and ``media`` facets)."""

    source_application: str | None = None
    content_category: str | None = None


@dataclass(frozen=True, slots=True)
class TeamDrives:
    """A team's drives, and the channels whose drive could not be read (by name, with Graph's reason)."""

    drives: list[DriveRef] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: list[str]
    subject: str
    text: str
    html: str
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Identity:
    """The ``user`` of an identitySet as Graph gives it: ``id`` is the Entra object id (None when Graph gave
    none, e.g. a SharePoint system account or an application)."""

    id: str | None
    display_name: str = ""
    email: str | None = None  # identity is an open type: SharePoint often adds it, it is never guaranteed


@dataclass(frozen=True, slots=True)
class SiteInfo:
    id: str  # "host,siteCollectionId,webId"
    web_url: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class ListColumnInfo:
    """A list column as Graph describes it: ``kind`` is the facet present on the columnDefinition
    (text, choice, dateTime, number, boolean, personOrGroup, ...); ``multiline`` for text columns."""

    name: str
    display_name: str
    kind: str
    multiline: bool = False
    choices: tuple[str, ...] = ()
    required: bool = False
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class ListInfo:
    id: str
    display_name: str
    web_url: str
    columns: tuple[ListColumnInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class ListItemChange:
    """One listItem from a delta page (with its ``fields``), or its deletion."""

    id: str
    deleted: bool = False
    fields: dict[str, object] = field(default_factory=dict)
    created_by: Identity | None = None
    last_modified_by: Identity | None = None
    created_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None
    etag: str | None = None
    web_url: str | None = None


@dataclass(frozen=True, slots=True)
class ListDeltaPage:
    items: list[ListItemChange]
    delta_link: str | None = None  # on the last page only
    reset: bool = False  # first page of a full enumeration (no token, or after 410)


@dataclass(frozen=True, slots=True)
class ListItemVersion:
    """One entry of a listItem's version history, newest first as Graph lists them."""

    id: str  # "3.0"
    modified_at: dt.datetime | None
    modified_by: Identity | None
    fields: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SharedItem:
    """What a webUrl points to, through the shares API."""

    ref: RecordingRef
    name: str = ""
    web_url: str | None = None


# What one label read (re-read with ``$expand=retentionLabel``) came to: the item's state, None when it is gone,
# or the error it ended in.
LabelRead = ItemState | None | GraphError


class GraphGateway(Protocol):
    # --- directory -----------------------------------------------------------------------------
    def users_delta(self, delta_link: str | None) -> AsyncIterator[DirectoryPage]: ...

    async def group_member_ids(self, group_id: str) -> set[str]:
        """Transitive members of a group that are users."""
        ...

    async def get_user(self, user_id: str) -> Person | None:
        """None when the user does not exist (404)."""
        ...

    async def get_user_drives(self, users: Sequence[Person]) -> dict[str, DriveRef | None | GraphError]:
        """Each user's OneDrive, by user id: None when it was never provisioned (404), or the lookup's GraphError."""
        ...

    def teams_delta(self, delta_link: str | None) -> AsyncIterator[TeamsPage]: ...

    async def get_team_drives(self, team: Team) -> TeamDrives:
        """The team site's document library and the drives of private/shared channels. A channel whose
        drive cannot be read is reported in ``problems``; the team's other drives are still returned."""
        ...

    async def team_owners(self, team_id: str) -> list[Person]:
        """The team's owners (users), for channel recordings that no user recorded."""
        ...

    async def have_mailboxes(self, user_ids: Sequence[str]) -> dict[str, bool | None | GraphError]:
        """Per user id: True or False when Graph says whether the user has an Exchange Online mailbox; None when
        it cannot be told (MailboxSettings.Read is missing); the GraphError when the check failed this time."""
        ...

    # --- drives --------------------------------------------------------------------------------
    def drive_delta(self, drive_id: str, delta_link: str | None, *, videos_only: bool = False
                    ) -> AsyncIterator[DeltaPage]:
        """Pages of ``/drives/{id}/root/delta``. On 410 it restarts from scratch (first page ``reset``).
        Raises GraphError when a page cannot be read: the caller marks the drive incomplete."""
        ...

    async def reread_item(self, drive_id: str, item_id: str) -> ItemState | None:
        """One request with ``$expand=retentionLabel``; None when the item is gone (404)."""
        ...

    async def get_items_with_labels(self, refs: Sequence[RecordingRef]) -> dict[RecordingRef, LabelRead]:
        """``reread_item`` for many items at once (Graph JSON ``$batch``, 20 per request): for each ref its state,
        None when it is gone (404), or the GraphError its read ended in (a 423, a 403, throttled after the
        retries, a malformed answer). Never raises for one item's failure; every ref gets an answer."""
        ...

    async def read_beta_facets(self, drive_id: str, item_id: str) -> ItemFacets | None:
        """The beta endpoint's ``source``/``media`` facets (opt-in confirmation); None when the item is gone."""
        ...

    async def delete_item(self, drive_id: str, item_id: str, etag: str | None, permanent: bool) -> None:
        """Recycle-bin delete with If-Match, or permanentDelete. Raises NotFoundError, LockedError,
        ForbiddenError, PreconditionFailed or other GraphError."""
        ...

    async def granted_roles(self) -> frozenset[str] | None:
        """The application permissions of the app's token (its ``roles`` claim); None when it cannot be told."""
        ...

    async def resolve_share(self, web_url: str) -> SharedItem | None:
        """``GET /shares/{u!...}/driveItem`` for a recording's web URL; None when it points to nothing (404)."""
        ...

    async def transitive_group_ids(self, user_id: str) -> frozenset[str]:
        """The ids of every group the user is a member of, directly or not (``/users/{id}/transitiveMemberOf``
        cast to groups). Raises GraphError when it cannot be read (the caller fails closed: no role)."""
        ...

    # --- lists (the Assignments and Retention requests lists) ------------------------------------
    async def get_site(self, site: str) -> SiteInfo | None:
        """A site by id, by ``host:/sites/path`` or by its URL; None when there is none (404)."""
        ...

    async def get_list(self, site_id: str, display_name: str) -> ListInfo | None:
        """The site's list with that display name, with its columns; None when there is none."""
        ...

    async def create_list(self, site_id: str, display_name: str, columns: tuple[Column, ...]) -> ListInfo:
        """POST /sites/{id}/lists (a genericList with these columns besides Title)."""
        ...

    async def add_list_column(self, site_id: str, list_id: str, column: Column) -> None:
        """POST /sites/{id}/lists/{id}/columns."""
        ...

    def list_items_delta(self, site_id: str, list_id: str, delta_link: str | None) -> AsyncIterator[ListDeltaPage]:
        """Pages of ``/sites/{id}/lists/{id}/items/delta`` with each item's fields. On 410 it restarts from
        scratch (first page ``reset``). Raises GraphError when a page cannot be read."""
        ...

    async def list_item_versions(self, site_id: str, list_id: str, item_id: str) -> list[ListItemVersion]:
        """``/sites/{id}/lists/{id}/items/{id}/versions`` with each version's fields, newest first."""
        ...

    # --- mail ----------------------------------------------------------------------------------
    async def send_mail(self, sender: str, mail: OutgoingMail) -> None:
        """POST /users/{sender}/sendMail, never retried automatically; returns on 202, raises otherwise."""
        ...

    async def aclose(self) -> None: ...

