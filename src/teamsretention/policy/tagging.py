"""Tag rules (pure): regular expressions over a recording's meeting subject and file name that yield an
assignment code (``[ACME-0042] Kickoff`` -> ``ACME-0042``).

A Teams recording's file name is ``<meeting subject>-<yyyymmdd_hhmmss>-Meeting Recording.mp4``: the subject is
what precedes the timestamp. Each rule is tried on the subject, then on the whole file name; the first rule
that matches gives the code. A code is used as it is written: it is never corrected, completed or guessed;
whether it names a known assignment is for the caller to check (and to report when it does not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TEAMS_SUFFIX = re.compile(r"-\d{8}_\d{6}(?:-[^/]*)?\.[A-Za-z0-9]+$")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{2,5}$")


@dataclass(frozen=True, slots=True)
class Match:
    code: str
    pattern: str  # the rule that matched, as configured
    matched_in: str  # "subject" | "file name"


def meeting_subject(file_name: str) -> str:
    """The meeting subject a Teams recording's file name starts with (the name without its extension when it
    does not follow the Teams pattern)."""
    stripped = _TEAMS_SUFFIX.sub("", file_name)
    if stripped != file_name:
        return stripped.strip()
    return _EXTENSION.sub("", file_name).strip()


def compile_rules(patterns: tuple[str, ...] | list[str]) -> tuple[re.Pattern[str], ...]:
    """The rules as configured (settings checked each compiles and has a group ``code``)."""
    return tuple(re.compile(p) for p in patterns)


def find_code(rules: tuple[re.Pattern[str], ...], file_name: str) -> Match | None:
    """The code the first matching rule yields, or None when no rule matches (or the group is empty)."""
    subject = meeting_subject(file_name)
    for rule in rules:
        for text, where in ((subject, "subject"), (file_name, "file name")):
            found = rule.search(text)
            code = (found.group("code") or "").strip() if found else ""
            if code:
                return Match(code, rule.pattern, where)
    return None
