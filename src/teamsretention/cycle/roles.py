"""Who holds a role: ``approvers.dpo`` and ``approvers.it_admins`` resolved against Entra.

An entry is a UPN (looked up to its object id), a user's object id, or a group's id (its members, however
deep, hold the role: ``transitiveMemberOf``). Everything read is cached for the life of one :class:`Roles`
(one cycle, one CLI command). Fail closed: an entry or a membership that cannot be read grants nothing, and
is reported in :attr:`Roles.problems`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import GraphError, TransientGraphError
from ..policy.approval import Decider, Role
from ..ports import GraphGateway

if TYPE_CHECKING:
    from .config import CycleContext


def cycle_roles(ctx: CycleContext) -> Roles:
    """The cycle's roles, resolved once per cycle (memberships cached for every step that asks)."""
    found = ctx.shared.get("roles")
    if not isinstance(found, Roles):
        found = ctx.shared["roles"] = Roles(ctx.gateway, dpo=ctx.config.dpo, it_admins=ctx.config.it_admins)
    return found


class Roles:
    def __init__(self, gateway: GraphGateway, *, dpo: tuple[str, ...], it_admins: tuple[str, ...]) -> None:
        self.gateway = gateway
        self.entries = {Role.DPO: tuple(dpo), Role.IT_ADMIN: tuple(it_admins)}
        self.problems: list[str] = []
        self._upns: dict[str, str | None] = {}  # UPN (lower case) -> object id
        self._groups: dict[str, frozenset[str] | None] = {}  # user id -> transitive group ids (None: unreadable)
        self._upn_unread = False  # an approver's UPN could not be looked up (Graph failed): anyone may hold it
        self._groups_unread: set[str] = set()  # users whose memberships Graph failed to give

    @property
    def configured(self) -> bool:
        return any(self.entries.values())

    def uncertain(self, user_id: str | None) -> bool:
        """Whether "no role" for ``user_id`` may come from a lookup Graph failed (a transient error, not an
        answer such as 404 or 403): a decision refused for it is looked at again, not taken for a refusal."""
        return user_id is not None and bool(user_id) and (self._upn_unread or user_id.lower() in self._groups_unread)

    async def roles_of(self, user_id: str | None) -> frozenset[Role]:
        if not user_id:
            return frozenset()
        uid = user_id.lower()
        held: set[Role] = set()
        for role, entries in self.entries.items():
            for entry in entries:
                if await self._matches(entry, uid):
                    held.add(role)
                    break
        return frozenset(held)

    async def decider(self, user_id: str | None, name: str = "") -> Decider:
        return Decider(user_id, await self.roles_of(user_id), name)

    async def _matches(self, entry: str, uid: str) -> bool:
        if "@" in entry:
            return (await self._upn_id(entry)) == uid
        if entry.lower() == uid:
            return True
        groups = await self._groups_of(uid)
        return groups is not None and entry.lower() in groups

    async def _upn_id(self, upn: str) -> str | None:
        key = upn.lower()
        if key not in self._upns:
            try:
                person = await self.gateway.get_user(upn)
            except GraphError as exc:
                self.problems.append(f"approver {upn} could not be looked up in Entra ({exc.status} {exc.code}): "
                                     "that entry grants no role this time")
                self._upn_unread = self._upn_unread or isinstance(exc, TransientGraphError)
                person = None
            else:
                if person is None:
                    self.problems.append(f"approver {upn} is no Entra user: check approvers.dpo / it_admins")
            self._upns[key] = person.id.lower() if person is not None else None
        return self._upns[key]

    async def _groups_of(self, uid: str) -> frozenset[str] | None:
        if uid not in self._groups:
            try:
                ids = await self.gateway.transitive_group_ids(uid)
            except GraphError as exc:
                self.problems.append(f"the group memberships of {uid} could not be read ({exc.status} {exc.code}): "
                                     "no role through a group for them this time")
                if isinstance(exc, TransientGraphError):
                    self._groups_unread.add(uid)
                self._groups[uid] = None
            else:
                self._groups[uid] = frozenset(i.lower() for i in ids)
        return self._groups[uid]

    async def addresses(self, role: Role) -> list[str]:
        """The mail addresses of the role's holders: users by UPN or id, the members of a group."""
        found: list[str] = []
        for entry in self.entries[role]:
            try:
                person = await self.gateway.get_user(entry)
                if person is not None:
                    people = [person]
                else:
                    people = [p for m in sorted(await self.gateway.group_member_ids(entry))
                              if (p := await self.gateway.get_user(m)) is not None]
            except GraphError as exc:
                self.problems.append(f"approver {entry}: mail address not readable ({exc.status} {exc.code})")
                continue
            found += [p.mail for p in people if p.reachable and p.mail and p.mail not in found]
        return found
