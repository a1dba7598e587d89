"""Users, groups, teams and the drives they own (wire contract items 1–6)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from msgraph.graph_service_client import GraphServiceClient

from ..domain import DriveKind, Person
from ..errors import NotFoundError
from ..ports import DirectoryPage, DriveRef, Team, TeamsPage
from .client import quiet_sdk_imports
from .failures import translating
from .paging import Links, follow_delta, follow_pages
from .raw import RawJson
from .transform import json_id, person_from_json, require_id

USER_KEYS = ("displayName", "userPrincipalName", "mail", "accountEnabled", "preferredLanguage")
USER_SELECT = "$select=id," + ",".join(USER_KEYS)
GROUP_SELECT = "$select=id,displayName,resourceProvisioningOptions"
CHANNEL_SELECT = "$select=id,displayName,membershipType"
TEAM_OPTION = "Team"
_ANY = "_"  # placeholder id for request builders that are only used through with_url


class Directory:
    def __init__(self, client: GraphServiceClient, links: Links) -> None:
        self._links = links
        self._raw = RawJson(client)
        with quiet_sdk_imports():
            self._group_drive = client.groups.by_group_id(_ANY).drive
            self._channels = client.teams.by_team_id(_ANY).channels
            self._files_folder = client.teams.by_team_id(_ANY).channels.by_channel_id(_ANY).files_folder

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
        url = self._links.url("groups", group_id, "transitiveMembers", "microsoft.graph.user", query="$select=id")
        ids: set[str] = set()
        async for page in follow_pages(self._links, self._raw.get_page, url):
            ids.update(json_id(user, "user") for user in page.value)
        return ids

    async def get_user(self, user_id: str) -> Person | None:
        try:
            user = await self._raw.get_json(self._links.url("users", user_id, query=USER_SELECT))
        except NotFoundError:
            return None
        return person_from_json(user) if user is not None else None

    async def get_user_drive(self, user: Person) -> DriveRef | None:
        try:
            drive = await self._raw.get_json(self._links.url("users", user.id, "drive"))
        except NotFoundError:
            # Application permissions never auto-provision a OneDrive: 404 = this user has none.
            return None
        if drive is None:
            return None
        return DriveRef(id=json_id(drive, "drive"), kind=DriveKind.ONEDRIVE, owner_id=user.id,
                        name=user.upn or user.display_name, web_url=drive.get("webUrl"))

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

    async def get_team_drives(self, team: Team) -> list[DriveRef]:
        """The team site's library (standard channels' folders live in it) plus the drives of private and
        shared channels, which have sites of their own. Deduplicated by drive id."""
        drives: dict[str, DriveRef] = {}
        group_drive = self._group_drive
        try:
            with translating():
                drive = await group_drive.with_url(self._links.url("groups", team.id, "drive")).get()
        except NotFoundError:
            drive = None  # the team's site is not provisioned yet: nothing can be recorded in it
        if drive is not None:
            drive_id = require_id(drive, "drive")
            drives[drive_id] = DriveRef(id=drive_id, kind=DriveKind.CHANNEL, team_id=team.id,
                                        name=team.display_name, web_url=drive.web_url)
        for channel_id, channel_name in await self._own_site_channels(team.id):
            folder_builder = self._files_folder
            url = self._links.url("teams", team.id, "channels", channel_id, "filesFolder")
            with translating():
                folder = await folder_builder.with_url(url).get()
            parent = folder.parent_reference if folder is not None else None
            if parent is None or not parent.drive_id:
                continue  # no drive behind the folder (site still being created)
            if parent.drive_id not in drives:
                drives[parent.drive_id] = DriveRef(
                    id=parent.drive_id, kind=DriveKind.CHANNEL, team_id=team.id,
                    name=f"{team.display_name} / {channel_name}", web_url=folder.web_url if folder else None)
        return list(drives.values())

    async def _own_site_channels(self, team_id: str) -> list[tuple[str, str]]:
        """Channels whose files are not in the team site: private, shared, and any membership type we do
        not recognise (asking for its folder costs one request; missing a drive costs recordings)."""
        builder = self._channels
        url = self._links.url("teams", team_id, "channels", query=CHANNEL_SELECT)
        found: list[tuple[str, str]] = []
        async for page in follow_pages(self._links, lambda u: builder.with_url(u).get(), url):
            for channel in page.value or []:
                kind = _enum_value(channel.membership_type)
                if kind != "standard":
                    found.append((require_id(channel, "channel"), channel.display_name or ""))
        return found


def _enum_value(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))
