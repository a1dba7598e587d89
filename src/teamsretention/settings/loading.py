"""Reading the configuration: one TOML file plus ``TEAMSRETENTION_<SECTION>__<KEY>`` environment overrides.

pydantic validates the values; this module does the sourcing itself because pydantic-settings 2.16
silently ignores a missing TOML file and misspelt environment variables, and its errors name neither the
file nor the variable. Every error here names the key and where its value came from, and all errors of
one load are reported together, one per line. Secret values never appear in a message.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..store.urls import password_of
from .model import SECTIONS, Settings, default_state_dir, validate
from .sections import SECRET_KEYS

ENV_PREFIX = "TEAMSRETENTION_"
CONFIG_ENV = "TEAMSRETENTION_CONFIG"


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
    return validate(data, provenance, problems)


def _suggest(word: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _read_file(path: Path, named_by: str, data: dict[str, Any], provenance: dict[str, str],
               problems: list[str]) -> None:
    # pydantic-settings would silently fall back to defaults for a missing file: a typo in a path
    # must not turn enforcement settings into defaults.
    if path.is_dir():
        raise ConfigError(f"configuration file {path}{named_by} is a directory, not a file: name the TOML file "
                          "itself (e.g. /etc/teamsretention/teamsretention.toml)")
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
            elif dotted == "database.url" and isinstance(value, str) and password_of(value):
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
    if annotation is bool:
        # Only the words of a TOML boolean: "yes", "on" and "1" are not read as true (pydantic would).
        word = value.strip().lower()
        if word not in ("true", "false"):
            raise ValueError("must be true or false")
        return word == "true"
    if typing.get_origin(annotation) in (list, tuple):
        # pydantic-settings reports "7,1" without naming the variable: parse the JSON ourselves.
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, list):
            raise ValueError("must be a JSON list, e.g. [7, 1] (with the brackets)")
        return parsed
    return value  # pydantic converts strings to numbers and paths
