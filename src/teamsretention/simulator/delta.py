"""Delta queries: paging through a full enumeration, and replaying only what changed since a token.

One mechanism serves ``/drives/{id}/root/delta``, ``/users/delta`` and ``/groups/delta``. Each collection
keeps a creation-ordered list (walked by a full enumeration) and a change log of sequence numbers (replayed
from a token). Nothing is materialised beyond one page, and an unchanged collection answers a token
replay with one binary search and an empty page, so the benchmark's quiet second cycle stays cheap.

Delta link lifecycle:
- no token: full enumeration. Its nextLinks carry the change sequence at the start ("snap"); its deltaLink
  replays from there, so whatever changed while the client was paging comes again (repeats are allowed).
- deltaLink / change nextLink: only objects whose latest change is after the token, oldest change first,
  each at most once per page walk (stale log entries of an object that changed again are skipped).

Every link token also numbers the page it leads to, so the knob ``next_link_loops`` can make a second page
link back to the first one (``loop_link``): a client that follows links blindly would never finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request

from .endpoint import GraphFault
from .model import ChangeLog, TenantModel
from .wire import decode_token


class Tracked(Protocol):
    seq: int


@dataclass(frozen=True, slots=True)
class Position:
    mode: str  # F: full enumeration, C: changes in progress, D: a deltaLink (changes from seq)
    seq: int
    cursor: int = 0
    page: int = 0  # 0: the first page of a walk (no token, or a deltaLink)


@dataclass(slots=True)
class Page:
    values: list[dict[str, Any]]
    next: Position | None  # more pages: a nextLink at this position
    delta: Position | None  # last page: a deltaLink at this position


def start_position(log: ChangeLog) -> Position:
    return Position("F", log.last, 0)


def read_page(
    *,
    order: list[str],
    log: ChangeLog,
    lookup: Callable[[str], Any],
    is_gone: Callable[[Any], bool],
    render: Callable[[Any], dict[str, Any]],
    position: Position,
    limit: int,
    repeat_items: bool = False,
) -> Page:
    """One page from ``position``. ``render`` is called for every object returned, gone ones included
    (a change replay reports deletions; a full enumeration skips them)."""
    take = max(1, limit - 1) if repeat_items and limit > 1 else limit
    if position.mode == "F":
        picked, next_pos = _full_page(order, lookup, is_gone, position, take)
        if next_pos is None:
            next_pos, delta = None, Position("D", position.seq)
        else:
            delta = None
    else:
        picked, next_pos = _change_page(log, lookup, position, take)
        delta = None if next_pos is not None else Position("D", log.last)
    values = [render(obj) for obj in picked]
    if repeat_items and values:
        # Graph may return the same item more than once in one feed; clients must keep the last.
        values.append(render(picked[0]))
    return Page(values, next_pos, delta)


def _full_page(
    order: list[str],
    lookup: Callable[[str], Any],
    is_gone: Callable[[Any], bool],
    position: Position,
    take: int,
) -> tuple[list[Any], Position | None]:
    picked: list[Any] = []
    index = position.cursor
    while index < len(order):
        obj = lookup(order[index])
        index += 1
        if is_gone(obj):
            continue
        if len(picked) == take:
            return picked, Position("F", position.seq, index - 1)
        picked.append(obj)
    return picked, None


def _change_page(
    log: ChangeLog, lookup: Callable[[str], Any], position: Position, take: int
) -> tuple[list[Any], Position | None]:
    picked: list[Any] = []
    last_seq = position.seq
    for seq, obj in _current_changes(log, lookup, position.seq):
        if len(picked) == take:
            return picked, Position("C", last_seq)
        picked.append(obj)
        last_seq = seq
    return picked, None


def _current_changes(log: ChangeLog, lookup: Callable[[str], Any], after: int) -> Iterator[tuple[int, Any]]:
    for seq, obj_id in log.since(after):
        obj = lookup(obj_id)
        if obj.seq == seq:  # an older entry of an object that changed again later is stale
            yield seq, obj


def read_token(
    sim: TenantModel, scope: str, token: str | None, fresh_url: str, *, delta: bool = True
) -> tuple[Position | None, str | None]:
    """The position a link token stands for (None: no token); 410 + Location when it is expired."""
    if token is None:
        return None, None
    decoded = decode_token(token)
    expired = decoded is None or decoded[0] != scope or decoded[1] != sim.token_generation
    if delta and sim.knobs.expire_delta_tokens:
        # One switch expires every token handed out so far (as when Graph drops its change history);
        # the knob resets itself so the client's resync can succeed.
        sim.knobs.expire_delta_tokens = False
        sim.token_generation += 1
        expired = True
    if expired or decoded is None:
        raise GraphFault(
            410,
            "resyncRequired",
            "Resync required. The delta token is no longer valid; enumerate again from the Location.",
            headers={"Location": fresh_url},
        )
    _, _, mode, seq, cursor, select, page = decoded
    return Position(mode, seq, cursor, 0 if mode == "D" else page), select


def page_number(position: Position | None) -> int:
    return 0 if position is None else position.page


def looped_scopes(sim: TenantModel) -> set[str]:
    """The knob ``next_link_loops`` with its references resolved: drive entries may name the drive's owner
    (a user, team or channel key), ``members:`` / ``owners:`` entries may use a group's scenario key."""
    out: set[str] = set()
    for entry in sim.knobs.next_link_loops:
        out.add(entry)
        kind, sep, ref = entry.partition(":")
        if sep and kind in ("members", "owners"):
            out.add(f"{kind}:{sim.resolve(ref)}")
        elif (drive_id := sim.drive_for_ref(entry)) is not None:
            out.add(drive_id)
    return out


def loop_link(sim: TenantModel, request: Request, scope: str, page: int, next_link: str) -> str:
    """The nextLink to hand out on page ``page`` of ``scope``: ``next_link``, unless the scope loops, in
    which case the first page's URL is remembered and the second page links back to it."""
    if scope not in looped_scopes(sim):
        return next_link
    if page == 0:
        sim.loop_first_links[scope] = str(request.url)
    elif page == 1 and scope in sim.loop_first_links:
        return sim.loop_first_links[scope]
    return next_link
