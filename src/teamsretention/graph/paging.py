"""URLs we build and links Graph hands back.

Every request URL is built here, by hand, in the wire contract's form (``/users/delta?$select=...``):
msgraph-sdk's templates differ (``/users/delta()``, ``transitiveMembers/graph.user``) and have no builder
at all for ``/drives/{id}/root/delta``. The requests are sent by ``raw.RawJson`` through the SDK's own httpx
client, so its middleware (retry, redirects, telemetry), our throttle gate and its authentication still apply.

``@odata.nextLink`` / ``@odata.deltaLink`` / a 410's ``Location`` are opaque and replayed verbatim, but
only to our own Graph host: a link elsewhere would carry inventory we cannot trust.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote, urljoin, urlsplit

from ..errors import GraphError, ResyncRequired
from .failures import translating
from .raw import RawPage
from .transform import MALFORMED

# RFC 3986 pchar minus '/', so ids like "b!xyz" or "19:abc@thread.skype" stay readable while '/', '?',
# '#', '%' and spaces are escaped.
_PATH_SAFE = "!$&'()*+,;=:@-._~"


Fetch = Callable[[str], Awaitable[RawPage | None]]


class Links:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme, parts.netloc.lower())

    def url(self, *segments: str, query: str = "") -> str:
        """``base/seg1/seg2?query``; segments are escaped, the query is passed as written."""
        path = "/".join(quote(s, safe=_PATH_SAFE) for s in segments)
        return f"{self.base_url}/{path}" + (f"?{query}" if query else "")

    def beta_url(self, *segments: str, query: str = "") -> str:
        """The same request on Graph's beta endpoint (only for the opt-in facet confirmation)."""
        root = self.base_url.rsplit("/", 1)[0]
        path = "/".join(quote(s, safe=_PATH_SAFE) for s in segments)
        return f"{root}/beta/{path}" + (f"?{query}" if query else "")

    def checked(self, link: str) -> str:
        """A server-given link, made absolute and refused unless it points at our Graph endpoint."""
        absolute = urljoin(self.base_url + "/", link)
        parts = urlsplit(absolute)
        if (parts.scheme, parts.netloc.lower()) != self._origin:
            raise GraphError(200, MALFORMED, f"Graph returned a link to another host ({parts.netloc})")
        return absolute


LOOPING = "pagingLoop"


def _next(links: Links, link: str, seen: set[str]) -> str:
    """The next page's URL, refused when the feed already read it: a feed whose links lead back (A -> B -> A)
    would never end, so it is treated as an unfinished read (the drive or the scope stays incomplete)."""
    url = links.checked(link)
    if url in seen:
        raise GraphError(200, LOOPING, "the paging links lead back to a page already read; the read is "
                         "treated as unfinished and tried again next cycle")
    seen.add(url)
    return url


async def follow_pages(links: Links, fetch: Fetch, url: str) -> AsyncIterator[RawPage]:
    """Pages of a plain collection, following ``@odata.nextLink``."""
    next_url: str | None = url
    seen = {url}
    while next_url:
        with translating():
            page = await fetch(next_url)
        if page is None:
            raise GraphError(200, MALFORMED, "Graph answered a collection request with an empty body")
        yield page
        next_url = _next(links, page.odata_next_link, seen) if page.odata_next_link else None


async def follow_delta(links: Links, fetch: Fetch, start_url: str,
                       delta_link: str | None) -> AsyncIterator[tuple[RawPage, bool]]:
    """Pages of a delta query as ``(page, reset)``; the last page carries ``odata_delta_link``.

    ``reset`` is True on the first page of a full enumeration: no stored link, or a 410 (the token
    expired), after which we restart from the ``Location`` Graph gives, or tokenless without one. A 410
    can come mid-feed; the caller must then drop what it gathered from earlier pages. A second 410 in a
    row is raised (ResyncRequired) rather than looped on.
    """
    url, reset = start_url, True
    if delta_link:
        try:
            url, reset = links.checked(delta_link), False
        except GraphError:
            # A stored link from another endpoint (the configuration moved from the simulator to a
            # tenant, or to another cloud): it cannot be replayed here, so enumerate from scratch.
            url, reset = start_url, True
    resynced = False
    seen = {url}
    while True:
        try:
            with translating():
                page = await fetch(url)
        except ResyncRequired as exc:
            if resynced:
                raise
            resynced, reset = True, True
            url = _resync_url(links, exc.location, start_url)
            seen = {url}
            continue
        if page is None:
            raise GraphError(200, MALFORMED, "Graph answered a delta request with an empty body")
        yield page, reset
        reset = False
        if page.odata_next_link:
            url = _next(links, page.odata_next_link, seen)
        elif page.odata_delta_link:
            return
        else:
            # Without a deltaLink the feed did not finish: the caller must not treat it as complete.
            raise GraphError(200, MALFORMED, "a delta page has neither @odata.nextLink nor @odata.deltaLink")


def _resync_url(links: Links, location: str | None, start_url: str) -> str:
    if location:
        try:
            return links.checked(location)
        except GraphError:
            pass  # a Location elsewhere: restarting tokenless gives the same full enumeration
    return start_url
