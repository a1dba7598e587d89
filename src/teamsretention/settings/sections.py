"""The configuration's sections: one pydantic model per TOML table, each key validated on its own.

Rules that belong to the policy are applied by ``policy.validation`` (one source of truth); cron and
time zone checks by :mod:`.schedule`; database URLs are parsed by the store.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationInfo, field_validator

from ..domain import DEFAULT_FOLDER_NAMES, DEFAULT_NAME_SUFFIXES
from ..endpoints import CLOUDS, is_loopback_host
from ..files import mode_text, open_to_others
from ..policy import validation as rules
from ..ports import AuthMode
from ..store.urls import is_database_url
from . import schedule

# (section, key) pairs that hold secrets: never read from the file, never shown.
SECRET_KEYS = frozenset({("graph", "client_secret"), ("graph", "certificate_password")})


def _existing_file(value: Path | None) -> Path | None:
    """A secret's file (client secret, certificate and its key, certificate password, database URL): it must
    exist and, as ssh insists for a private key, be readable by its owner only."""
    if value is None:
        return None
    path = value.expanduser()
    if not path.is_file():
        raise ValueError(f"file {str(path)!r} does not exist or is not a regular file")
    mode = open_to_others(path)
    if mode is not None:
        raise ValueError(f"file {str(path)!r} holds a secret and other users can access it (mode {mode_text(mode)}); "
                         f"it is not used: make it readable by its owner only, `chmod 600 {path}`")
    return path


class _Section(BaseModel):
    # validate_default: cross-key checks (minimum_notice_days against warning_days) must also run when
    # one side keeps its default.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_booleans(cls, value: Any, info: ValidationInfo) -> Any:
        """A switch is true or false, nothing else: pydantic would read "yes", "on", "1" or 1 as true, and
        ``enforce = "yes"`` deleting recordings is not a guess to make (the environment's "true" / "false" are
        turned into booleans by the loader before they get here)."""
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and field.annotation is bool and not isinstance(value, bool):
            raise ValueError("must be true or false (a TOML boolean, without quotes)")
        return value


MAX_DELTA_PAGE_SIZE = 1000  # the most items a OneDrive/SharePoint page holds, whatever $top asks for


class TenantSettings(_Section):
    tenant_id: str | None = None
    client_id: str | None = None


class GraphSettings(_Section):
    cloud: str = "global"
    graph_endpoint: str | None = None
    auth: AuthMode = "client_secret"
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    certificate_path: Path | None = None
    certificate_password: SecretStr | None = None
    certificate_password_file: Path | None = None
    max_concurrency: int = 8
    # SharePoint's per-app per-tenant budget by licences: 1,200 RU/min up to 1k, 2,400 up to 5k, 3,600 up to
    # 15k, 4,800 up to 50k, 6,000 above (graph-notes.md); 0 turns pacing off (Retry-After still honoured).
    ru_budget_per_minute: int = 1200
    delta_page_size: int = 1000  # $top of a drive's full enumeration: a page costs the same RU however full
    user_agent_org: str | None = None

    _files = field_validator("client_secret_file", "certificate_path", "certificate_password_file")(
        _existing_file)

    @field_validator("client_secret_file", "certificate_password_file")
    @classmethod
    def _check_one_source(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        direct = (info.field_name or "").removesuffix("_file")
        if value is not None and info.data.get(direct) is not None:
            raise ValueError(f"set graph.{direct} (environment) or graph.{info.field_name}, not both")
        return value

    @field_validator("cloud")
    @classmethod
    def _check_cloud(cls, value: str) -> str:
        if value not in CLOUDS:
            raise ValueError(f"must be one of {' | '.join(CLOUDS)}")
        return value

    @field_validator("graph_endpoint")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://graph.microsoft.com")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise ValueError("plain http is allowed only for a loopback host (localhost, 127.0.0.1, ::1)")
        return value.rstrip("/")

    @field_validator("auth")
    @classmethod
    def _check_auth(cls, value: str, info: ValidationInfo) -> str:
        if value == "none" and "graph_endpoint" in info.data:  # absent when the endpoint itself failed
            endpoint = info.data["graph_endpoint"]
            if not (endpoint and is_loopback_host(urlsplit(endpoint).hostname)):
                raise ValueError('"none" is allowed only with a loopback graph.graph_endpoint '
                                 "(the simulator or another local emulator)")
        return value

    @field_validator("max_concurrency")
    @classmethod
    def _check_concurrency(cls, value: int) -> int:
        if not 1 <= value <= 64:
            raise ValueError("must be between 1 and 64")
        return value

    @field_validator("delta_page_size")
    @classmethod
    def _check_delta_page_size(cls, value: int) -> int:
        if not 1 <= value <= MAX_DELTA_PAGE_SIZE:
            raise ValueError(f"must be between 1 and {MAX_DELTA_PAGE_SIZE} items (Graph's largest page); "
                             "200 is Graph's default")
        return value

    @field_validator("ru_budget_per_minute")
    @classmethod
    def _check_ru_budget(cls, value: int) -> int:
        if value != 0 and not 60 <= value <= 60_000:
            raise ValueError("must be 0 (pacing off) or between 60 and 60000 resource units per minute; "
                             "SharePoint's bands are 1200, 2400, 3600, 4800 and 6000 by licence count")
        return value


class ScopeSettings(_Section):
    include_groups: list[str] = []  # empty: all users
    exclude_users: list[str] = []
    onedrive: bool = True
    channel_sites: bool = True
    teams: list[str] = []  # empty: all teams


def _at_least(minimum: int, *names: str) -> Any:
    def check(value: int) -> int:
        problem = rules.check_at_least(value, minimum)
        if problem:
            raise ValueError(problem)
        return value

    return field_validator(*names)(check)


class PolicySettings(_Section):
    retention_days: int = 30
    warning_days: tuple[int, ...] = (7, 1)
    minimum_notice_days: int = 7
    assignment_max_days: int = 365
    pending_request_grace_days: int = 14
    enforce: bool = False
    delete_mode: Literal["recycle", "permanent"] = "recycle"
    max_deletions_per_cycle: int = 200
    max_deletion_share: float = 0.25
    deletion_share_minimum: int = 20
    blocked_retry_days: tuple[int, ...] = (1, 2, 4, 8, 16)
    restore_window_days: int = 93
    max_poll_interval_days: int = 7  # an idle drive is read this often (1: every drive daily)

    _positive = _at_least(1, "retention_days", "assignment_max_days", "restore_window_days")
    # 0 is meaningful here: no grace for pending requests; no deletions at all; share counted from the start.
    _not_negative = _at_least(0, "pending_request_grace_days", "max_deletions_per_cycle",
                              "deletion_share_minimum")

    @field_validator("warning_days")
    @classmethod
    def _check_warning_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        problem = rules.check_warning_days(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("minimum_notice_days")
    @classmethod
    def _check_notice(cls, value: int, info: ValidationInfo) -> int:
        problem = rules.check_minimum_notice(value, info.data.get("warning_days"))
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("max_poll_interval_days")
    @classmethod
    def _check_poll_interval(cls, value: int, info: ValidationInfo) -> int:
        problem = rules.check_poll_interval(value, info.data.get("retention_days"), info.data.get("warning_days"))
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("max_deletion_share")
    @classmethod
    def _check_share(cls, value: float) -> float:
        if not 0 < value <= 1:
            raise ValueError("must be a fraction in (0, 1], e.g. 0.25")
        return value

    @field_validator("blocked_retry_days")
    @classmethod
    def _check_retry_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or min(value) < 1 or list(value) != sorted(value):
            raise ValueError("must be positive numbers of days that never shrink, e.g. [1, 2, 4, 8, 16]")
        return value

    @field_validator("restore_window_days")
    @classmethod
    def _check_restore(cls, value: int) -> int:
        if value > 93:  # SharePoint/OneDrive keep deleted items 93 days at most, across both recycle bins
            raise ValueError("must be at most 93 (the recycle bins keep deleted items 93 days)")
        return value


class NotificationSettings(_Section):
    sender: str | None = None
    language: Literal["sv", "en"] = "sv"
    fallback_contact: str | None = None
    contact: str | None = None
    max_items_per_digest: int = 50
    # The weekly DPO digest (pending requests, holds due for review, ignored decisions, exceptions ending):
    # sent by the first cycle on or after this weekday; to dpo_digest_to, else the DPO approvers' mailboxes.
    dpo_digest_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = (
        "monday")
    dpo_digest_to: list[str] = []
    # the name in https://<name>.sharepoint.com: links in digests then point only to <name>.sharepoint.com
    # and <name>-my.sharepoint.com (unset: to any host of the cloud's SharePoint domain)
    sharepoint_tenant: str | None = None

    _positive = _at_least(1, "max_items_per_digest")

    @field_validator("sharepoint_tenant")
    @classmethod
    def _check_tenant(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", name):
            raise ValueError("must be the tenant's name as in https://<name>.sharepoint.com (letters, digits, "
                             f"hyphens), not {value!r}")
        return name


class ScheduleSettings(_Section):
    timezone: str = "Europe/Stockholm"  # before cron: the cron check needs the zone
    cron: str = "0 6 * * *"
    shutdown_timeout_seconds: int = 30

    _positive = _at_least(1, "shutdown_timeout_seconds")

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        problem = rules.check_timezone(value)
        if problem:  # pydantic collects ValueError only
            raise ValueError(problem)
        return value

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str, info: ValidationInfo) -> str:
        problems = schedule.validate_cron(value, info.data.get("timezone"))
        if problems:
            raise ValueError("; ".join(problems))
        return value


class DatabaseSettings(_Section):
    url: SecretStr | None = None  # a SecretStr because it may carry a password
    url_file: Path | None = None

    _files = field_validator("url_file")(_existing_file)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_database_url(value.get_secret_value()):
            raise ValueError("is not a database URL SQLAlchemy understands (e.g. postgresql+psycopg://host/db)")
        return value

    @field_validator("url_file")
    @classmethod
    def _check_one_source(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and info.data.get("url") is not None:
            raise ValueError("set database.url or database.url_file, not both")
        return value


class StateSettings(_Section):
    directory: Path | None = None  # None: $XDG_STATE_HOME/teamsretention, else ~/.local/state/teamsretention


class RecognitionSettings(_Section):
    folder_names: list[str] = list(DEFAULT_FOLDER_NAMES)
    name_suffixes: list[str] = list(DEFAULT_NAME_SUFFIXES)
    confirm_with_beta: bool = False

    @field_validator("folder_names", "name_suffixes")
    @classmethod
    def _check_names(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if not cleaned or any(not v for v in cleaned):
            raise ValueError("must list at least one name, none of them empty")
        return cleaned


class EvidenceSettings(_Section):
    """How long the tool keeps the evidence of what it deleted (``store.evidence``).

    ``keep_years``: the personal data of a deleted recording's evidence (its name, organizer, the warnings'
    recipients, the audit entries' names and reasons) is kept this long after the deletion, because the
    controller must be able to demonstrate compliance (GDPR Art. 5(2), accountability) as long as claims
    can be brought; then it is removed and only the record that a deletion happened on a date under a rule
    stays. ``keep_mail_bodies``: keep the subject and text of each digest sent, not only what proves notice
    (when, to whom, which recordings, the date announced)."""

    keep_years: int = 7
    keep_mail_bodies: bool = False

    _positive = _at_least(1, "keep_years")


class LoggingSettings(_Section):
    # None: info; warning for `run --once` and `plan` on a terminal, which print their own report
    level: Literal["debug", "info", "warning", "error"] | None = None
    format: Literal["auto", "console", "json"] = "auto"  # auto: console on a terminal, JSON lines otherwise
    personal_data: bool = True  # false: log lines carry ids and rule codes, no names, titles or addresses
    progress_interval_seconds: int = 60  # a `cycle.progress` line this often off a terminal; 0: none

    _progress = _at_least(0, "progress_interval_seconds")
