"""Users, groups, teams and the drives they own (wire contract items 1–6)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from msgraph.graph_service_client import GraphServiceClient

from ..domain import DriveKind, Person
from ..errors import ForbiddenError, GraphError, NotFoundError
from ..ports import DirectoryPage, DriveRef, Team, TeamDrives, TeamsPage
from .batch import Answer, GetBatches
from .paging import Links, follow_delta, follow_pages
from .raw import RawJson
from .transform import json_id, person_from_json

USER_KEYS = ("displayName", "userPrincipalName", "mail", "accountEnabled", "preferredLanguage")
USER_SELECT = "$select=id," + ",".join(USER_KEYS)
GROUP_SELECT = "$select=id,displayName,resourceProvisioningOptions"
CHANNEL_SELECT = "$select=id,displayName,membershipType"
TEAM_OPTION = "Team"
OWNER_SELECT = "$select=id," + ",".join(USER_KEYS)
# mailboxSettings answers these for a user without an Exchange Online mailbox.
NO_MAILBOX_CODES = frozenset({"MailboxNotEnabledForRESTAPI", "ResourceNotFound", "ErrorInvalidUser"})
USER_TYPE = "#microsoft.graph.user"
ADVANCED_QUERY = {"ConsistencyLevel": "eventual"}


class Directory:
    def __init__(self, client: GraphServiceClient, links: Links, gets: GetBatches[Any]) -> None:
        """``gets``: the client's JSON batches, for the lookups made for many users at once."""
        self._links = links
        self._raw = RawJson(client)
        self._gets = gets

    async def users_delta(self, delta_link: str | None) -> AsyncIterator[DirectoryPage]:
        start = self._links.url("users", "delta", query=USER_SELECT)
        async for page, reset in follow_delta(self._links, self._raw.get_page, start, delta_link):
            users: list[Person] = []
            removed: list[str] = []
            for user in page.value:
                user_id = json_id(user, "user")
                if "@removed" in user:
                    removed.append(user_id)
                elif any(key not in user for key in USER_KEYS):
                    # Delta may return an updated user with only the properties that changed; a Person
                    # built from that would read "no mailbox" or lose the language. Re-read the user.
                    full = await self.get_user(user_id)
                    if full is not None:  # not found right after delta listed it (replication): keep what we knew
                        users.append(full)
                else:
                    users.append(person_from_json(user))
            yield DirectoryPage(users=users, removed_ids=removed, delta_link=page.odata_delta_link, reset=reset)

    async def group_member_ids(self, group_id: str) -> set[str]:
        """Users among a group's transitive members.

        The cast ``/transitiveMembers/microsoft.graph.user`` is documented as an advanced query: it needs
        ``ConsistencyLevel: eventual`` and ``$count=true`` (learn.microsoft.com/graph/aad-advanced-queries), so
        both are sent on every page. Should Graph refuse it anyway (400), the members are read without the
        cast and filtered on ``@odata.type``: either answer governs exactly the group's users."""
        cast = self._links.url("groups", group_id, "transitiveMembers", "microsoft.graph.user",
                               query="$select=id&$count=true")
        ids: set[str] = set()
        try:
            async for page in follow_pages(self._links, lambda u: self._raw.get_page(u, ADVANCED_QUERY), cast):
                ids.update(json_id(user, "user") for user in page.value)
            return ids
        except GraphError as exc:
            if exc.status != 400:
                raise
        ids.clear()
        plain = self._links.url("groups", group_id, "transitiveMembers", query="$select=id")
        async for page in follow_pages(self._links, self._raw.get_page, plain):
            ids.update(json_id(member, "member") for member in page.value
                       if member.get("@odata.type") == USER_TYPE)
        return ids

    async def get_user(self, user_id: str) -> Person | None:
        try:
            user = await self._raw.get_json(self._links.url("users", user_id, query=USER_SELECT))
        except NotFoundError:
            return None
        return person_from_json(user) if user is not None else None

    async def get_user_drives(self, users: Sequence[Person]) -> dict[str, DriveRef | None | GraphError]:
        """Each user's OneDrive (``GET /users/{id}/drive``, 20 to a JSON batch), by user id: None when the user
        has none, the GraphError when the lookup failed."""
        answers = await self._gets.get({user.id: self._links.url("users", user.id, "drive") for user in users})
        return {user.id: _drive_of(user, answers[user.id]) for user in users}

    async def teams_delta(self, delta_link: str | None) -> AsyncIterator[TeamsPage]:
        start = self._links.url("groups", "delta", query=GROUP_SELECT)
        async for page, reset in follow_delta(self._links, self._raw.get_page, start, delta_link):
            teams: list[Team] = []
            removed: list[str] = []
            for group in page.value:
                group_id = json_id(group, "group")
                options = group.get("resourceProvisioningOptions")
                if "@removed" in group:
                    removed.append(group_id)
                elif not isinstance(options, list):
                    # An update that did not touch resourceProvisioningOptions may leave it out: we
                    # cannot tell whether it is a team, so keep whatever the caller knew.
                    continue
                elif TEAM_OPTION in options:
                    teams.append(Team(id=group_id, display_name=group.get("displayName") or ""))
                else:
                    removed.append(group_id)  # a plain group, or a group that is no longer a team
            yield TeamsPage(teams=teams, removed_ids=removed, delta_link=page.odata_delta_link, reset=reset)

    async def get_team_drives(self, team: Team) -> TeamDrives:
        """The team site's library (standard channels' folders live in it) plus the drives of private and
        shared channels, which have sites of their own. Deduplicated by drive id.

        Failures are isolated per channel: Graph documents ``filesFolder`` failing for some special characters
        in channel names, and an unprovisioned private channel answering 404 "Sharepoint folder not found.";
        the team's other drives are governed and the channel is reported by name. A migrated private channel
        may answer with the root folder of its own site's drive and no ``parentReference``: its drive is then
        resolved through the shares API (the folder's webUrl), else reported, never skipped silently."""
        found = TeamDrives()
        drives: dict[str, DriveRef] = {}
        try:
            drive = await self._raw.get_json(self._links.url("groups", team.id, "drive"))
        except NotFoundError:
            drive = None  # the team's site is not provisioned yet: nothing can be recorded in it
        if drive is not None:
            drive_id = json_id(drive, "drive")
            drives[drive_id] = DriveRef(id=drive_id, kind=DriveKind.CHANNEL, team_id=team.id,
                                        name=team.display_name, web_url=drive.get("webUrl"))
        for channel_id, channel_name in await self._own_site_channels(team.id):
            where = f"channel {channel_name!r} of team {team.display_name!r}"
            try:
                channel_drive, web_url = await self._channel_drive(team.id, channel_id)
            except GraphError as exc:
                found.problems.append(f"{where}: its files folder could not be read ({exc.status} {exc.code}: "
                                      f"{exc.message}); its recordings are not governed this cycle")
                continue
            if channel_drive is None:
                found.problems.append(f"{where}: Graph gave no drive for its files folder (site not provisioned, "
                                      "or a migrated channel whose drive could not be resolved)")
                continue
            if channel_drive not in drives:
                drives[channel_drive] = DriveRef(id=channel_drive, kind=DriveKind.CHANNEL, team_id=team.id,
                                                 name=f"{team.display_name} / {channel_name}", web_url=web_url)
        found.drives.extend(drives.values())
        return found

    async def _channel_drive(self, team_id: str, channel_id: str) -> tuple[str | None, str | None]:
        folder = await self._raw.get_json(self._links.url("teams", team_id, "channels", channel_id, "filesFolder"))
        folder = folder or {}
        web_url = folder.get("webUrl") if isinstance(folder.get("webUrl"), str) else None
        parent = folder.get("parentReference")
        drive_id = parent.get("driveId") if isinstance(parent, dict) else None
        if drive_id or not web_url:
            return drive_id or None, web_url
        return await self._drive_by_url(web_url), web_url

    async def _drive_by_url(self, web_url: str) -> str | None:
        """The drive holding the item at ``web_url``, through the shares API: the shared driveItem's
        parentReference when Graph gives it (not documented for a drive root), else the site's default drive,
        accepted only when it is the drive the URL points into."""
        token = "u!" + base64.urlsafe_b64encode(web_url.encode()).decode().rstrip("=")
        try:
            item = await self._raw.get_json(self._links.url("shares", token, "driveItem",
                                                            query="$select=id,webUrl,parentReference"))
            parent = (item or {}).get("parentReference")
            if isinstance(parent, dict) and parent.get("driveId"):
                return str(parent["driveId"])
            site = await self._raw.get_json(self._links.url("shares", token, "site", query="$select=id,webUrl"))
            if not site or not site.get("id"):
                return None
            drive = await self._raw.get_json(self._links.url("sites", str(site["id"]), "drive",
                                                             query="$select=id,webUrl"))
        except NotFoundError:
            return None
        if drive and drive.get("id") and _same_place(str(drive.get("webUrl") or ""), web_url):
            return str(drive["id"])
        return None

    async def team_owners(self, team_id: str) -> list[Person]:
        url = self._links.url("groups", team_id, "owners", query=OWNER_SELECT)
        owners: list[Person] = []
        async for page in follow_pages(self._links, self._raw.get_page, url):
            owners += [person_from_json(o) for o in page.value if o.get("@odata.type", USER_TYPE) == USER_TYPE]
        return owners

    async def have_mailboxes(self, user_ids: Sequence[str]) -> dict[str, bool | None | GraphError]:
        """``GET /users/{id}/mailboxSettings`` per user (20 to a JSON batch): 404 ``MailboxNotEnabledForRESTAPI``
        means no Exchange Online mailbox (a mail address alone does not make a mailbox anyone reads), False.
        Needs MailboxSettings.Read; without it (403), or on another 404, it cannot be told (None). Any other
        failure (a timeout, a 5xx after the retries, a failed batch) is that GraphError: asked again next time."""
        answers = await self._gets.get({uid: self._links.url("users", uid, "mailboxSettings", query="$select=timeZone")
                                        for uid in user_ids})
        return {uid: _mailbox_of(answer) for uid, answer in answers.items()}

    async def _own_site_channels(self, team_id: str) -> list[tuple[str, str]]:
        """Channels whose files are not in the team site: private, shared, and any membership type we do
        not recognise (asking for its folder costs one request; missing a drive costs recordings)."""
        url = self._links.url("teams", team_id, "channels", query=CHANNEL_SELECT)
        found: list[tuple[str, str]] = []
        async for page in follow_pages(self._links, self._raw.get_page, url):
            for channel in page.value:
                if channel.get("membershipType") != "standard":
                    found.append((json_id(channel, "channel"), str(channel.get("displayName") or "")))
        return found


def _drive_of(user: Person, answer: Answer) -> DriveRef | None | GraphError:
    if isinstance(answer, NotFoundError):
        return None  # application permissions never auto-provision a OneDrive: 404 = this user has none
    if isinstance(answer, GraphError):
        return answer
    if answer is None:
        return None
    try:
        drive_id = json_id(answer, "drive")
    except GraphError as exc:
        return exc
    return DriveRef(id=drive_id, kind=DriveKind.ONEDRIVE, owner_id=user.id, name=user.upn or user.display_name,
                    web_url=answer.get("webUrl"))


def _mailbox_of(answer: Answer) -> bool | None | GraphError:
    if isinstance(answer, NotFoundError):
        return False if answer.code in NO_MAILBOX_CODES else None
    if isinstance(answer, ForbiddenError):
        return None
    return answer if isinstance(answer, GraphError) else True


def _same_place(a: str, b: str) -> bool:
    """Two SharePoint URLs of the same library: host case and percent-encoding do not matter."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.netloc.lower(), unquote(pa.path).rstrip("/").lower()) == (
        pb.netloc.lower(), unquote(pb.path).rstrip("/").lower())
