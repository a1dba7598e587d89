"""``check``'s reads of Microsoft Graph: one of each kind the cycle makes, never a write (a mail only when asked).

Each read is one finding; a refusal names Graph's answer and the permission behind the call. A sign-in that
fails is one finding too, and the reads after it are not tried (each would fail the same way).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from ..cycle.directory import user_drive
from ..errors import ForbiddenError, GraphError, SignInError
from ..ports import DriveRef, GraphGateway, OutgoingMail
from ..settings import Settings
from .check import CheckReport, RolesSource, permission_findings, schedule_findings, store_findings
from .provision import column_problem, targets

T = TypeVar("T")
DRIVES_TRIED = 5  # users whose OneDrive is tried before saying none of them has one


async def _first_page(pages: AsyncIterator[T]) -> T | None:
    """The first page of a paged read, the rest left unread."""
    try:
        async for page in pages:
            return page
        return None
    finally:
        close = getattr(pages, "aclose", None)
        if close is not None:
            await close()


def _refused(report: CheckReport, area: str, what: str, exc: GraphError, permission: str) -> None:
    fix = (f"grant {permission} (see the permissions above)" if isinstance(exc, ForbiddenError) else
           "see Graph's answer; run check again, and with --debug for the detail")
    report.add(area, "fail", f"{what} failed: {exc}", fix)


async def graph_findings(report: CheckReport, gateway: GraphGateway, settings: Settings, *,
                         test_mail_to: str | None = None) -> None:
    """The reads in the cycle's order; a refused read is one failed finding (the next kind is still tried), a
    failed sign-in stops them all with one finding."""
    try:
        drive = await _guarded(_users_and_drive(report, gateway, settings))
        team_drive = await _guarded(_team(report, gateway, settings))
        await _guarded(_label(report, gateway, drive or team_drive))
        await _guarded(_lists(report, gateway, settings))
        await _guarded(_mailbox(report, gateway, settings, test_mail_to))
    except SignInError as exc:
        report.add("graph", "fail", f"sign-in failed, so nothing was read from {report.graph_endpoint}: {exc}",
                   "fix the sign-in as the message says (--debug shows the identity library's answer), then run "
                   "check again")


async def _guarded(coro: Awaitable[T]) -> T | None:
    try:
        return await coro
    except Refused:
        return None


class Refused(Exception):
    """Graph refused a read; its finding is recorded already."""


async def _call(report: CheckReport, area: str, what: str, permission: str, coro: Awaitable[T]) -> T:
    """Await ``coro``; a Graph refusal becomes a failed finding and raises :class:`Refused`."""
    try:
        return await coro
    except GraphError as exc:
        _refused(report, area, what, exc, permission)
        raise Refused from exc


async def _users_and_drive(report: CheckReport, gateway: GraphGateway, settings: Settings) -> DriveRef | None:
    page = await _call(report, "graph", "listing users (GET /users/delta)", "User.Read.All",
                       _first_page(gateway.users_delta(None)))
    users = page.users if page is not None else []
    report.add("graph", "ok", f"listed users: {len(users)} on the first page")
    if not settings.scope.onedrive or not users:
        return None
    for user in users[:DRIVES_TRIED]:
        who = user.upn or user.id
        drive = await _call(report, "graph", f"reading the OneDrive of {who}", "Files.Read.All",
                            user_drive(gateway, user))
        if drive is not None:
            report.add("graph", "ok", f"read the OneDrive of {who} ({drive.web_url or drive.id})")
            return drive
    report.add("graph", "warn", f"none of the first {min(len(users), DRIVES_TRIED)} users has a OneDrive, so no "
               "OneDrive was read", "nothing to fix unless they should have one (Graph never provisions it)")
    return None


async def _team(report: CheckReport, gateway: GraphGateway, settings: Settings) -> DriveRef | None:
    if not settings.scope.channel_sites:
        return None
    page = await _call(report, "graph", "listing teams (GET /groups/delta)", "GroupMember.Read.All",
                       _first_page(gateway.teams_delta(None)))
    teams = page.teams if page is not None else []
    if not teams:
        report.add("graph", "info", "no team on the first page of groups, so no channel site was read")
        return None
    team = teams[0]
    drives = await _call(report, "graph", f"reading the channel sites of team {team.display_name}",
                         "Files.Read.All and Channel.ReadBasic.All", gateway.get_team_drives(team))
    if drives.problems:
        report.add("graph", "warn", f"team {team.display_name}: {'; '.join(drives.problems)}",
                   "a channel whose folder Graph cannot give is reported by every cycle; see the reason")
    report.add("graph", "ok", f"read the channel site of team {team.display_name} ({len(drives.drives)} drive(s))")
    return drives.drives[0] if drives.drives else None


async def _label(report: CheckReport, gateway: GraphGateway, drive: DriveRef | None) -> None:
    if drive is None:
        report.add("graph", "info", "no drive was read, so no retention label was read")
        return
    where = drive.name or drive.id
    page = await _call(report, "graph", f"reading drive {where} (delta)", "Files.Read.All",
                       _first_page(gateway.drive_delta(drive.id, None)))
    items = [i for i in (page.items if page is not None else []) if not i.is_root and not i.deleted]
    files = [i for i in items if not i.is_folder] or items
    if not files:
        report.add("graph", "info", f"drive {where} holds no item, so no retention label was read")
        return
    item = files[0]
    state = await _call(report, "graph", f"reading the retention label of {item.name}", "Files.Read.All",
                        gateway.reread_item(drive.id, item.id))
    if state is None:
        report.add("graph", "warn", f"{item.name} in {where} was gone when its label was read", "run check again")
        return
    report.add("graph", "ok", f"read the retention label of {item.name} in {where}: "
               f"{state.label.name or 'none applied'}")


async def _lists(report: CheckReport, gateway: GraphGateway, settings: Settings) -> None:
    site_url = settings.lists.site
    if not site_url:
        return
    site = await _call(report, "lists", f"reading lists.site {site_url}", "Sites.Selected (granted on the site)",
                       gateway.get_site(site_url))
    if site is None:
        report.add("lists", "fail", f"lists.site {site_url}: Graph knows no such site (404)",
                   "check the URL, and that the app may read it (Sites.Selected granted on it)")
        return
    for target in targets(settings.lists.assignments, settings.lists.requests):
        try:
            found = await _call(report, "lists", f"reading list {target.display_name!r}", "Sites.Selected",
                                gateway.get_list(site.id, target.display_name))
        except Refused:
            continue  # named already; the next list is still read
        if found is None:
            report.add("lists", "fail", f"list {target.display_name!r} does not exist in {site_url}",
                       "create it with `teamsretention provision`")
            continue
        columns = {c.name: c for c in found.columns}
        problems = [f"{c.name}: missing" if c.name not in columns else f"{c.name}: {column_problem(c, columns[c.name])}"
                    for c in target.schema.columns
                    if c.name not in columns or column_problem(c, columns[c.name])]
        if problems:
            report.add("lists", "fail", f"list {target.display_name!r} ({found.web_url}): {'; '.join(problems)}",
                       "run `teamsretention provision` (it adds missing columns and explains mistyped ones)")
        else:
            report.add("lists", "ok", f"read list {target.display_name!r} with its {len(target.schema.columns)} "
                       f"columns ({found.web_url})")


async def _mailbox(report: CheckReport, gateway: GraphGateway, settings: Settings, test_mail_to: str | None) -> None:
    sender = settings.notifications.sender
    if not sender:
        if test_mail_to:
            report.add("mail", "fail", "--send-test-mail: notifications.sender is not set, so no mail was sent",
                       "set notifications.sender to the mailbox digests are sent from")
        return
    user = await _call(report, "mail", f"looking up notifications.sender {sender}", "User.Read.All",
                       gateway.get_user(sender))
    if user is None:
        report.add("mail", "fail", f"notifications.sender {sender}: no such user in the tenant",
                   "set notifications.sender to an existing mailbox (a shared mailbox is fine)")
        return
    has = (await gateway.have_mailboxes([user.id])).get(user.id)
    if has is False:
        report.add("mail", "fail", f"notifications.sender {sender} has no Exchange Online mailbox",
                   "give it a mailbox (or use a shared mailbox) before enforcing")
        return
    if isinstance(has, GraphError):
        report.add("mail", "warn", f"notifications.sender {sender} exists; whether it has a mailbox could not be "
                   f"read this time (Graph answered {has.status} {has.code})",
                   "run check again, or prove it with --send-test-mail")
    elif has is None:
        report.add("mail", "warn", f"notifications.sender {sender} exists; whether it has a mailbox could not be "
                   "read (MailboxSettings.Read)", "grant MailboxSettings.Read, or prove it with --send-test-mail")
    else:
        report.add("mail", "ok", f"notifications.sender {sender} exists and has a mailbox")
    if test_mail_to:
        await _test_mail(report, gateway, sender, test_mail_to)


async def _test_mail(report: CheckReport, gateway: GraphGateway, sender: str, to: str) -> None:
    text = ("This is a test message from teamsretention check: the app may send mail as this mailbox. "
            "Nothing needs to be done.")
    mail = OutgoingMail(to=[to], subject="teamsretention check: test mail", text=text, html=f"<p>{text}</p>",
                        language="en")
    try:
        await gateway.send_mail(sender, mail)
    except GraphError as exc:
        hint = getattr(exc, "hint", "") or "grant Mail.Send (and scope it to the sender with RBAC for Applications)"
        report.add("mail", "fail", f"test mail from {sender} to {to} was refused: {exc}", hint)
        return
    report.mail_accepted = True
    report.add("mail", "ok", f"test mail from {sender} to {to} was accepted (202; delivery is Exchange's)")


async def run_check(settings: Settings, gateway: GraphGateway, roles: RolesSource, *, now: dt.datetime,
                    test_mail_to: str | None = None) -> CheckReport:
    """Every finding, in the order they are printed: permissions, Graph reads, lists, mail, store, schedule."""
    reads = CheckReport(graph_endpoint=settings.graph_base_url)
    await graph_findings(reads, gateway, settings, test_mail_to=test_mail_to)
    report = CheckReport(graph_endpoint=settings.graph_base_url, mail_accepted=reads.mail_accepted)
    permission_findings(report, settings, await roles(), mail_accepted=reads.mail_accepted)
    report.findings.extend(reads.findings)
    store_findings(report, settings, now)
    schedule_findings(report, settings, now)
    return report
