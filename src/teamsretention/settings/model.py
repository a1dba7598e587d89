"""The validated configuration as a whole: :class:`Settings`, what it derives, and how its errors read.

Settings hand the wiring ready-made values (:meth:`Settings.graph_connection`, :meth:`Settings.policy_config`,
:meth:`Settings.database_url`): secrets are read and clouds looked up here, once.
"""

from __future__ import annotations

import json
import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, PrivateAttr, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ..domain import PolicyConfig, RecognitionConfig
from ..endpoints import CLOUDS, graph_base_url, is_loopback_url, user_agent
from ..errors import ConfigError
from ..ports import GraphConnection
from ..store.urls import mask_database_url, password_of
from .governance import ApproverSettings, AssignmentSettings, ListSettings
from .ha import HaSettings
from .sections import (
    SECRET_KEYS,
    DatabaseSettings,
    EvidenceSettings,
    GraphSettings,
    LoggingSettings,
    NotificationSettings,
    PolicySettings,
    RecognitionSettings,
    ScheduleSettings,
    ScopeSettings,
    StateSettings,
    TenantSettings,
)
from .web import WebSettings


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
    recognition: RecognitionSettings = RecognitionSettings()
    lists: ListSettings = ListSettings()
    assignments: AssignmentSettings = AssignmentSettings()
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)  # "section.key" -> where its value came from

    def __eq__(self, other: object) -> bool:
        """Equal values are equal settings, wherever each value came from."""
        if not isinstance(other, Settings):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = BaseSettings.__hash__
    evidence: EvidenceSettings = EvidenceSettings()
    logging: LoggingSettings = LoggingSettings()
    web: WebSettings = WebSettings()
    ha: HaSettings = HaSettings()

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
        return endpoint is not None and is_loopback_url(endpoint)

    @property
    def graph_base_url(self) -> str:
        """Graph's versioned root without a trailing slash (msgraph-sdk would send ``/v1.0//users``)."""
        return graph_base_url(self.graph.cloud, self.graph.graph_endpoint)

    @property
    def graph_host(self) -> str:
        return self.graph_base_url.split("/")[2]

    @property
    def authority_host(self) -> str:
        return CLOUDS[self.graph.cloud].authority_host

    @property
    def token_scope(self) -> str:
        """The app-only scope to request a token for (the cloud's Graph resource, not the endpoint)."""
        return f"https://{CLOUDS[self.graph.cloud].graph_host}/.default"

    def user_agent(self, version: str) -> str:
        return user_agent(self.graph.user_agent_org, version)

    def graph_connection(self, version: str) -> GraphConnection:
        """How to reach Graph, secrets read now (so a rotated secret file is picked up at each start)."""
        g = self.graph
        return GraphConnection(
            base_url=self.graph_base_url, authority_host=self.authority_host, auth=g.auth,
            user_agent=self.user_agent(version), max_concurrency=g.max_concurrency,
            ru_budget_per_minute=g.ru_budget_per_minute, delta_page_size=g.delta_page_size,
            tenant_id=self.tenant.tenant_id, client_id=self.tenant.client_id,
            client_secret=self.client_secret_value(),
            certificate_path=str(g.certificate_path) if g.certificate_path else None,
            certificate_password=self.certificate_password_value())

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

    def database_url_shown(self) -> str:
        """The database URL as an operator may see it: the password masked."""
        return mask_database_url(self.database_url_value())

    def secret_values(self) -> list[str]:
        """Every secret string configured, for ``logging.register_secret``."""
        found = [self.client_secret_value(), self.certificate_password_value()]
        found.append(password_of(self.database_url_value()))
        return [value for value in found if value]

    def source_of(self, dotted: str) -> str | None:
        """Where the value of ``dotted`` (``"state.directory"``) came from: ``"file <path>"``,
        ``"environment variable <NAME>"``, ``"override"``; None when it is the default."""
        return self._sources.get(dotted)

    def store_origin(self) -> str:
        """Where the state store's location came from, for messages about it."""
        if self.database.url_file is not None:
            return f"database.url_file {self.database.url_file}, from {self.source_of('database.url_file')}"
        if self.database.url is not None:
            return f"database.url from {self.source_of('database.url') or 'the settings'}"
        source = self.source_of("state.directory")
        if source is None:
            return "the default state directory: $XDG_STATE_HOME/teamsretention, else ~/.local/state/teamsretention"
        return f"state.directory from {source}"

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

    def recognition_config(self) -> RecognitionConfig:
        r = self.recognition
        return RecognitionConfig(folder_names=tuple(r.folder_names), name_suffixes=tuple(r.name_suffixes),
                                 confirm_with_beta=r.confirm_with_beta)

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
            "database_url": self.database_url_shown(),
            "state_dir": str(self.state_dir()),
        }
        return data

    def with_overrides(self, **section_updates: Mapping[str, Any]) -> Settings:
        """A copy with some keys replaced, validated again: ``s.with_overrides(policy={"enforce": True})``."""
        data = self.model_dump()
        provenance: dict[str, str] = dict(self._sources)
        for section, updates in section_updates.items():
            if not isinstance(data.get(section), dict):
                data[section] = updates  # unknown section: validation names it
                provenance[section] = "override"
                continue
            data[section].update(updates)
            provenance.update({f"{section}.{key}": "override" for key in updates})
        return validate(data, provenance, [])


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


SECTIONS: dict[str, type[BaseModel]] = {
    name: typing.cast(type[BaseModel], field.annotation) for name, field in Settings.model_fields.items()
}
# When a check compares two keys, the message also says where the other one came from.
_RELATED = {"policy.minimum_notice_days": "policy.warning_days", "graph.auth": "graph.graph_endpoint",
            "policy.max_poll_interval_days": "policy.retention_days", "schedule.cron": "schedule.timezone",
            "web.host": "web.allow_remote"}


def validate(data: dict[str, Any], provenance: dict[str, str], problems: list[str]) -> Settings:
    """Settings from ``data`` (whose keys came from ``provenance``), or one ConfigError listing every problem
    of this load (``problems`` found while reading, then pydantic's), each naming the key and its source."""
    settings: Settings | None = None
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        problems = problems + [_describe(error, data, provenance) for error in exc.errors(include_url=False)]
    if problems or settings is None:
        raise ConfigError("\n".join(problems))
    settings._sources = dict(provenance)
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
