"""Drive inventory and actions: delta, labels, the re-read before deleting, the delete itself
(wire contract items 7–9)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from msgraph.graph_service_client import GraphServiceClient

from ..errors import GraphError, NotFoundError, PreconditionFailed
from ..policy.recognition import is_video_file
from ..ports import DeltaPage, ItemChange, ItemFacets, ItemState
from .paging import Links, follow_delta
from .raw import RawJson
from .transform import MALFORMED, facets_from_json, item_change_from_json, item_state_from_json, json_id


def _other_file(item: object) -> bool:
    """A file that is not a video, as a delta page lists it (anything else, or no dict at all, is read in full)."""
    if not isinstance(item, dict) or "folder" in item or "root" in item or "deleted" in item or "@removed" in item:
        return False
    name, file = item.get("name"), item.get("file")
    mime = file.get("mimeType") if isinstance(file, dict) else None
    return not is_video_file(name if isinstance(name, str) else None, mime if isinstance(mime, str) else None)


class Drives:
    """Delta pages, labels, re-reads and deletes, as JSON requests (see raw.py)."""

    def __init__(self, client: GraphServiceClient, links: Links, *, page_size: int | None = None) -> None:
        """``page_size``: the ``$top`` a full enumeration asks for (None: Graph's default page, 200 items). A page
        costs the same resource units whatever it holds; Graph may give fewer items than asked for, and whether
        its nextLinks and deltaLinks keep the ``$top`` it does not say: the pages are followed as they come."""
        self._links = links
        self._raw = RawJson(client)
        self._query = f"$top={page_size}" if page_size else ""

    async def drive_delta(self, drive_id: str, delta_link: str | None, *, videos_only: bool = False
                          ) -> AsyncIterator[DeltaPage]:
        """Page by page, never the whole drive in memory. No ``$select``: Graph's default properties
        include the facets recognition needs, and the media/source facets (when Graph sends them) are not
        selectable in v1.0 anyway.

        ``videos_only`` (the cycle): a file that is not a video, a folder or a deletion is listed by its id
        only, in ``others``. A real OneDrive holds hundreds of such files for each recording, and nothing
        else of them is any use to the inventory."""
        start = self._links.url("drives", drive_id, "root", "delta", query=self._query)
        async for page, reset in follow_delta(self._links, self._raw.get_page, start, delta_link):
            # The same item can appear twice in one feed: keep its last state (dict keeps first position).
            latest: dict[str, ItemChange] = {}
            others: dict[str, None] = {}
            for item in page.value:
                if videos_only and _other_file(item):
                    item_id = json_id(item, "driveItem")
                    latest.pop(item_id, None)
                    others[item_id] = None
                    continue
                change = item_change_from_json(item)
                others.pop(change.id, None)
                latest.pop(change.id, None)
                latest[change.id] = change
            last = page.odata_delta_link if not page.odata_next_link else None  # a deltaLink ends the feed only
            yield DeltaPage(items=list(latest.values()), delta_link=last, reset=reset, others=tuple(others))

    async def reread_item(self, drive_id: str, item_id: str) -> ItemState | None:
        """Still there, which eTag, which label — in one request, just before a delete."""
        url = self._links.url("drives", drive_id, "items", item_id, query="$expand=retentionLabel")
        try:
            body = await self._raw.get_json(url)
        except NotFoundError:
            return None
        if body is None:  # an empty 200 is no proof the item is gone: fail, and look again next cycle
            raise GraphError(200, MALFORMED, "Graph answered the re-read with an empty body")
        return item_state_from_json(body)

    async def read_beta_facets(self, drive_id: str, item_id: str) -> ItemFacets | None:
        """``GET /beta/drives/{d}/items/{i}?$select=id,source,media``: the facets only beta documents. Beta is
        subject to change (Microsoft's words), which is why this read is opt-in and only confirms."""
        url = self._links.beta_url("drives", drive_id, "items", item_id, query="$select=id,source,media")
        try:
            body = await self._raw.get_json(url)
        except NotFoundError:
            return None
        return facets_from_json(body or {})

    async def delete_item(self, drive_id: str, item_id: str, etag: str | None, permanent: bool) -> None:
        """Recycle bin (``DELETE`` with ``If-Match``: 412 if the file changed since the re-read) or
        ``permanentDelete`` (documented without If-Match: the re-read is its only guard).

        Errors keep Graph's code and message: 404 NotFoundError (already gone), 423 LockedError (locked
        or open), 403 ForbiddenError (a hold no label shows, or a missing Files.ReadWrite.All),
        412 PreconditionFailed.

        Never sent again here: a delete that Graph carried out but answered with 503/504 would, sent again,
        come back 404 and read as "someone else deleted it"; and a 429 (refused before it was processed) is
        followed by the client-wide pause, after which the read the delete followed is old: the delete step
        reads the item and its label again before it sends the delete again. Anything else failed is tried
        again by a later cycle, after a fresh re-read."""
        await self._delete_once(drive_id, item_id, etag, permanent)

    async def _delete_once(self, drive_id: str, item_id: str, etag: str | None, permanent: bool) -> None:
        if permanent:
            await self._raw.act("POST", self._links.url("drives", drive_id, "items", item_id, "permanentDelete"))
            return
        if not etag:
            # Never delete by id alone into the recycle bin: without If-Match a file replaced since the
            # re-read would go too. Same outcome as a changed file: skip, look again next cycle.
            raise PreconditionFailed(0, "eTagRequired", "a recycle-bin delete needs the eTag of the re-read")
        await self._raw.act("DELETE", self._links.url("drives", drive_id, "items", item_id), {"If-Match": etag})
