"""Who reads an organizer's digest (design §3): the organizer when reachable, a team's owners for a recording
no user made, nobody otherwise (the warn step then sends to the fallback contact)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

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
        self._people: dict[str, StoredPerson | None] = {}  # organizers read ahead for a batch of digests
        self._mailboxes: dict[str, bool | None] = {}  # what Graph said this cycle, by person id
        self._unverified_noted = False
        self._failed_checks: set[str] = set()  # people whose check failed this cycle (asked again next cycle)
        self._failed_line, self._failed_first = 0, ""  # the report line that says so, and whom it names first

    async def prepare(self, organizer_ids: Iterable[str]) -> None:
        """Before a batch of digests: their organizers as the store knows them (one query), and the mailboxes
        due to be asked about, asked at once (the gateway puts 20 in one JSON batch) and stored in one
        transaction, instead of a request and a commit per digest."""
        ids = [i for i in dict.fromkeys(organizer_ids) if i and not i.startswith(TEAM_PREFIX)]
        known = directory.people_by_id(self.ctx.db, ids)
        self._people = {i: known.get(i) for i in ids}
        await self._ask([p for p in known.values() if self._due(p) and p.person().reachable])

    async def of(self, organizer_id: str, items: list[Evaluated]) -> tuple[Person, list[str]]:
        """Who reads this digest: the organizer when reachable (a mailbox Exchange has, an enabled account), the
        team's owners for a recording no user made; nobody (the fallback contact then) otherwise. When Graph
        cannot say whether the organizer has a mailbox, the fallback contact is added: notice nobody reads is
        no notice."""
        if organizer_id.startswith(TEAM_PREFIX):
            team_id = organizer_id.removeprefix(TEAM_PREFIX)
            owners = await self._team_owners(team_id)
            name = next((e.location.split(" / ")[0] for e in items if e.location), team_id)
            stored_owners = directory.people_by_id(self.ctx.db, [o.id for o in owners if o.reachable and o.mail])
            await self._ask([p for p in stored_owners.values() if self._due(p)])
            reachable = []
            for owner in owners:  # an owner's mail address, like an organizer's, needs a mailbox behind it
                stored = stored_owners.get(owner.id)
                if owner.reachable and owner.mail and (stored is None or await self._mailbox(stored) is not False):
                    reachable.append(owner.mail)
            return Person(id=organizer_id, display_name=f"the owners of {name}",
                          mail=", ".join(reachable) or None), reachable
        if not organizer_id:
            stored = None
        elif organizer_id in self._people:
            stored = self._people[organizer_id]
        else:
            stored = directory.person(self.ctx.db, organizer_id)
        if stored is None:
            return Person(id=organizer_id or "unknown", display_name=organizer_id or "unknown organizer"), []
        organizer = stored.person()
        if not organizer.reachable or organizer.mail is None:
            return organizer, []
        mailbox = await self._mailbox(stored)
        if mailbox is False:
            return dataclasses.replace(organizer, mail=None), []
        if mailbox is None and self.ctx.config.fallback_contact:
            if organizer.id not in self._failed_checks:  # a failed check has said so already
                self._note_unverified(organizer)
            return organizer, [organizer.mail, self.ctx.config.fallback_contact]
        return organizer, [organizer.mail]

    def _due(self, person: StoredPerson) -> bool:
        """Whether Graph must be asked about this person's mailbox: asked once a week (a mail address alone is
        no mailbox), and at most once a cycle."""
        if person.id in self._mailboxes:
            return False
        checked = person.mailbox_checked_at
        return checked is None or self.ctx.clock() - checked >= MAILBOX_RECHECK

    async def _mailbox(self, person: StoredPerson) -> bool | None:
        if not self._due(person):
            return self._mailboxes.get(person.id, person.mailbox)
        await self._ask([person])
        return self._mailboxes[person.id]

    async def _ask(self, people: list[StoredPerson]) -> None:
        """Graph's answers are stored for a week; a check that failed this time (not a missing permission) counts
        as "cannot be told" for this cycle only, and is asked again at the next."""
        if not people:
            return
        found = await self.ctx.gateway.have_mailboxes([p.id for p in people])
        answers: dict[str, bool | None] = {}
        for person in people:
            answer = found.get(person.id, GraphError(0, "missingAnswer", "the gateway gave no answer"))
            if isinstance(answer, GraphError):
                self._note_failed(person, answer)
                self._mailboxes[person.id] = None
            else:
                answers[person.id] = answer
        directory.record_mailboxes(self.ctx.db, answers, self.ctx.clock())
        self._mailboxes.update(answers)

    def _note_failed(self, person: StoredPerson, error: GraphError) -> None:
        """One report line for the cycle's failed checks: the first person, and how many more."""
        problems = self.ctx.report.problems
        if self._failed_checks and self._failed_line < len(problems):
            del problems[self._failed_line]
        self._failed_checks.add(person.id)
        self._failed_line = len(problems)
        first = self._failed_first or f"{person.upn or person.id} ({error.status} {error.code})"
        self._failed_first = first
        others = len(self._failed_checks) - 1
        more = f" and {others} more {'person' if others == 1 else 'people'}" if others else ""
        problems.append(f"could not check whether {first}{more} has a mailbox (Graph's mailboxSettings failed): "
                        "their digests went to them and, when it is set, also to notifications.fallback_contact; "
                        "nothing to do, they are checked again next cycle")
        log.warning("mailbox.check_failed", **self.ctx.organizer(person.id).log_fields(), error=str(error))

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
