"""SharePoint sites behind the drives, and resolving sharing URLs (``/shares/{shareId}``) to items.

Every drive lives in a site: a OneDrive in its owner's personal site (``<tenant>-my.sharepoint.com/personal/
<slug>``), a team's library in the team site, a private or shared channel's library in the channel's own site.
Site ids follow Graph's ``hostname,siteCollectionGuid,webGuid`` form. Their GUIDs derive from the drive id
(uuid5), not from the tenant RNG, so adding sites shifted no other id of an existing scenario.

A share id is ``u!`` + the unpadded base64url of an item's webUrl (learn.microsoft.com/graph/api/shares-get,
"Encoding sharing URLs"). A part of :class:`~.model.TenantModel`, kept apart for size.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from urllib.parse import unquote, urlsplit

from .entities import SimDrive, SimItem, SimSite


def encode_share_id(web_url: str) -> str:
    """Graph's documented encoding: base64, ``=`` stripped, ``/`` -> ``_`` and ``+`` -> ``-``, then ``u!``."""
    return "u!" + base64.urlsafe_b64encode(web_url.encode("utf-8")).decode("ascii").rstrip("=")


def decode_share_id(share_id: str) -> str | None:
    """The URL inside a ``u!`` share id; None for anything else (sharing tokens are not simulated).

    Padding is tolerated: the docs say to strip it, but a client that keeps it should not get a
    different item."""
    if not share_id.startswith("u!"):
        return None
    raw = share_id[2:].rstrip("=")
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _normalised(url: str) -> tuple[str, str, str] | None:
    """(scheme, host, decoded path): hosts compare case-insensitively and paths after percent-decoding,
    so ``Shared%20Documents`` and ``Shared Documents`` (or ``CONTOSO.sharepoint.com``) name the same item."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower(), unquote(parts.path).rstrip("/")


class SiteIndex:
    """Site bookkeeping and the web-URL lookup; the state it works on is the model's."""

    epoch: dt.datetime
    drives: dict[str, SimDrive]
    sites: dict[str, SimSite]

    def add_site(self, drive: SimDrive, host: str, path: str, name: str, display_name: str) -> SimSite:
        site_guid = uuid.uuid5(uuid.NAMESPACE_URL, "site:" + drive.id)
        web_guid = uuid.uuid5(uuid.NAMESPACE_URL, "web:" + drive.id)
        site = SimSite(
            f"{host},{site_guid},{web_guid}",
            name,
            display_name,
            f"https://{host}{path}",
            drive.id,
            self.epoch - dt.timedelta(days=400),
        )
        self.sites[site.id] = site
        drive.site_id = site.id
        return site

    def find_site(self, ref: str) -> SimSite | None:
        """By its id (Graph compares site ids case-insensitively); None when unknown or removed."""
        site = self.sites.get(ref) or next((s for s in self.sites.values() if s.id.lower() == ref.lower()), None)
        return None if site is None or site.removed else site

    def find_by_web_url(self, url: str) -> SimItem | None:
        """The live item whose webUrl is ``url`` (a drive's own URL is its root folder)."""
        target = _normalised(url)
        if target is None:
            return None
        for drive in self.drives.values():
            base = _normalised(drive.web_url)
            if drive.removed or base is None or base[:2] != target[:2]:
                continue
            if target[2] == base[2]:
                return drive.items[drive.root_id]
            if target[2].startswith(base[2] + "/"):
                return self._walk(drive, target[2][len(base[2]) + 1 :].split("/"))
        return None

    def _walk(self, drive: SimDrive, names: list[str]) -> SimItem | None:
        current = drive.items[drive.root_id]
        for name in names:
            found = next(
                (
                    drive.items[i]
                    for i in drive.order
                    if drive.items[i].parent_id == current.id
                    and drive.items[i].name == name
                    and not drive.items[i].deleted
                ),
                None,
            )
            if found is None:
                return None
            current = found
        return current
