"""Who reads an organizer's digest (design §3): the organizer when reachable, a team's owners for a recording
no user made, nobody otherwise (the warn step then sends to the fallback contact)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import structlog

from ..domain import Person
from ..errors import GraphError
from ..store import directory
from ..store.directory import StoredPerson
from .config import CycleContext
from .outcome import Evaluated

log = structlog.get_logger(__name__)

TEAM_PREFIX = "team:"  # the digest key of a team's owners, for recordings no user made
MAILBOX_RECHECK = dt.timedelta(days=7)


class Recipients:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self._owners: dict[str, list[Person]] = {}  # team id -> owners, read once per cycle
        self._unverified_noted = False

    async def of(self, organizer_id: str, items: list[Evaluated]) -> tuple[Person, list[str]]:
        """Who reads this digest: the organizer when reachable (a mailbox Exchange has, an enabled account), the
        team's owners for a recording no user made; nobody (the fallback contact then) otherwise. When Graph
        cannot say whether the organizer has a mailbox, the fallback contact is added: notice nobody reads is
        no notice."""
        if organizer_id.startswith(TEAM_PREFIX):
            team_id = organizer_id.removeprefix(TEAM_PREFIX)
            owners = await self._team_owners(team_id)
            name = next((e.location.split(" / ")[0] for e in items if e.location), team_id)
            reachable = []
            for owner in owners:  # an owner's mail address, like an organizer's, needs a mailbox behind it
                stored = directory.person(self.ctx.db, owner.id)
                if owner.reachable and owner.mail and (stored is None or await self._mailbox(stored) is not False):
                    reachable.append(owner.mail)
            return Person(id=organizer_id, display_name=f"the owners of {name}",
                          mail=", ".join(reachable) or None), reachable
        stored = directory.person(self.ctx.db, organizer_id) if organizer_id else None
        if stored is None:
            return Person(id=organizer_id or "unknown", display_name=organizer_id or "unknown organizer"), []
        organizer = stored.person()
        if not organizer.reachable or organizer.mail is None:
            return organizer, []
        mailbox = await self._mailbox(stored)
        if mailbox is False:
            return dataclasses.replace(organizer, mail=None), []
        if mailbox is None and self.ctx.config.fallback_contact:
            self._note_unverified(organizer)
            return organizer, [organizer.mail, self.ctx.config.fallback_contact]
        return organizer, [organizer.mail]

    async def _mailbox(self, person: StoredPerson) -> bool | None:
        """Whether the organizer has a mailbox, asked once a week (a mail address alone is no mailbox)."""
        now = self.ctx.clock()
        if person.mailbox_checked_at is not None and now - person.mailbox_checked_at < MAILBOX_RECHECK:
            return person.mailbox
        found = await self.ctx.gateway.has_mailbox(person.id)
        directory.record_mailbox(self.ctx.db, person.id, found, now)
        return found

    def _note_unverified(self, organizer: Person) -> None:
        if not self._unverified_noted:
            self._unverified_noted = True
            self.ctx.report.problems.append(
                "could not tell whether organizers have a mailbox (Graph answered no mailboxSettings; grant the "
                "application permission MailboxSettings.Read): their digests also went to "
                f"notifications.fallback_contact = {self.ctx.config.fallback_contact}")

    async def _team_owners(self, team_id: str) -> list[Person]:
        if team_id not in self._owners:
            try:
                self._owners[team_id] = await self.ctx.gateway.team_owners(team_id)
            except GraphError as exc:
                log.warning("team.owners_failed", team_id=team_id, error=str(exc))
                self._owners[team_id] = []
        return self._owners[team_id]
