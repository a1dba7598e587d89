"""The governance sections: who approves exemptions, the two Microsoft Lists, and the tag rules."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import field_validator

from .sections import _Section

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class ApproverSettings(_Section):
    """Who may decide exemptions: UPNs, Entra object ids of users, or Entra group ids (transitive members)."""

    dpo: list[str] = []
    it_admins: list[str] = []

    @field_validator("dpo", "it_admins")
    @classmethod
    def _check_identities(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        for v in cleaned:
            if not (_GUID.match(v) or re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", v)):
                raise ValueError(f"{v!r} is neither a UPN (name@domain) nor an Entra object or group id (a GUID)")
        return cleaned


class ListSettings(_Section):
    """The two Microsoft Lists (``teamsretention provision`` creates them). No site: no lists, CLI only."""

    site: str | None = None  # https://contoso.sharepoint.com/sites/records, or contoso.sharepoint.com:/sites/records
    assignments: str = "Assignments"
    requests: str = "Retention requests"

    @field_validator("site")
    @classmethod
    def _check_site(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        parts = urlsplit(text)
        if parts.scheme in ("http", "https"):
            if not parts.hostname or not parts.path.strip("/"):
                raise ValueError(f"{text!r}: a site URL names the host and the site's path "
                                 "(https://contoso.sharepoint.com/sites/records)")
            return text.rstrip("/")
        if re.match(r"^[A-Za-z0-9.-]+:/.+", text):
            return text
        raise ValueError(f"{text!r} is not a site URL (https://host/sites/name) or host:/sites/name")

    @field_validator("assignments", "requests")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a list's display name cannot be empty")
        return value.strip()


class AssignmentSettings(_Section):
    """Tag rules: regular expressions over a recording's meeting subject / file name; the named group
    ``code`` yields the assignment code (``\\[(?P<code>[A-Z]+-\\d+)\\]`` finds ``ACME-0042`` in
    ``[ACME-0042] Kickoff``). An unknown code is reported, never guessed."""

    tag_rules: list[str] = []

    @field_validator("tag_rules")
    @classmethod
    def _check_rules(cls, value: list[str]) -> list[str]:
        for rule in value:
            try:
                pattern = re.compile(rule)
            except re.error as exc:
                raise ValueError(f"{rule!r} is not a regular expression: {exc}") from None
            if "code" not in pattern.groupindex:
                raise ValueError(f"{rule!r} has no named group (?P<code>...) for the assignment code")
        return value
