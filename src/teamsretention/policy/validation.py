"""The rules a [policy] must follow, in one place: settings apply them key by key (naming the key and its
source), :func:`validate_policy` applies them to a whole :class:`~teamsretention.domain.PolicyConfig`.

Each check returns ``None`` when the value is usable, else what is wrong, as the end of a sentence that
starts with the key ("must be at least 1").
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..domain import PolicyConfig


def check_at_least(value: int, minimum: int) -> str | None:
    return None if value >= minimum else f"must be at least {minimum}"


def check_warning_days(days: Sequence[int]) -> str | None:
    if not days:
        return "must name at least one day: no deletion without notice"
    if min(days) < 1 or len(set(days)) != len(days):
        return "must be distinct positive numbers of days, e.g. [7, 1]"
    return None


def check_minimum_notice(days: int, warning_days: Sequence[int] | None) -> str | None:
    """At least 1, and never more than the largest warning offset (else no warning could give it)."""
    if days < 1:
        return "must be at least 1"
    if warning_days and days > max(warning_days):
        return f"must be at most max(policy.warning_days) = {max(warning_days)}"
    return None


def check_poll_interval(days: int, retention_days: int | None, warning_days: Sequence[int] | None) -> str | None:
    """At least 1; at most retention - the largest warning offset - 1, so that a recording arriving in a drive
    read that seldom is still found before its first warning is due."""
    if days < 1:
        return "must be at least 1 (1: every drive is read daily)"
    if retention_days and warning_days:
        most = retention_days - max(warning_days) - 1
        if days > most:
            return (f"must be at most policy.retention_days - max(policy.warning_days) - 1 = {max(most, 1)}, so "
                    "that a new recording is found before its first warning is due")
    return None


def check_timezone(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a directory: OSError
        return f"unknown time zone {name!r} (use an IANA name such as Europe/Stockholm)"
    return None


def validate_policy(policy: PolicyConfig) -> list[str]:
    """Problems with a whole policy, one sentence each naming the key; empty when it is usable."""
    checks = [
        ("retention_days", policy.retention_days, check_at_least(policy.retention_days, 1)),
        ("assignment_max_days", policy.assignment_max_days, check_at_least(policy.assignment_max_days, 1)),
        ("pending_request_grace_days", policy.pending_request_grace_days,
         check_at_least(policy.pending_request_grace_days, 0)),
        ("warning_days", list(policy.warning_days), check_warning_days(policy.warning_days)),
        ("minimum_notice_days", policy.minimum_notice_days,
         check_minimum_notice(policy.minimum_notice_days, policy.warning_days)),
        ("timezone", policy.timezone, check_timezone(policy.timezone)),
    ]
    return [f"{key} = {value!r}: {problem}" for key, value, problem in checks if problem]
