"""Configuration: one TOML file plus ``TEAMSRETENTION_<SECTION>__<KEY>`` environment overrides.

pydantic validates the values; this module does the sourcing itself because pydantic-settings 2.16
silently ignores a missing TOML file and misspelt environment variables, and its errors name neither the
file nor the variable. Every error here names the key and where its value came from, and all errors of
one load are reported together, one per line. Secret values never appear in a message.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from . import schedule
from .domain import PolicyConfig
from .errors import ConfigError

ENV_PREFIX = "TEAMSRETENTION_"
CONFIG_ENV = "TEAMSRETENTION_CONFIG"
# (section, key) pairs that hold secrets: never read from the file, never shown.
SECRET_KEYS = frozenset({("graph", "client_secret"), ("graph", "certificate_password")})

# Graph host and sign-in authority per national cloud: https://learn.microsoft.com/graph/deployments
CLOUDS: dict[str, tuple[str, str]] = {
    "global": ("graph.microsoft.com", "login.microsoftonline.com"),
    "usgov": ("graph.microsoft.us", "login.microsoftonline.us"),
    "usgov-dod": ("dod-graph.microsoft.us", "login.microsoftonline.us"),
    "china": ("microsoftgraph.chinacloudapi.cn", "login.chinacloudapi.cn"),
}


def is_loopback_host(host: str | None) -> bool:
    """localhost, 127.0.0.0/8 or ::1: the only hosts allowed plain http and ``auth = "none"``."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _existing_file(value: Path | None) -> Path | None:
    if value is None:
        return None
    path = value.expanduser()
    if not path.is_file():
        raise ValueError(f"file {str(path)!r} does not exist or is not a regular file")
    return path


def _password_of(url: str) -> str | None:
    """The password in a database URL (userinfo or a ``password=`` query parameter), if any."""
    from sqlalchemy.engine import make_url  # imported late: only needed when a URL is configured
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Unparsable (validation reports it), yet it may still carry "user:password@": err towards secret.
        match = re.search(r"://[^/@:]*:([^/@]+)@", url)
        return match[1] if match else None
    password = parsed.password or parsed.query.get("password")
    return str(password) if password else None


def mask_database_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for logs and the run record)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "***"  # cannot tell where a password would be: show nothing
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    return parsed.render_as_string(hide_password=True)


class _Section(BaseModel):
    # validate_default: cross-key checks (minimum_notice_days against warning_days) must also run when
    # one side keeps its default.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class TenantSettings(_Section):
    tenant_id: str | None = None
    client_id: str | None = None


class GraphSettings(_Section):
    cloud: Literal["global", "usgov", "usgov-dod", "china"] = "global"
    graph_endpoint: str | None = None
    auth: Literal["client_secret", "certificate", "managed_identity", "workload_identity", "default",
                  "none"] = "client_secret"
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    certificate_path: Path | None = None
    certificate_password: SecretStr | None = None
    certificate_password_file: Path | None = None
    max_concurrency: int = 8
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


class ScopeSettings(_Section):
    include_groups: list[str] = []  # empty: all users
    exclude_users: list[str] = []
    onedrive: bool = True
    channel_sites: bool = True
    teams: list[str] = []  # empty: all teams


def _at_least(minimum: int, *names: str) -> Any:
    def check(value: int) -> int:
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
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

    _positive = _at_least(1, "retention_days", "assignment_max_days", "restore_window_days")
    # 0 is meaningful here: no grace for pending requests; no deletions at all; share counted from the start.
    _not_negative = _at_least(0, "pending_request_grace_days", "max_deletions_per_cycle",
                              "deletion_share_minimum")

    @field_validator("warning_days")
    @classmethod
    def _check_warning_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("must name at least one day: no deletion without notice")
        if min(value) < 1 or len(set(value)) != len(value):
            raise ValueError("must be distinct positive numbers of days, e.g. [7, 1]")
        return value

    @field_validator("minimum_notice_days")
    @classmethod
    def _check_notice(cls, value: int, info: ValidationInfo) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        warning_days = info.data.get("warning_days")
        if warning_days and value > max(warning_days):
            raise ValueError(f"must be at most max(policy.warning_days) = {max(warning_days)}")
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

    _positive = _at_least(1, "max_items_per_digest")


class ScheduleSettings(_Section):
    timezone: str = "Europe/Stockholm"  # before cron: the cron check needs the zone
    cron: str = "0 6 * * *"
    shutdown_timeout_seconds: int = 30

    _positive = _at_least(1, "shutdown_timeout_seconds")

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            schedule.load_zone(value)
        except ConfigError as exc:  # pydantic collects ValueError only
            raise ValueError(str(exc)) from None
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
        if value is not None and mask_database_url(value.get_secret_value()) == "***":
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


class ApproverSettings(_Section):
    dpo: list[str] = []
    it_admins: list[str] = []


class Settings(BaseSettings):
    """Validated configuration. Immutable: use :meth:`with_overrides` to derive another."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    tenant: TenantSettings = TenantSettings()
    graph: GraphSettings = GraphSettings()
    scope: ScopeSettings = ScopeSettings()
    policy: PolicySettings = PolicySettings()
    notifications: NotificationSettings = NotificationSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    database: DatabaseSettings = DatabaseSettings()
    state: StateSettings = StateSettings()
    approvers: ApproverSettings = ApproverSettings()

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what load_settings() passes in: it reads the file and the environment itself (see the
        # module docstring), so Settings() in code never picks up stray variables.
        return (init_settings,)

    # -- Graph endpoint ---------------------------------------------------------------------------
    @property
    def is_loopback_endpoint(self) -> bool:
        endpoint = self.graph.graph_endpoint
        return endpoint is not None and is_loopback_host(urlsplit(endpoint).hostname)

    @property
    def graph_base_url(self) -> str:
        """Graph's versioned root without a trailing slash (msgraph-sdk would send ``/v1.0//users``)."""
        endpoint = self.graph.graph_endpoint
        if endpoint is None:
            return f"https://{CLOUDS[self.graph.cloud][0]}/v1.0"
        last = urlsplit(endpoint).path.rstrip("/").rsplit("/", 1)[-1]
        return endpoint if last in ("v1.0", "beta") else f"{endpoint}/v1.0"

    @property
    def graph_host(self) -> str:
        return urlsplit(self.graph_base_url).netloc

    @property
    def authority_host(self) -> str:
        return CLOUDS[self.graph.cloud][1]

    @property
    def token_scope(self) -> str:
        """The app-only scope to request a token for (the cloud's Graph resource, not the endpoint)."""
        return f"https://{CLOUDS[self.graph.cloud][0]}/.default"

    def user_agent(self, version: str) -> str:
        """Microsoft asks for ``NONISV|<Org>|<App>/<version>`` so throttling can be attributed."""
        return f"NONISV|{self.graph.user_agent_org or 'Unknown'}|teamsretention/{version}"

    # -- secrets (read at call time so a rotated file is picked up) ----------------------------------
    def client_secret_value(self) -> str | None:
        return _secret_from(self.graph.client_secret, self.graph.client_secret_file)

    def certificate_password_value(self) -> str | None:
        return _secret_from(self.graph.certificate_password, self.graph.certificate_password_file)

    def database_url_value(self) -> str:
        if self.database.url_file is not None:
            return self.database.url_file.read_text(encoding="utf-8").strip()
        if self.database.url is not None:
            return self.database.url.get_secret_value()
        return f"sqlite:///{self.state_dir() / 'teamsretention.db'}"

    def secret_values(self) -> list[str]:
        """Every secret string configured, for ``logging.register_secret``."""
        found = [self.client_secret_value(), self.certificate_password_value()]
        found.append(_password_of(self.database_url_value()))
        return [value for value in found if value]

    # -- derived ------------------------------------------------------------------------------------
    def state_dir(self) -> Path:
        if self.state.directory is not None:
            return self.state.directory.expanduser()
        return default_state_dir(os.environ)

    def policy_config(self) -> PolicyConfig:
        p = self.policy
        return PolicyConfig(
            retention_days=p.retention_days,
            warning_days=tuple(sorted(p.warning_days, reverse=True)),
            minimum_notice_days=p.minimum_notice_days,
            assignment_max_days=p.assignment_max_days,
            pending_request_grace_days=p.pending_request_grace_days,
            timezone=self.schedule.timezone,
        )

    def redacted_snapshot(self) -> dict[str, Any]:
        """Every value, secrets as ``"***"``, for the run record. JSON-serialisable."""
        data = self.model_dump(mode="json")
        for section, key in SECRET_KEYS:
            data[section][key] = "***" if getattr(getattr(self, section), key) is not None else None
        if self.database.url is not None:
            data["database"]["url"] = mask_database_url(self.database.url.get_secret_value())
        data["derived"] = {
            "graph_base_url": self.graph_base_url,
            "authority_host": self.authority_host,
            "database_url": mask_database_url(self.database_url_value()),
            "state_dir": str(self.state_dir()),
        }
        return data

    def with_overrides(self, **section_updates: Mapping[str, Any]) -> Settings:
        """A copy with some keys replaced, validated again: ``s.with_overrides(policy={"enforce": True})``."""
        data = self.model_dump()
        provenance: dict[str, str] = {}
        for section, updates in section_updates.items():
            if not isinstance(data.get(section), dict):
                data[section] = updates  # unknown section: validation names it
                provenance[section] = "override"
                continue
            data[section].update(updates)
            provenance.update({f"{section}.{key}": "override" for key in updates})
        return _validate(data, provenance, [])


def _secret_from(value: SecretStr | None, file: Path | None) -> str | None:
    if value is not None:
        return value.get_secret_value()
    if file is not None:
        return file.read_text(encoding="utf-8").strip()  # editors and `echo` add a trailing newline
    return None


def default_state_dir(environ: Mapping[str, str]) -> Path:
    """$XDG_STATE_HOME/teamsretention, else ~/.local/state/teamsretention (XDG base directory spec)."""
    xdg = environ.get("XDG_STATE_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the spec says relative values are to be ignored
        return Path(xdg) / "teamsretention"
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    return home / ".local" / "state" / "teamsretention"


# -- loading ---------------------------------------------------------------------------------------------

SECTIONS: dict[str, type[BaseModel]] = {
    name: typing.cast(type[BaseModel], field.annotation) for name, field in Settings.model_fields.items()
}
# When a check compares two keys, the message also says where the other one came from.
_RELATED = {"policy.minimum_notice_days": "policy.warning_days", "graph.auth": "graph.graph_endpoint",
            "schedule.cron": "schedule.timezone"}


def env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}__{key.upper()}"


def load_settings(config_path: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (``config_path``, else ``$TEAMSRETENTION_CONFIG``, else none) and the
    ``TEAMSRETENTION_<SECTION>__<KEY>`` variables of ``environ`` (default ``os.environ``), environment
    winning. Raises ConfigError listing every problem, one per line, each naming key and source."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    problems: list[str] = []
    if config_path is None and env.get(CONFIG_ENV):
        _read_file(Path(env[CONFIG_ENV]), f" (named by {CONFIG_ENV})", data, provenance, problems)
    elif config_path is not None:
        _read_file(Path(config_path), "", data, provenance, problems)
    _read_environment(env, data, provenance, problems)
    state = data.setdefault("state", {})
    if isinstance(state, dict) and state.get("directory") is None:
        state["directory"] = default_state_dir(env)  # resolved now, from the environment we were given
    return _validate(data, provenance, problems)


def _suggest(word: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _read_file(path: Path, named_by: str, data: dict[str, Any], provenance: dict[str, str],
               problems: list[str]) -> None:
    # pydantic-settings would silently fall back to defaults for a missing file: a typo in a path
    # must not turn enforcement settings into defaults.
    if not path.is_file():
        raise ConfigError(f"configuration file {path}{named_by} does not exist")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"configuration file {path}{named_by} cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"configuration file {path}{named_by} is not valid TOML: {exc}") from None
    source = f"file {path}"
    for section, table in raw.items():
        if section not in SECTIONS:
            problems.append(f"{section} (from {source}): unknown section{_suggest(section, SECTIONS)}")
            continue
        if not isinstance(table, dict):
            problems.append(f"{section} (from {source}): must be a table, written [{section}]")
            continue
        fields = SECTIONS[section].model_fields
        for key, value in table.items():
            dotted = f"{section}.{key}"
            if key not in fields:
                problems.append(f"{dotted} (from {source}): unknown key{_suggest(key, fields)}")
            elif (section, key) in SECRET_KEYS:
                problems.append(f"{dotted} (from {source}): secrets are not read from the configuration "
                                f"file; set the environment variable {env_name(section, key)} or use "
                                f"{dotted}_file")
            elif dotted == "database.url" and isinstance(value, str) and _password_of(value):
                problems.append(f"{dotted} (from {source}): contains a password, a secret; set the "
                                f"environment variable {env_name(section, key)} or use database.url_file")
            else:
                data.setdefault(section, {})[key] = value
                provenance[dotted] = source


def _read_environment(env: Mapping[str, str], data: dict[str, Any], provenance: dict[str, str],
                      problems: list[str]) -> None:
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper == CONFIG_ENV:
            continue
        value = env[name]
        source = f"environment variable {name}"
        section, sep, key = upper[len(ENV_PREFIX):].lower().partition("__")
        # pydantic-settings ignores a misspelt section silently; here a variable must map to a key.
        if not sep or not key or "__" in key:
            problems.append(f"{source}: maps to no setting (the form is {ENV_PREFIX}<SECTION>__<KEY>)")
            continue
        if section not in SECTIONS:
            problems.append(f"{source}: maps to no setting, no section {section!r}{_suggest(section, SECTIONS)}")
            continue
        fields = SECTIONS[section].model_fields
        if key not in fields:
            problems.append(f"{source}: maps to no setting, no key {key!r} in "
                            f"[{section}]{_suggest(key, fields)}")
            continue
        try:
            parsed = _parse_env_value(fields[key].annotation, value)
        except ValueError as exc:
            problems.append(f"{section}.{key} = {value} (from {source}): {exc}")
            continue
        if not isinstance(data.get(section), dict):
            data[section] = {}
        data[section][key] = parsed
        provenance[f"{section}.{key}"] = source


def _parse_env_value(annotation: Any, value: str) -> Any:
    args = typing.get_args(annotation)
    optional = type(None) in args and (typing.get_origin(annotation) in (typing.Union, types.UnionType))
    if optional and not value.strip():
        return None  # an empty variable means "not set" (deployment templates often export empties)
    if typing.get_origin(annotation) in (list, tuple):
        # pydantic-settings reports "7,1" without naming the variable: parse the JSON ourselves.
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, list):
            raise ValueError("must be a JSON list, e.g. [7, 1] (with the brackets)")
        return parsed
    return value  # pydantic converts strings to numbers, booleans and paths


def _validate(data: dict[str, Any], provenance: dict[str, str], problems: list[str]) -> Settings:
    settings: Settings | None = None
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        problems = problems + [_describe(error, data, provenance) for error in exc.errors(include_url=False)]
    if problems or settings is None:
        raise ConfigError("\n".join(problems))
    return settings


def _describe(error: Any, data: dict[str, Any], provenance: dict[str, str]) -> str:
    loc = [str(part) for part in error["loc"]]
    dotted = ".".join(loc[:2])
    source = provenance.get(dotted) or provenance.get(loc[0]) or "default"
    if error["type"] == "extra_forbidden":
        return f"{dotted} (from {source}): unknown {'section' if len(loc) == 1 else 'key'}"
    message = str(error["msg"]).removeprefix("Value error, ").replace("Input should be", "must be")
    if len(loc) > 2:
        message = f"item {loc[2]}: {message}"
    where = "default" if source == "default" else f"from {source}"
    related = _RELATED.get(dotted)
    if related and provenance.get(related, "default") != source:
        other = provenance.get(related)
        where += f"; {related} {'from ' + other if other else 'default'}"
    shown = _show_value(loc, data, source)
    return f"{dotted}{'' if shown is None else ' = ' + shown} ({where}): {message}"


def _show_value(loc: list[str], data: dict[str, Any], source: str) -> str | None:
    if len(loc) < 2 or loc[0] not in SECTIONS:
        return None
    section, key = loc[0], loc[1]
    if (section, key) in SECRET_KEYS:
        return "***"
    fields = SECTIONS[section].model_fields
    table = data.get(section)
    if isinstance(table, dict) and key in table:
        value = table[key]
    elif key in fields:
        value = fields[key].default
    else:
        return None
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if (section, key) == ("database", "url") and isinstance(value, str):
        return mask_database_url(value)
    if isinstance(value, str) and source.startswith("environment variable"):
        return value  # as the operator typed it
    return json.dumps(value, default=str)


__all__ = [
    "CLOUDS",
    "SECRET_KEYS",
    "SECTIONS",
    "Settings",
    "default_state_dir",
    "env_name",
    "is_loopback_host",
    "load_settings",
    "mask_database_url",
]
