"""The Assignments list and the tag rules, each cycle (governance step parts 1 and 3).

**The list** (when ``[lists] site`` is set) is the source of truth for the assignments its items own: each
cycle reads its changes with listItem delta (the delta link, the site and list ids are kept in the store's
sync_state, so an unchanged list costs one request) and creates, closes, reopens or updates the list-owned
assignments, audited with the identity of the item's ``lastModifiedBy`` and source ``list``. A row that is
invalid (no code, a date that is no date, an unknown status, ...) is reported every cycle until it is fixed,
and never applied. A deleted item is reported and audited; its assignment stays as the store holds it.

**Tag rules** (``[assignments] tag_rules``) are read over every tracked recording's meeting subject and file
name (so recordings found or renamed today, and recordings whose code became known today, are covered): a
code naming an active assignment tags the recording, audited with actor ``rule:<pattern>``, source ``rule``;
an unknown code is reported, never guessed; a recording that was ever tagged to that assignment (and maybe
untagged by an administrator since) is left alone: an explicit untag wins over a rule.

``plan`` writes nothing: it reads no list and tags nothing, and says on each recording what the next cycle's
rules would do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..domain import AssignmentStatus, RunMode, local_date
from ..errors import GraphError, NotFoundError
from ..lists import A_STATUS_ACTIVE, A_STATUS_CLOSED, ASSIGNMENTS, field_date, field_text
from ..policy.tagging import compile_rules, find_code
from ..ports import Identity, ListItemChange
from ..store import assignments
from ..store import directory as directory_store
from ..store.assignments import Acting, Assignment, Fields, TagRequest
from .config import CycleContext

STATE_KEY = "list:assignments"


def identity_text(who: Identity | None) -> str:
    """The acting identity as the audit trail names it: ``<displayName> <entra object id>``."""
    if who is None:
        return "unknown (the list item names no editor)"
    name = who.display_name or who.email or "unknown"
    return f"{name} {who.id}" if who.id else f"{name} (no Entra object id)"


class AssignmentSync:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self.stats = ctx.report.governance

    async def run(self, mode: RunMode) -> None:
        if self.ctx.config.lists_site and mode is not RunMode.PLAN:
            await self.sync_list()
        self.apply_tag_rules(mode)
        self.note_closed_tags()

    # --- the Assignments list ------------------------------------------------------------------------
    def _where(self) -> str:
        return f"the {self.ctx.config.assignments_list} list of {self.ctx.config.lists_site}"

    def _load_state(self) -> dict[str, Any]:
        cfg = self.ctx.config
        try:
            state = json.loads(directory_store.sync_state(self.ctx.db, STATE_KEY) or "{}")
        except ValueError:
            state = {}
        if not isinstance(state, dict) or state.get("site") != cfg.lists_site or state.get(
                "list") != cfg.assignments_list:
            state = {"site": cfg.lists_site, "list": cfg.assignments_list}  # another list: read it whole
        state.setdefault("invalid", {})
        state.setdefault("deleted", [])
        return state

    def _unreadable(self, why: str) -> None:
        problem = f"{self._where()} could not be read ({why}): the assignments stay as the store holds them"
        self.stats.problems.append(problem)
        self.ctx.report.add_problem(problem)

    async def sync_list(self) -> None:
        gw, cfg = self.ctx.gateway, self.ctx.config
        state = self._load_state()
        site_id, list_id = state.get("site_id"), state.get("list_id")
        items: dict[str, ListItemChange] = {}
        delta: str | None = None
        try:
            if not site_id or not list_id:
                site = await gw.get_site(cfg.lists_site or "")
                self.stats.list_requests += 1
                if site is None:
                    return self._unreadable("lists.site names no site Graph knows")
                found = await gw.get_list(site.id, cfg.assignments_list)
                self.stats.list_requests += 1
                if found is None:
                    return self._unreadable(f"the site has no list named '{cfg.assignments_list}' "
                                            "(lists.assignments): run `teamsretention provision`")
                site_id, list_id = site.id, found.id
                state.update(site_id=site_id, list_id=list_id, delta=None)
                self._new_list(list_id, site.web_url, state.get("items_of"))
                # kept at once: a first read that fails does not look the list up (and say so) again
                directory_store.set_sync_state(self.ctx.db, STATE_KEY, json.dumps(state))
            async for page in gw.list_items_delta(site_id, list_id, state.get("delta")):
                self.stats.list_requests += 1
                for item in page.items:
                    items[item.id] = item
                delta = page.delta_link or delta
            editors, vanished = await self._editors(site_id, list_id, items.values())
        except NotFoundError:
            state.update(site_id=None, list_id=None, delta=None)  # gone or renamed: look it up again next time
            directory_store.set_sync_state(self.ctx.db, STATE_KEY, json.dumps(state))
            return self._unreadable("the list or its site is gone (404)")
        except GraphError as exc:
            return self._unreadable(str(exc))
        assert isinstance(list_id, str)
        if state.setdefault("items_of", list_id) != list_id:  # what is known of the earlier list's items
            state.update(items_of=list_id, invalid={}, deleted=[])
        changes = self._changes(list_id, [i for i in items.values() if i.id not in vanished], state, editors)
        # an item gone between the delta and its versions: read these changes again next cycle (its deletion then)
        state["delta"] = state.get("delta") if vanished else delta
        changed = assignments.put(self.ctx.db, changes, state=(STATE_KEY, json.dumps(state)))
        self.stats.assignments_changed += len(set(changed))
        self.stats.problems.extend(f"{self._where()}, item {k}: {v}; not applied"
                                   for k, v in sorted(state["invalid"].items()))

    def _new_list(self, list_id: str, site_url: str, previous: str | None) -> None:
        """The list was looked up: items of an earlier list (deleted, then created again) own nothing of this one,
        and that is said once."""
        if (earlier := assignments.owned_by_other_lists(self.ctx.db, list_id)) and previous != list_id:
            which = ("is another list than the one the store read last" if previous else
                     "was looked up afresh, and the store does not know which list its list-owned assignments came "
                     "from")
            self.stats.problems.append(
                f"lists.assignments = {self.ctx.config.assignments_list!r} in {site_url} (id {list_id}) {which}: "
                f"{earlier} assignment{'s' if earlier != 1 else ''} owned by items of another list stay as the store "
                "holds them, and an item of this list with the same code manages one again (`teamsretention "
                "assignments list` shows them)")

    async def _editors(self, site_id: str, list_id: str,
                       items: Iterable[ListItemChange]) -> tuple[dict[str, Identity | None], set[str]]:
        """Who made each change. Graph's listItem delta documents no ``lastModifiedBy`` (and ``createdBy``
        without an id), so where the delta item does not name its editor with an Entra id, the item's newest
        version does (one request per changed item; an unchanged list costs none)."""
        editors: dict[str, Identity | None] = {}
        vanished: set[str] = set()
        for item in items:
            if item.deleted:
                continue
            who = item.last_modified_by
            if who is None or not who.id:
                self.stats.list_requests += 1
                try:
                    versions = await self.ctx.gateway.list_item_versions(site_id, list_id, item.id)
                except NotFoundError:
                    vanished.add(item.id)
                    continue
                who = versions[0].modified_by if versions else who
            editors[item.id] = who
        return editors, vanished

    def _changes(self, list_id: str, items: list[ListItemChange], state: dict[str, Any],
                 editors: dict[str, Identity | None]) -> list[tuple[Fields, Acting]]:
        known = {a.code: a for a in assignments.list_all(self.ctx.db)}
        # an item id names an item of this list only: an earlier list's item 1 owns nothing here
        owned = {a.list_item_id: a for a in known.values() if a.list_item_id and a.list_id == list_id}
        deleted: set[str] = set(state["deleted"])
        changes: list[tuple[Fields, Acting]] = []
        at, day = self.ctx.clock(), self.ctx.cycle_date
        for item in sorted(items, key=lambda i: (i.modified_at is None, i.modified_at or at, i.id)):
            state["invalid"].pop(item.id, None)
            if item.deleted:
                owner = owned.get(item.id)
                if owner is not None and item.id not in deleted:
                    deleted.add(item.id)
                    assignments.item_deleted(self.ctx.db, owner.code, item.id, list_name=self._where(),
                                             acting=Acting(identity_text(None), "list", at, day))
                    self.stats.problems.append(
                        f"{self._where()}: item {item.id} (assignment {owner.code}) was deleted; the assignment "
                        f"stays {owner.status.value} as the store holds it (add an item with code {owner.code} "
                        "to manage it in the list again)")
                continue
            parsed = self._parse(list_id, item, known, owned, deleted)
            if isinstance(parsed, str):
                state["invalid"][item.id] = parsed
                continue
            deleted.discard(item.id)
            changes.append((parsed, Acting(identity_text(editors.get(item.id, item.last_modified_by)), "list", at,
                                           day)))
            # later items in this sync see this one as the owner
            previous = known.get(parsed.code)
            if previous is not None and previous.list_item_id and previous.list_id == list_id \
                    and previous.list_item_id != item.id:
                owned.pop(previous.list_item_id, None)
            owned[item.id] = Assignment(parsed.code, parsed.title, parsed.client, AssignmentStatus.ACTIVE,
                                        parsed.opened_on, parsed.closed_on, None, "list", item.id, "", list_id)
            known[parsed.code] = owned[item.id]
        state["deleted"] = sorted(deleted)
        return changes

    def _parse(self, list_id: str, item: ListItemChange, known: dict[str, Assignment],
               owned: dict[str, Assignment], deleted: set[str]) -> Fields | str:
        """The item as an assignment, or why it is invalid (naming the column and the value)."""
        f, tz = item.fields, self.ctx.config.policy.timezone
        code = field_text(f, "Title")
        if not code:
            return "Title (the assignment code) is empty"
        if len(code) > 100 or any(ch.isspace() for ch in code):
            return f"Title {code!r} is no assignment code (at most 100 characters, no spaces)"
        status = field_text(f, "AssignmentStatus") or A_STATUS_ACTIVE
        if status not in (A_STATUS_ACTIVE, A_STATUS_CLOSED):
            return (f"Status (AssignmentStatus) {status!r} is not one of {A_STATUS_ACTIVE}, {A_STATUS_CLOSED}")
        dates = {}
        for column in ("OpenedOn", "ClosedOn"):
            display = ASSIGNMENTS.column(column).display_name
            try:
                dates[column] = field_date(f, column, tz)
            except ValueError:
                return f"{display} ({column}) {f.get(column)!r} is not a date"
        opened, closed = dates["OpenedOn"], dates["ClosedOn"]
        if opened is None:
            return "Opened (OpenedOn) is empty"
        if status == A_STATUS_ACTIVE and closed is not None:
            return f"Status is {A_STATUS_ACTIVE} but Closed (ClosedOn) is set to {closed}: clear one of them"
        mine = owned.get(item.id)
        if status == A_STATUS_CLOSED and closed is None:
            # closed when the status was set, as the list records it; an edit of another column of a row already
            # closed leaves that date (else each edit would move the closing, and its notice, later)
            already = mine.closed_on if mine is not None and mine.status is AssignmentStatus.CLOSED else None
            closed = already or local_date(item.modified_at or self.ctx.clock(), tz)
        if closed is not None and closed < opened:
            return f"Closed (ClosedOn) {closed} is before Opened (OpenedOn) {opened}"
        if mine is not None and mine.code != code:
            return (f"Title changed the code from {mine.code} to {code}: a code cannot change (close "
                    f"{mine.code} and add a new item for {code})")
        other = known.get(code)
        if other is not None and other.list_item_id is not None and other.list_id == list_id \
                and other.list_item_id != item.id and other.list_item_id not in deleted:
            return f"code {code} already belongs to item {other.list_item_id} of the list"
        title = field_text(f, "AssignmentTitle") or code
        return Fields(code, title, field_text(f, "Client") or None, opened, closed, item.id, list_id)

    # --- tag rules -----------------------------------------------------------------------------------
    def apply_tag_rules(self, mode: RunMode) -> None:
        rules = compile_rules(self.ctx.config.tag_rules)
        if not rules:
            return
        db = self.ctx.db
        known = {a.code: a for a in assignments.list_all(db)}
        history = {(t.code, t.ref.key) for t in assignments.all_tags(db)}
        at, day = self.ctx.clock(), self.ctx.cycle_date
        requests: list[TagRequest] = []
        for c in assignments.candidates(db):
            match = find_code(rules, c.name)
            if match is None or (match.code, c.ref.key) in history:
                continue
            found = known.get(match.code)
            if found is None:
                self.stats.unknown_codes.append(f"{c.name}: code {match.code} is no known assignment "
                                                f"(tag rule {match.pattern}); not tagged")
                self._note(c.ref.key, f"its {match.matched_in} names {match.code}, which is no known assignment: "
                                      "kept nothing by it")
                continue
            if found.status is AssignmentStatus.CLOSED:
                self._note(c.ref.key, f"its {match.matched_in} names {match.code}, closed on {found.closed_on}: "
                                      "not tagged, kept nothing by it")
                continue
            if mode is RunMode.PLAN:
                self._note(c.ref.key, f"the next cycle tags it to {match.code} (tag rule {match.pattern})")
                continue
            requests.append(TagRequest(match.code, c.ref, Acting(f"rule:{match.pattern}", "rule", at, day),
                                       c.name, c.organizer_id,
                                       note=f" Tag rule {match.pattern} found {match.code} in its {match.matched_in}."))
        if requests:
            self.stats.tagged_by_rule += len(assignments.tag_many(db, requests, tagged_on=day))

    # --- what plan says on a recording ---------------------------------------------------------------
    def note_closed_tags(self) -> None:
        known = {a.code: a for a in assignments.list_all(self.ctx.db)}
        for t in assignments.all_tags(self.ctx.db):
            a = known.get(t.code)
            if not t.active or a is None or a.status is not AssignmentStatus.CLOSED:
                continue
            after = a.closed_on is not None and t.tagged_on > a.closed_on
            self._note(t.ref.key, f"tagged to {t.code} on {t.tagged_on}, after it closed on {a.closed_on}: "
                                  "keeps nothing" if after else
                                  f"tagged to {t.code}, closed on {a.closed_on}: kept nothing since")

    def _note(self, key: str, text: str) -> None:
        notes = self.stats.notes.setdefault(key, [])
        if text not in notes:
            notes.append(text)
