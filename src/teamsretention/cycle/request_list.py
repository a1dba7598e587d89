"""The "Retention requests" list, read each cycle with listItem delta (an unchanged list costs one request).

- A new item is a request by whoever created it (the item's ``createdBy``, never a field): an exception or a
  legal hold becomes a *pending* exemption; a "Tag to assignment" row tags the recording to the code.
- A change of ``RequestStatus`` is a decision by whoever made the version that changed it (version history,
  ``lastModifiedBy``), never by a person or text field. A decision by anyone outside the roles, by the
  requester, or on the decider's own recordings is ignored, reported (cycle summary, DPO digest) and audited.
- A deleted item never revokes anything: it is reported, and the store remains the record.
- Invalid rows (a missing reason or legal basis, a bad link, an unknown code) are reported, never applied.

:func:`expire` turns approved exceptions past their end into ``expired`` (audited), list or no list.
"""

from __future__ import annotations

import dataclasses
import json

from ..domain import ExemptionStatus, RunMode, local_date
from ..errors import GraphError, NotFoundError
from ..lists import R_STATUS_APPROVED, R_STATUS_REJECTED, R_STATUS_REQUESTED, R_STATUS_REVOKED, REQUESTS, field_text
from ..policy.approval import Refusal, explain, may_decide
from ..ports import Identity, ListItemChange, ListItemVersion
from ..store import assignments
from ..store import directory as sync_store
from ..store import exemptions as store
from ..store.audit import AuditEvent, AuditKind
from ..store.exemptions import ItemMark
from . import request_rows as rows
from . import targets
from .config import CycleContext
from .request_rows import RowProblem, TagRow, label, parse_row
from .roles import cycle_roles

LIST_KEY, DELTA_KEY = "requests_list", "requests_list_delta"
_TO_STATUS = {R_STATUS_APPROVED: ExemptionStatus.APPROVED, R_STATUS_REJECTED: ExemptionStatus.REJECTED,
              R_STATUS_REVOKED: ExemptionStatus.REVOKED}


def list_url(ctx: CycleContext) -> str | None:
    """The list's web address (for the organizers' digests); None when no list is configured or none was read."""
    if not ctx.config.lists_site:
        return None
    known = sync_store.sync_state(ctx.db, LIST_KEY)
    return json.loads(known).get("web_url") if known else None


def expire(ctx: CycleContext, mode: RunMode) -> None:
    if mode is RunMode.PLAN:
        return
    store.expire_due(ctx.db, today=ctx.cycle_date, at=ctx.clock(), run_id=ctx.run_id)


class RequestListSync:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self.stats = ctx.report.governance
        self.roles = cycle_roles(ctx)
        self._read_again = False  # a row or a decision waits for what is not known yet: keep the delta link

    async def run(self, mode: RunMode) -> None:
        """Plan changes nothing: it reads no list (the next recorded cycle applies what is new)."""
        if mode is RunMode.PLAN or not self.ctx.config.lists_site:
            return
        try:
            await self._sync()
        except GraphError as exc:
            if exc.status == 404:  # the list (or site) was removed: look it up afresh next time
                self._forget_where()
            self.stats.problems.append(f"the {REQUESTS.display_name!r} list ({self.ctx.config.requests_list}) could "
                                       f"not be read ({exc.status} {exc.code}): what the store holds stands")
        finally:
            self.stats.problems += [p for p in self.roles.problems if p not in self.stats.problems]

    async def _where(self) -> tuple[str, str] | None:
        """(site id, list id), looked up once and kept: an unchanged list then costs one request a cycle."""
        db, cfg = self.ctx.db, self.ctx.config
        known = sync_store.sync_state(db, LIST_KEY)
        found = json.loads(known) if known else {}
        if found.get("site") == cfg.lists_site and found.get("name") == cfg.requests_list and not found.get("gone"):
            return found["site_id"], found["list_id"]
        assert cfg.lists_site is not None
        self.stats.list_requests += 1
        site = await self.ctx.gateway.get_site(cfg.lists_site)
        if site is None:
            self.stats.problems.append(f"lists.site = {cfg.lists_site}: no such site (run teamsretention provision)")
            return None
        self.stats.list_requests += 1
        info = await self.ctx.gateway.get_list(site.id, cfg.requests_list)
        if info is None:
            self.stats.problems.append(f"lists.requests = {cfg.requests_list!r}: no such list in {site.web_url} "
                                       "(run teamsretention provision)")
            return None
        sync_store.set_sync_state(db, LIST_KEY, json.dumps({
            "site": cfg.lists_site, "name": cfg.requests_list, "site_id": site.id, "list_id": info.id,
            "web_url": info.web_url}))
        sync_store.set_sync_state(db, DELTA_KEY, None)
        if (earlier := store.items_of_other_lists(db, info.id)) and found.get("list_id") != info.id:
            self.stats.problems.append(
                f"lists.requests = {cfg.requests_list!r} in {site.web_url} is another list (id {info.id}) than the "
                f"one the store read last: its items are read from the start, each named by this list; the {earlier} "
                f"item{'s' if earlier != 1 else ''} of other lists stay as the store recorded them (their "
                "exemptions stand: `teamsretention exemptions list` shows them, `teamsretention exemptions revoke` "
                "ends one)")
        return site.id, info.id

    def _forget_where(self) -> None:
        """Look the list up again next cycle, remembering which list was read (a list created again in its
        place is another list)."""
        known = sync_store.sync_state(self.ctx.db, LIST_KEY)
        if known:
            sync_store.set_sync_state(self.ctx.db, LIST_KEY, json.dumps({**json.loads(known), "gone": True}))

    async def _sync(self) -> None:
        where = await self._where()
        if where is None:
            return
        site_id, list_id = where
        link = sync_store.sync_state(self.ctx.db, DELTA_KEY)
        async for page in self.ctx.gateway.list_items_delta(site_id, list_id, link):
            self.stats.list_requests += 1  # one request per page
            for item in page.items:
                self.ctx.checkpoint()
                try:
                    await self._item(site_id, list_id, item)
                except _Vanished:
                    continue
            if page.delta_link and not self._read_again:
                sync_store.set_sync_state(self.ctx.db, DELTA_KEY, page.delta_link)

    # --- one item ------------------------------------------------------------------------------
    def _event(self, kind: AuditKind, mark: ItemMark, actor: str, reason: str, **detail: object) -> AuditEvent:
        return self.ctx.event(kind, None, reason=reason, actor=actor, source="list", list=mark.list_id,
                              list_item=mark.item_id, **detail)

    async def _item(self, site_id: str, list_id: str, item: ListItemChange) -> None:
        prev = store.request_item(self.ctx.db, list_id, item.id)
        if prev is None and not item.deleted:
            prev = await self._read_before_list_ids(site_id, list_id, item)
        if item.deleted:
            return self._deleted(list_id, item.id, prev)
        status = field_text(item.fields, "RequestStatus") or R_STATUS_REQUESTED
        if prev is None or (prev.exemption_id is None and prev.tag_key is None):
            if prev is not None and item.etag and prev.version_seen == item.etag:
                return  # reported invalid as it stands: read again only because the list's link was held back
            made = await self._new(site_id, list_id, item, status)
            if made is None or status == R_STATUS_REQUESTED:
                return
            prev = store.request_item(self.ctx.db, list_id, item.id)
        assert prev is not None
        if prev.tag_key is not None or prev.exemption_id is None:
            return
        if status == prev.status_seen and not self._unsettled(prev.exemption_id, status):
            return
        await self._decision(site_id, list_id, item, status, prev.exemption_id, prev.version_seen, prev.status_seen)

    async def _read_before_list_ids(self, site_id: str, list_id: str,
                                    item: ListItemChange) -> store.StoredRequestItem | None:
        """An item the store read before it kept list ids, whose list it does not know: it is this item only when
        this item asked for that exemption (the same creator, on the same day); else this is a new row."""
        legacy = store.request_item(self.ctx.db, "", item.id)
        e = store.get(self.ctx.db, legacy.exemption_id) if legacy and legacy.exemption_id else None
        if e is None or not e.requested_by_id:
            return None
        who = await self._creator(site_id, list_id, item)
        day = local_date(item.created_at, self.ctx.config.policy.timezone) if item.created_at else None
        if who is None or (who.id or "").lower() != e.requested_by_id.lower() or day != e.requested_on:
            return None
        store.adopt_item(self.ctx.db, list_id, item.id)
        return store.request_item(self.ctx.db, list_id, item.id)

    def _unsettled(self, exemption_id: str, status: str) -> bool:
        """The list shows a decision the store does not hold (it was ignored): a later version setting the same
        status again (put back, then set by an approver between two cycles) is a new decision."""
        e = store.get(self.ctx.db, exemption_id)
        return e is not None and status in _TO_STATUS and e.status is not _TO_STATUS[status]

    def _deleted(self, list_id: str, item_id: str, prev: store.StoredRequestItem | None) -> None:
        if prev is None or prev.deleted_at is not None or prev.exemption_id is None:
            return
        e = store.get(self.ctx.db, prev.exemption_id)
        status = e.status.value if e else "unknown"
        text = (f"list item {item_id} of exemption {prev.exemption_id} was deleted: the exemption stays {status} "
                "(the store is the record; to end it: teamsretention exemptions revoke)")
        self.stats.problems.append(text)
        mark = ItemMark(list_id, item_id, deleted_at=self.ctx.clock())
        store.note_item(self.ctx.db, mark, [self._event(
            AuditKind.LIST_ITEM_DELETED, mark, "unknown", text, exemption=prev.exemption_id, status=status)])

    def _invalid(self, list_id: str, item: ListItemChange, status: str, problem: str,
                 who: Identity | None = None) -> None:
        text = f"{REQUESTS.display_name} item {item.id}: {problem}; not applied"
        self.stats.problems.append(text)
        # an invalid row's mark keeps the eTag it was read with: the same row read again is not reported again
        mark = ItemMark(list_id, item.id, status_seen=status, version_seen=item.etag)
        store.note_item(self.ctx.db, mark, [
            self._event(AuditKind.REQUEST_INVALID, mark, label(who or item.created_by), text)])

    async def _creator(self, site_id: str, list_id: str, item: ListItemChange) -> Identity | None:
        """Who created the item. Graph's listItem delta documents ``createdBy`` with a display name only, so
        without an id there the item's first version (1.0) names its author; a history that no longer starts at
        1.0 names nobody we can trust."""
        if item.created_by is not None and item.created_by.id:
            return item.created_by
        versions = await self._versions(site_id, list_id, item.id)
        first = versions[-1] if versions else None
        if first is None or first.id != "1.0" or not rows.same_moment(first.modified_at, item.created_at):
            return None  # trimmed history, or one version overwritten in place (versioning off): nobody to trust
        return first.modified_by

    async def _versions(self, site_id: str, list_id: str, item_id: str) -> list[ListItemVersion]:
        """The item's versions, newest first. An item gone since the delta listed it raises _Vanished: it is
        skipped, and the next delta reports its deletion."""
        self.stats.list_requests += 1
        try:
            return await self.ctx.gateway.list_item_versions(site_id, list_id, item_id)
        except NotFoundError:
            raise _Vanished from None

    async def _new(self, site_id: str, list_id: str, item: ListItemChange, status: str) -> str | None:
        who = await self._creator(site_id, list_id, item)
        if who is None or not who.id:
            self._invalid(list_id, item, status, "its creator has no Entra identity (neither createdBy.user.id nor the "
                          "author of its first version; a history that does not start at the row's creation: turn on "
                          "the list's Versioning settings, then add the row again)")
            return None
        row = await parse_row(self.ctx, item, who)
        if isinstance(row, RowProblem):
            if row.unknown_code:
                self.stats.unknown_codes.append(f"{REQUESTS.display_name} item {item.id}: {row.text}")
            if row.transient and (until := rows.retry_until(self.ctx, item)) >= self.ctx.cycle_date:
                # what the next cycles may know (the recording's drive read, the assignment listed): not marked,
                # and the list is read from the same point again, until the item is that old
                self._read_again = True
                self.stats.problems.append(f"{REQUESTS.display_name} item {item.id}: {row.text}; not applied yet, "
                                           f"looked at again each cycle until {until} (its recording's drive or the "
                                           "Assignments list may not be read yet); still so then: correct the row")
                return None
            self._invalid(list_id, item, status, row.text, who)
            return None
        if isinstance(row, TagRow):
            return self._tag(list_id, item, row, status, who)
        made = store.request(self.ctx.db, dataclasses.replace(row, list_id=list_id), actor=label(who),
                             at=self.ctx.clock(), day=self.ctx.cycle_date, run_id=self.ctx.run_id,
                             mark=ItemMark(list_id, item.id, status_seen=R_STATUS_REQUESTED))
        self.stats.requests_applied += 1
        return made.id

    def _tag(self, list_id: str, item: ListItemChange, row: TagRow, status: str, who: Identity) -> str:
        tag_key = f"{row.code} {row.ref.key}"
        tag_recording(self.ctx, row, actor=label(who))
        store.note_item(self.ctx.db, ItemMark(list_id, item.id, status_seen=status, tag_key=tag_key), [])
        self.stats.requests_applied += 1
        return tag_key

    async def _decision(self, site_id: str, list_id: str, item: ListItemChange, status: str,
                        exemption_id: str, seen: str | None, seen_status: str | None) -> None:
        db, day = self.ctx.db, self.ctx.cycle_date
        versions = await self._versions(site_id, list_id, item.id)
        version = rows.deciding_version(versions, status)
        e = store.get(db, exemption_id)
        if e is None or version is None:
            self.stats.problems.append(f"{REQUESTS.display_name} item {item.id}: Status {status}, but its version "
                                       "history does not show who set it; not applied")
            return
        target = _TO_STATUS.get(status)
        if not rows.shows_who_set(versions, version, item):
            return self._no_history(item, status, e, version, target, list_id, seen, "is the oldest the history "
                                    "keeps, not the row's creation")
        if seen == rows.version_key(version) or (seen == version.id and status == seen_status):
            return  # the same decision, already handled (another field changed; a bare id: an older release's mark)
        if seen is not None and seen.split("@", 1)[0] == version.id:
            # the version already handled, saved over in place (versioning off): its last editor need not be who
            # set Status now, so nothing is applied
            return self._no_history(item, status, e, version, target, list_id, seen, "was saved over in place "
                                    "after teamsretention had read it")
        who, mark = version.modified_by, ItemMark(list_id, item.id, status_seen=status,
                                                  version_seen=rows.version_key(version))
        if e.status is target or (target is None and e.status is ExemptionStatus.PENDING):
            store.note_item(db, mark, [])
            return
        if target is None:
            return self._ignored(e.id, status, who, f"exemption {e.id} is {e.status.value} and a decision "
                                 "is never taken back in the list (revoke it instead)", mark, "transition")
        decider = await self.roles.decider(who.id if who else None, label(who))
        refusal = may_decide(decider, targets.covered(db, e))
        if (refusal is Refusal.NOT_APPROVER and self.roles.uncertain(decider.id)
                and (until := rows.retry_until(self.ctx, item)) >= day):
            # Graph failed us, not the decider: nothing is marked, and the list is read from the same point next
            # cycle, so this decision is looked at again (an approval is not lost to a 503)
            self._read_again = True
            self.stats.problems.append(f"{REQUESTS.display_name} item {item.id}: {label(who)} set {e.id} to {status}, "
                                       "but their roles could not be read from Entra; the decision is looked at "
                                       f"again each cycle until {until} (see the Entra problems above; `teamsretention "
                                       "check` tests the directory permissions)")
            return
        if refusal is not None:
            # the refused version stays the one that set this status: re-saving the row would not decide
            if target is ExemptionStatus.REVOKED:
                hint = (f"; {e.id} stays {e.status.value}: an approver revokes it by setting Status back to "
                        f"{R_STATUS_APPROVED} and then to {R_STATUS_REVOKED}, or with `teamsretention exemptions "
                        f"revoke {e.id}`")
            else:
                hint = (f"; {e.id} stays {e.status.value}: an approver decides by setting Status back to "
                        f"{R_STATUS_REQUESTED} and then to the decision, or with `teamsretention exemptions "
                        f"approve|reject {e.id}`")
            return self._ignored(e.id, status, who, explain(refusal, label(who)) + hint, mark, refusal.value)
        allowed = ExemptionStatus.APPROVED if target is ExemptionStatus.REVOKED else ExemptionStatus.PENDING
        if e.status is not allowed:
            return self._ignored(e.id, status, who, f"exemption {e.id} is {e.status.value}, so it cannot "
                                 f"become {target.value}", mark, "transition")
        terms = (rows.approved_terms(versions, version, e, self.ctx.config.policy.timezone, day)
                 if target is ExemptionStatus.APPROVED else rows.ApprovedTerms([]))
        if terms.refused:
            return self._ignored(e.id, status, who, rows.terms_text(terms.refused, e.id), mark, "terms_changed")
        store.decide(db, e.id, target, actor=label(who), at=self.ctx.clock(), day=day, source="list", mark=mark,
                     note=field_text(item.fields, "DecisionNote"), run_id=self.ctx.run_id, dates=terms.dates)
        self.stats.requests_applied += 1

    def _no_history(self, item: ListItemChange, status: str, e: store.StoredExemption, version: ListItemVersion,
                    target: ExemptionStatus | None, list_id: str, seen: str | None, how: str) -> None:
        """The version that set Status is not in the history: whoever it names (the last editor, with versioning
        off) may not be who set Status, so nothing is applied. Said again whenever the row is saved again."""
        moment = f"{version.modified_at:%Y-%m-%d %H:%M} UTC" if version.modified_at else "an unknown time"
        key = rows.version_key(version)
        mark = ItemMark(list_id, item.id, status_seen=status, version_seen=key)
        if key == seen or e.status is target or (target is None and e.status is ExemptionStatus.PENDING):
            return store.note_item(self.ctx.db, mark, [])
        text = rows.no_history_text(status, e.id, e.status.value, item.id, version, moment, how,
                                    revoke=target is ExemptionStatus.REVOKED)
        self._ignored(e.id, status, None, "", mark, "no_history", text=text)

    def _ignored(self, exemption_id: str, status: str, who: Identity | None, why: str,
                 mark: ItemMark, refusal: str, *, text: str | None = None) -> None:
        text = text or f"{label(who)} set {exemption_id} to {status} in the list (item {mark.item_id}): ignored, {why}"
        self.stats.ignored.append(text)
        store.note_item(self.ctx.db, mark, [self._event(AuditKind.DECISION_IGNORED, mark, label(who), text,
                                                        exemption=exemption_id, status=status, refusal=refusal)])


class _Vanished(Exception):
    """A list item deleted between the delta that listed it and the read of its versions."""


def tag_recording(ctx: CycleContext, row: TagRow, *, actor: str) -> None:
    """The one place a list row tags a recording (the assignments module owns tags)."""
    assignments.tag(ctx.db, row.code, row.ref, tagged_on=ctx.cycle_date, actor=actor, at=ctx.clock(),
                    day=ctx.cycle_date, source="list")
