"""``check``, the preflight: what the configuration, the app's permissions, the tenant and this machine allow.

Changes nothing and deletes nothing: Graph is only read (one mail is sent only with ``--send-test-mail``), the
state store is looked at read-only and never created or migrated, no directory is created. Each finding is a
:class:`Finding`: held (✓), failed (✗, with the exact fix), a warning (!, the product works with less) or
information (·). ``ok`` (exit 0) only when no required finding failed.

A store that does not exist yet is not a failure: the first ``plan`` or ``run`` creates it (its directory must
then be creatable, which is checked).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..settings import Settings
from ..settings.schedule import build_trigger, load_zone
from ..store.inspection import StoreStatus, inspect_store
from .check_permissions import Need, fix_for, needs_for

Status = Literal["ok", "fail", "warn", "info"]


@dataclass(frozen=True, slots=True)
class Finding:
    area: str  # permissions, graph, mail, store, schedule
    status: Status
    what: str  # what was found, naming the store, endpoint, site or mailbox
    fix: str = ""  # for fail and warn: what to do


@dataclass(slots=True)
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    roles: frozenset[str] | None = None
    next_cycles: list[dt.datetime] = field(default_factory=list)
    graph_endpoint: str = ""
    mail_accepted: bool = False  # --send-test-mail: Graph accepted the mail (202)

    @property
    def ok(self) -> bool:
        return not any(f.status == "fail" for f in self.findings)

    def add(self, area: str, status: Status, what: str, fix: str = "") -> None:
        self.findings.append(Finding(area, status, what, fix))


RolesSource = Callable[[], Awaitable[frozenset[str] | None]]


def permission_findings(report: CheckReport, settings: Settings, roles: frozenset[str] | None, *,
                        mail_accepted: bool = False) -> None:
    """One finding per need of the enabled features, against the token's roles."""
    report.roles = roles
    if roles is None:
        report.add("permissions", "warn", "the token's roles claim could not be read, so the application permissions "
                   "were not compared", "see the Graph reads below: a 403 names the permission that is missing")
        return
    for need in needs_for(settings):
        _permission(report, need, roles, mail_accepted=mail_accepted)
    extra = sorted(roles - {p for need in needs_for(settings) for p in (need.least, *need.also)})
    if extra:
        report.add("permissions", "info", f"granted but not needed by the enabled features: {', '.join(extra)} "
                   "(least privilege: remove what nothing uses)")


def _permission(report: CheckReport, need: Need, roles: frozenset[str], *, mail_accepted: bool) -> None:
    granted = need.met_by(roles)
    label = f"{need.feature}: {need.purpose}"
    if granted == need.least:
        hint = (f"Mail.Send in the token is tenant-wide (any mailbox); least privilege is {need.note}, without "
                "the Entra permission" if need.least == "Mail.Send" else "")
        report.add("permissions", "ok", f"{need.least}: {label}", hint)
    elif granted is not None:
        report.add("permissions", "ok", f"{granted}: {label} (least privilege would be {need.least})")
    elif need.least == "Mail.Send" and mail_accepted:
        report.add("permissions", "ok", f"Mail.Send: {label}: not in the token, but the test mail was accepted "
                   "(Exchange RBAC for Applications grants it)")
    else:
        report.add("permissions", "fail" if need.required else "warn", f"{need.least} missing: {label}",
                   fix_for(need))


def store_findings(report: CheckReport, settings: Settings, now: dt.datetime | None = None) -> None:
    """The state store (read-only) and, for SQLite, its directory; nothing is created or tightened. Then what
    every process sharing it obeys: the pause of deletions, the cycle lock, how the last cycle ended."""
    url = settings.database_url_value()
    origin = settings.store_origin()
    status = inspect_store(url)
    where = f"state store {status.location} ({origin})"
    if status.problem is not None:
        fix = ("check that the database server is running and reachable from this machine, the URL "
               "(database.url) and its credentials" if status.sqlite_file is None else
               "check the file: `teamsretention plan` reports a damaged or locked store with the way to restore it")
        report.add("store", "fail", f"{where} cannot be read: {status.problem}", fix)
    elif not status.exists:
        report.add("store", "info", f"{where}: not created yet; the first plan or run creates it")
    elif status.revision != status.head:
        report.add("store", "warn", f"{where} is at migration {status.revision}, this version's newest is "
                   f"{status.head}", "the next plan or run migrates it; back it up first")
    else:
        report.add("store", "ok", f"{where} is reachable and migrated (revision {status.revision})")
    state_findings(report, status, now or dt.datetime.now(dt.UTC))
    if status.sqlite_file is not None:
        directory_finding(report, Path(status.sqlite_file).parent, origin)


def _at(moment: dt.datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "an unknown time"


def state_findings(report: CheckReport, status: StoreStatus, now: dt.datetime) -> None:
    """Paused deletions (a warning: nothing due is deleted until resumed), the lock (a cycle running now, or a
    lease a process left behind) and the newest run (a warning unless it ended well)."""
    where = f"state store {status.location}"
    pause, lock, last = status.pause, status.lock, status.last_run
    if pause is not None and pause.paused:
        report.add("store", "warn", f"deletions are paused in the {where} since {_at(pause.since)} by "
                   f"{pause.by or 'an unknown actor'}: {pause.reason or 'no reason given'}; warnings still go out, "
                   "nothing due is deleted", "`teamsretention resume` allows deletions again (audited)")
    elif pause is not None:
        report.add("store", "info", f"deletions are not paused in the {where}")
    if lock is not None and lock.holder:
        if lock.expires_at is not None and lock.expires_at > now:
            report.add("store", "info", f"a cycle holds the cycle lock of the {where}: {lock.holder}, since "
                       f"{_at(lock.acquired_at)} (its lease runs until {_at(lock.expires_at)} unless renewed)")
        else:
            report.add("store", "warn", f"the cycle lock of the {where} is still held by {lock.holder}, whose "
                       f"lease ran out at {_at(lock.expires_at)}: that process stopped without releasing it",
                       "nothing to do if that process is gone: the next cycle takes the lock over; if it still "
                       "runs (hung), stop it")
    if last is None:
        if status.pause is not None:
            report.add("store", "info", f"no cycle has run on the {where} yet")
        return
    ended = f"finished {_at(last.finished_at)}" if last.finished_at else f"started {_at(last.started_at)}"
    what = f"the last cycle on the {where}: run {last.id}, {last.mode} for {last.cycle_date}, {last.status}, {ended}"
    alive = lock is not None and bool(lock.holder) and lock.expires_at is not None and lock.expires_at > now
    if last.status == "ok" or (last.status == "running" and alive):
        report.add("store", "info", what)
        return
    if last.status == "running":
        report.add("store", "warn", f"{what}, and no cycle holds the lock: it stopped without finishing (its "
                   "process ended)", "the next cycle records it as abandoned and goes on from the store; the "
                   "daemon's log (or journalctl -u teamsretention) says why it ended")
        return
    fixes = {"incomplete": "a drive, the directory or a send did not fully succeed: its warnings and deletions wait "
                           "for a complete read; the cycle's summary (log event cycle.summary) names what",
             "interrupted": "it was stopped at a checkpoint (a shutdown); the next cycle goes on from the store",
             "safety_stop": "the safety limits (policy.max_deletions_per_cycle, policy.max_deletion_share) held its "
                            "deletions back: its message says how many and how to let them through; `teamsretention "
                            "plan` lists them",
             "failed": "the next cycle tries again; if it fails the same way, the message says what to fix"}
    detail = f": {last.message[:600]}" if last.message else ""
    report.add("store", "warn", what + detail, fixes.get(last.status, "see the cycle's summary in the log"))


def directory_finding(report: CheckReport, directory: Path, origin: str) -> None:
    """Whether the store's directory is writable, or can be created (without creating it)."""
    if directory.is_dir():
        if os.access(directory, os.W_OK | os.X_OK):
            report.add("store", "ok", f"state directory {directory} is writable")
        else:
            report.add("store", "fail", f"state directory {directory} ({origin}) is not writable by this user",
                       "give the user the daemon runs as write access to it (SQLite writes its journal there), or "
                       "point state.directory elsewhere")
        return
    parent = directory
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if directory.exists() or not parent.is_dir():
        blocker = directory if directory.exists() else parent
        report.add("store", "fail", f"state directory {directory} ({origin}) cannot be used: {blocker} is not a "
                   "directory", "point state.directory at a directory (or a path one can be created at)")
    elif os.access(parent, os.W_OK | os.X_OK):
        report.add("store", "ok", f"state directory {directory}: not created yet; the first plan or run creates it "
                   f"(in {parent}, which is writable)")
    else:
        report.add("store", "fail", f"state directory {directory} ({origin}) does not exist and cannot be created: "
                   f"{parent} is not writable by this user", f"create {directory} for the daemon's user "
                   "(mode 700), or point state.directory elsewhere")


def schedule_findings(report: CheckReport, settings: Settings, now: dt.datetime, count: int = 3) -> None:
    """The time zone and cron (validated by the settings already) and the next ``count`` cycle times."""
    s = settings.schedule
    zone = load_zone(s.timezone)
    trigger = build_trigger(s.cron, s.timezone)
    moments: list[dt.datetime] = []
    previous: dt.datetime | None = None
    moment = now.astimezone(zone)
    while len(moments) < count:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        moments.append(fire.astimezone(zone))
        previous, moment = fire, fire + dt.timedelta(seconds=1)
    report.next_cycles = moments
    shown = ", ".join(m.strftime("%a %Y-%m-%d %H:%M %Z") for m in moments) or "none"
    report.add("schedule", "ok", f"schedule.timezone {s.timezone} and schedule.cron {s.cron!r} are valid; the next "
               f"cycles: {shown}")
