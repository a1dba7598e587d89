"""Loading configuration: what an admin sees for a good file, and the message for every mistake."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from teamsretention.domain import PolicyConfig
from teamsretention.errors import ConfigError
from teamsretention.settings import SECTIONS, Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "teamsretention.example.toml"

FULL_FILE = """
[tenant]
tenant_id = "11111111-1111-1111-1111-111111111111"
client_id = "22222222-2222-2222-2222-222222222222"

[graph]
cloud = "usgov"
auth = "certificate"
certificate_path = "{cert}"
max_concurrency = 4
user_agent_org = "Contoso"

[scope]
include_groups = ["g1"]
exclude_users = ["ceo@contoso.com"]
onedrive = true
channel_sites = false
teams = []

[policy]
retention_days = 45
warning_days = [14, 7, 1]
minimum_notice_days = 14
assignment_max_days = 180
pending_request_grace_days = 10
enforce = true
delete_mode = "permanent"
max_deletions_per_cycle = 50
max_deletion_share = 0.1
deletion_share_minimum = 10
blocked_retry_days = [2, 4, 8]
restore_window_days = 60

[notifications]
sender = "noreply@contoso.com"
language = "en"
fallback_contact = "it@contoso.com"
contact = "dpo@contoso.com"
max_items_per_digest = 20

[schedule]
cron = "15 5 * * 1-5"
timezone = "Europe/Helsinki"
shutdown_timeout_seconds = 60

[database]
url = "postgresql+psycopg://teamsretention@db.contoso.com/tr"

[state]
directory = "{state}"

[approvers]
dpo = ["dpo@contoso.com"]
it_admins = ["admin@contoso.com", "3f2a9c4e-1b7d-4e8a-9c0f-5d6e7f8a9b0c"]
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: only HOME, so the host's variables never leak into a test."""
    return {"HOME": str(tmp_path / "home")}


def write(tmp_path: Path, text: str, name: str = "teamsretention.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)  # secrets' files must be private (and so may the configuration be)
    return path


def config_error(*args: object, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(*args, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


# -- good configurations -----------------------------------------------------------------------------

def test_no_file_gives_the_documented_defaults(env: dict[str, str], tmp_path: Path) -> None:
    s = load_settings(environ=env)
    assert s.policy.retention_days == 30 and s.policy.warning_days == (7, 1)
    assert s.policy.minimum_notice_days == 7 and s.policy.enforce is False
    assert s.policy.delete_mode == "recycle" and s.policy.max_deletion_share == 0.25
    assert s.policy.blocked_retry_days == (1, 2, 4, 8, 16) and s.policy.restore_window_days == 93
    assert (s.schedule.cron, s.schedule.timezone) == ("0 6 * * *", "Europe/Stockholm")
    assert s.graph.auth == "client_secret" and s.graph.max_concurrency == 8
    assert s.notifications.language == "sv" and s.notifications.max_items_per_digest == 50
    assert s.state_dir() == tmp_path / "home" / ".local" / "state" / "teamsretention"
    assert s.database_url_value() == f"sqlite:///{tmp_path}/home/.local/state/teamsretention/teamsretention.db"


def test_state_directory_follows_xdg_state_home(env: dict[str, str], tmp_path: Path) -> None:
    assert load_settings(environ={**env, "XDG_STATE_HOME": str(tmp_path / "xdg")}).state_dir() == (
        tmp_path / "xdg" / "teamsretention")
    # The XDG spec says a relative value is to be ignored.
    assert load_settings(environ={**env, "XDG_STATE_HOME": "rel"}).state_dir().is_relative_to(tmp_path / "home")


def test_full_file_is_read_into_every_section(env: dict[str, str], tmp_path: Path) -> None:
    cert = write(tmp_path, "-----BEGIN CERTIFICATE-----", "app.pem")
    path = write(tmp_path, FULL_FILE.format(cert=cert, state=tmp_path / "state"))
    s = load_settings(path, environ=env)
    assert s.tenant.tenant_id == "11111111-1111-1111-1111-111111111111"
    assert s.graph.certificate_path == cert and s.graph_base_url == "https://graph.microsoft.us/v1.0"
    assert s.authority_host == "login.microsoftonline.us"
    assert s.user_agent("0.1.0") == "NONISV|Contoso|teamsretention/0.1.0"
    assert s.scope.channel_sites is False and s.scope.exclude_users == ["ceo@contoso.com"]
    assert s.policy.delete_mode == "permanent" and s.policy.enforce is True
    assert s.notifications.language == "en" and s.schedule.timezone == "Europe/Helsinki"
    assert s.database_url_value() == "postgresql+psycopg://teamsretention@db.contoso.com/tr"
    assert s.state_dir() == tmp_path / "state"
    assert s.approvers.it_admins == ["admin@contoso.com", "3f2a9c4e-1b7d-4e8a-9c0f-5d6e7f8a9b0c"]
    assert s.policy_config() == PolicyConfig(retention_days=45, warning_days=(14, 7, 1), minimum_notice_days=14,
                                             assignment_max_days=180, pending_request_grace_days=10,
                                             timezone="Europe/Helsinki")


def test_environment_overrides_the_file(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "[policy]\nretention_days = 45\nenforce = true\n[schedule]\ncron = \"0 5 * * *\"\n")
    s = load_settings(path, environ={**env, "TEAMSRETENTION_POLICY__RETENTION_DAYS": "60",
                                     "TEAMSRETENTION_POLICY__ENFORCE": "false",
                                     "TEAMSRETENTION_POLICY__WARNING_DAYS": "[10, 3]"})
    assert s.policy.retention_days == 60 and s.policy.enforce is False
    assert s.policy.warning_days == (10, 3)
    assert s.schedule.cron == "0 5 * * *"  # untouched by the environment


def test_config_file_can_be_named_by_the_environment(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "[policy]\nretention_days = 40\n")
    assert load_settings(environ={**env, "TEAMSRETENTION_CONFIG": str(path)}).policy.retention_days == 40


def test_example_file_loads_and_states_the_real_defaults(env: dict[str, str]) -> None:
    assert load_settings(EXAMPLE, environ=env) == load_settings(environ=env)


def test_example_file_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for section, model in SECTIONS.items():
        assert f"[{section}]" in text
        for key in model.model_fields:
            documented = re.search(rf"^(# )?{key} = ", text, re.MULTILINE) or f"TEAMSRETENTION_{section.upper()}__" \
                f"{key.upper()}" in text
            assert documented, f"{section}.{key} is missing from the example file"


# -- mistakes: every message names the key and its source ---------------------------------------------

def test_missing_config_file_is_an_error_not_defaults(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert config_error(missing, environ=env) == f"configuration file {missing} does not exist"
    message = config_error(environ={**env, "TEAMSRETENTION_CONFIG": str(missing)})
    assert message == f"configuration file {missing} (named by TEAMSRETENTION_CONFIG) does not exist"


def test_unknown_keys_and_sections_in_the_file_are_named(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "[policy]\nretentoin_days = 30\n[polcy]\nenforce = true\n")
    lines = config_error(path, environ=env).splitlines()
    assert f"policy.retentoin_days (from file {path}): unknown key (did you mean 'retention_days'?)" in lines
    assert f"polcy (from file {path}): unknown section (did you mean 'policy'?)" in lines


def test_invalid_toml_names_the_file(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "[policy\nretention_days = 30\n")
    assert config_error(path, environ=env).startswith(f"configuration file {path} is not valid TOML")


@pytest.mark.parametrize(("variable", "expected"), [
    ("TEAMSRETENTION_POLCY__MINIMUM_NOTICE_DAYS", "no section 'polcy' (did you mean 'policy'?)"),
    ("TEAMSRETENTION_POLICY__RETENTOIN_DAYS", "no key 'retentoin_days' in [policy]"),
    ("TEAMSRETENTION_ENFORCE", "the form is TEAMSRETENTION_<SECTION>__<KEY>"),
])
def test_environment_variables_that_map_to_no_key_are_errors(env: dict[str, str], variable: str,
                                                             expected: str) -> None:
    message = config_error(environ={**env, variable: "7"})
    assert message.startswith(f"environment variable {variable}: maps to no setting")
    assert expected in message


def test_a_misspelt_secret_variable_does_not_echo_its_value(env: dict[str, str]) -> None:
    message = config_error(environ={**env, "TEAMSRETENTION_GRAPH__CLIENT_SECERT": "s3cr3t-value"})
    assert "TEAMSRETENTION_GRAPH__CLIENT_SECERT" in message and "client_secret" in message
    assert "s3cr3t-value" not in message


def test_list_without_json_brackets_is_explained(env: dict[str, str]) -> None:
    message = config_error(environ={**env, "TEAMSRETENTION_POLICY__WARNING_DAYS": "7,1"})
    assert message == ("policy.warning_days = 7,1 (from environment variable TEAMSRETENTION_POLICY__WARNING_DAYS)"
                       ": must be a JSON list, e.g. [7, 1] (with the brackets)")


def test_notice_longer_than_the_first_warning_is_refused(env: dict[str, str]) -> None:
    message = config_error(environ={**env, "TEAMSRETENTION_POLICY__MINIMUM_NOTICE_DAYS": "9"})
    assert message == ("policy.minimum_notice_days = 9 (from environment variable "
                       "TEAMSRETENTION_POLICY__MINIMUM_NOTICE_DAYS; policy.warning_days default): must be at most "
                       "max(policy.warning_days) = 7")


def test_shrinking_the_warnings_below_the_default_notice_names_both_sources(env: dict[str, str],
                                                                            tmp_path: Path) -> None:
    path = write(tmp_path, "[policy]\nwarning_days = [3, 1]\n")
    message = config_error(path, environ=env)
    assert message == (f"policy.minimum_notice_days = 7 (default; policy.warning_days from file {path}): must be "
                       "at most max(policy.warning_days) = 3")


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("retention_days", "0", "must be at least 1"),
    ("assignment_max_days", "-5", "must be at least 1"),
    ("pending_request_grace_days", "-1", "must be at least 0"),
    ("minimum_notice_days", "0", "must be at least 1"),
    ("warning_days", "[7, 7]", "distinct positive"),
    ("warning_days", "[7, 0]", "distinct positive"),
    ("warning_days", "[]", "at least one day"),
    ("max_deletion_share", "0", "(0, 1]"),
    ("max_deletion_share", "1.5", "(0, 1]"),
    ("blocked_retry_days", "[4, 2]", "never shrink"),
    ("restore_window_days", "120", "at most 93"),
    ("delete_mode", "shred", "must be 'recycle' or 'permanent'"),
])
def test_policy_values_that_make_no_sense_are_refused(env: dict[str, str], key: str, value: str,
                                                      expected: str) -> None:
    variable = f"TEAMSRETENTION_POLICY__{key.upper()}"
    message = config_error(environ={**env, variable: value})
    assert message.startswith(f"policy.{key} = {value} (from environment variable {variable}")
    assert expected in message


def test_a_share_of_one_is_allowed(env: dict[str, str]) -> None:
    assert load_settings(environ={**env, "TEAMSRETENTION_POLICY__MAX_DELETION_SHARE": "1"}).policy.max_deletion_share == 1


@pytest.mark.parametrize(("toml", "key", "expected"), [
    ('[schedule]\ntimezone = "Europe/Stokholm"', "schedule.timezone", "unknown time zone 'Europe/Stokholm'"),
    ('[schedule]\ncron = "0 6 * *"', "schedule.cron", "must have 5 fields"),
    ('[schedule]\ncron = "30 2 * * *"', "schedule.cron", "daylight-saving change in Europe/Stockholm"),
    ('[graph]\ngraph_endpoint = "http://graph.contoso.com"', "graph.graph_endpoint", "only for a loopback host"),
    ('[graph]\ngraph_endpoint = "ftp://127.0.0.1"', "graph.graph_endpoint", "must be an http(s) URL"),
    ('[graph]\nauth = "none"', "graph.auth", "allowed only with a loopback graph.graph_endpoint"),
    ('[graph]\nauth = "none"\ngraph_endpoint = "https://graph.microsoft.com"', "graph.auth", "loopback"),
    ('[graph]\nmax_concurrency = 0', "graph.max_concurrency", "between 1 and 64"),
    ('[graph]\ndelta_page_size = 0', "graph.delta_page_size", "between 1 and 1000 items"),
    ('[graph]\ndelta_page_size = 5000', "graph.delta_page_size", "Graph's largest page"),
    ('[notifications]\nlanguage = "de"', "notifications.language", "must be 'sv' or 'en'"),
])
def test_file_values_are_checked_and_the_file_is_named(env: dict[str, str], tmp_path: Path, toml: str, key: str,
                                                       expected: str) -> None:
    path = write(tmp_path, toml + "\n")
    message = config_error(path, environ=env)
    assert message.startswith(f"{key} = ") and f"(from file {path}" in message
    assert expected in message


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8765", "http://127.3.4.5", "http://localhost:1",
                                      "http://[::1]:8000/"])
def test_auth_none_is_accepted_for_loopback_endpoints(env: dict[str, str], endpoint: str) -> None:
    s = load_settings(environ={**env, "TEAMSRETENTION_GRAPH__AUTH": "none",
                               "TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT": endpoint})
    assert s.is_loopback_endpoint and s.graph_base_url == endpoint.rstrip("/") + "/v1.0"


@pytest.mark.parametrize(("key", "variable"), [
    ("client_secret", "TEAMSRETENTION_GRAPH__CLIENT_SECRET"),
    ("certificate_password", "TEAMSRETENTION_GRAPH__CERTIFICATE_PASSWORD"),
])
def test_secrets_in_the_file_are_refused_without_echoing_them(env: dict[str, str], tmp_path: Path, key: str,
                                                              variable: str) -> None:
    path = write(tmp_path, f'[graph]\n{key} = "hunter2-in-file"\n')
    message = config_error(path, environ=env)
    assert message.startswith(f"graph.{key} (from file {path}): secrets are not read from the configuration file")
    assert variable in message and f"graph.{key}_file" in message
    assert "hunter2-in-file" not in message


def test_database_password_only_from_environment_or_file(env: dict[str, str], tmp_path: Path) -> None:
    url = "postgresql+psycopg://tr:pa55word@db/tr"
    path = write(tmp_path, f'[database]\nurl = "{url}"\n')
    message = config_error(path, environ=env)
    assert "database.url (from file" in message and "TEAMSRETENTION_DATABASE__URL" in message
    assert "database.url_file" in message and "pa55word" not in message

    assert load_settings(environ={**env, "TEAMSRETENTION_DATABASE__URL": url}).database_url_value() == url
    url_file = write(tmp_path, url + "\n", "db-url")
    from_file = load_settings(environ={**env, "TEAMSRETENTION_DATABASE__URL_FILE": str(url_file)})
    assert from_file.database_url_value() == url


@pytest.mark.parametrize("key", ["graph.client_secret_file", "graph.certificate_path", "database.url_file"])
def test_file_keys_naming_a_missing_file_are_errors(env: dict[str, str], tmp_path: Path, key: str) -> None:
    section, name = key.split(".")
    missing = tmp_path / "absent"
    path = write(tmp_path, f'[{section}]\n{name} = "{missing}"\n')
    message = config_error(path, environ=env)
    assert message == f'{key} = "{missing}" (from file {path}): file {str(missing)!r} does not exist or is not a ' \
                      "regular file"


def test_every_problem_is_reported_one_per_line(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "[policy]\nretentoin_days = 3\nmax_deletion_share = 2.0\n")
    lines = config_error(path, environ={**env, "TEAMSRETENTION_SCHEDULE__TIMEZONE": "Nowhere/City",
                                        "TEAMSRETENTION_SCOPE__TEAMZ": "[]"}).splitlines()
    assert len(lines) == 4
    assert {line.split(" ")[0] for line in lines} == {"policy.retentoin_days", "environment", "policy.max_deletion_share",
                                                      "schedule.timezone"}


# -- derived values -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("cloud", "base", "authority"), [
    ("global", "https://graph.microsoft.com/v1.0", "login.microsoftonline.com"),
    ("usgov", "https://graph.microsoft.us/v1.0", "login.microsoftonline.us"),
    ("usgov-dod", "https://dod-graph.microsoft.us/v1.0", "login.microsoftonline.us"),
    ("china", "https://microsoftgraph.chinacloudapi.cn/v1.0", "login.chinacloudapi.cn"),
])
def test_national_clouds(env: dict[str, str], cloud: str, base: str, authority: str) -> None:
    s = load_settings(environ={**env, "TEAMSRETENTION_GRAPH__CLOUD": cloud})
    assert (s.graph_base_url, s.authority_host) == (base, authority)
    assert s.graph_host == base.split("/")[2] and not s.is_loopback_endpoint
    assert s.token_scope == f"https://{s.graph_host}/.default"


@pytest.mark.parametrize(("endpoint", "base"), [
    ("https://graph.contoso-proxy.com", "https://graph.contoso-proxy.com/v1.0"),
    ("https://graph.contoso-proxy.com/v1.0/", "https://graph.contoso-proxy.com/v1.0"),
    ("http://127.0.0.1:8765/v1.0", "http://127.0.0.1:8765/v1.0"),
])
def test_explicit_endpoint_gets_a_version_and_no_trailing_slash(env: dict[str, str], endpoint: str,
                                                                base: str) -> None:
    s = load_settings(environ={**env, "TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT": endpoint})
    assert s.graph_base_url == base and not s.graph_base_url.endswith("/")


def test_client_secret_comes_from_environment_or_file(env: dict[str, str], tmp_path: Path) -> None:
    assert load_settings(environ=env).client_secret_value() is None
    from_env = load_settings(environ={**env, "TEAMSRETENTION_GRAPH__CLIENT_SECRET": "env-secret"})
    assert from_env.client_secret_value() == "env-secret"
    secret_file = write(tmp_path, "file-secret\n", "secret")
    path = write(tmp_path, f'[graph]\nclient_secret_file = "{secret_file}"\n')
    assert load_settings(path, environ=env).client_secret_value() == "file-secret"


def test_redacted_snapshot_holds_every_value_but_no_secret(env: dict[str, str], tmp_path: Path) -> None:
    secret_file = write(tmp_path, "cert-pw-from-file", "pw")
    s = load_settings(environ={**env, "TEAMSRETENTION_GRAPH__CLIENT_SECRET": "client-s3cret",
                               "TEAMSRETENTION_GRAPH__CERTIFICATE_PASSWORD_FILE": str(secret_file),
                               "TEAMSRETENTION_DATABASE__URL": "postgresql+psycopg://tr:db-pa55@db/tr"})
    snapshot = s.redacted_snapshot()
    text = json.dumps(snapshot)
    for secret in ("client-s3cret", "db-pa55", "cert-pw-from-file"):
        assert secret not in text
    assert s.secret_values() == ["client-s3cret", "cert-pw-from-file", "db-pa55"]  # for register_secret
    assert snapshot["graph"]["client_secret"] == "***" and snapshot["graph"]["certificate_password"] is None
    assert snapshot["database"]["url"] == "postgresql+psycopg://tr:***@db/tr"
    assert snapshot["policy"]["warning_days"] == [7, 1] and snapshot["schedule"]["cron"] == "0 6 * * *"
    assert snapshot["derived"]["graph_base_url"] == "https://graph.microsoft.com/v1.0"


def test_overrides_in_code_are_validated_and_leave_the_original_alone(env: dict[str, str]) -> None:
    base = load_settings(environ=env)
    demo = base.with_overrides(graph={"graph_endpoint": "http://127.0.0.1:9000", "auth": "none"},
                               policy={"enforce": True})
    assert demo.graph_base_url == "http://127.0.0.1:9000/v1.0" and demo.policy.enforce is True
    assert base.policy.enforce is False and base.graph.auth == "client_secret"
    with pytest.raises(ConfigError, match=r"policy.minimum_notice_days = 7 \(default; policy.warning_days from "
                                          r"override\): must be at most max\(policy.warning_days\) = 2"):
        base.with_overrides(policy={"warning_days": [2, 1]})


def test_settings_in_code_ignore_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMSRETENTION_POLICY__ENFORCE", "true")
    assert Settings().policy.enforce is False  # only load_settings reads the environment


def test_an_unparsable_database_url_is_refused_and_its_password_still_hidden(env: dict[str, str],
                                                                            tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "postgresql://tr:pa55word@db:notaport/tr"\n')
    message = config_error(path, environ=env)
    assert "database.url (from file" in message and "pa55word" not in message
    bad = config_error(environ={**env, "TEAMSRETENTION_DATABASE__URL": "not a url"})
    assert bad.startswith("database.url = *** (from environment variable TEAMSRETENTION_DATABASE__URL): is not a "
                          "database URL")


def test_a_secret_from_two_places_is_ambiguous(env: dict[str, str], tmp_path: Path) -> None:
    secret_file = write(tmp_path, "file-secret", "secret")
    url_file = write(tmp_path, "sqlite:///x.db", "url")
    message = config_error(environ={**env, "TEAMSRETENTION_GRAPH__CLIENT_SECRET": "env-secret",
                                    "TEAMSRETENTION_GRAPH__CLIENT_SECRET_FILE": str(secret_file),
                                    "TEAMSRETENTION_DATABASE__URL": "sqlite:///y.db",
                                    "TEAMSRETENTION_DATABASE__URL_FILE": str(url_file)})
    lines = sorted(message.splitlines())
    assert len(lines) == 2
    assert lines[0].startswith("database.url_file = ") and "not both" in lines[0]
    assert lines[1].startswith("graph.client_secret_file = ") and "not both" in lines[1]
    assert "env-secret" not in message and "file-secret" not in message


def test_the_delta_page_size_reaches_the_graph_connection(env: dict[str, str]) -> None:
    assert load_settings(environ=env).graph_connection("1").delta_page_size == 1000
    chosen = load_settings(environ={**env, "TEAMSRETENTION_GRAPH__DELTA_PAGE_SIZE": "200"})
    assert chosen.graph_connection("1").delta_page_size == 200
    message = config_error(environ={**env, "TEAMSRETENTION_GRAPH__DELTA_PAGE_SIZE": "1001"})
    assert message.startswith("graph.delta_page_size = 1001 (from environment variable "
                              "TEAMSRETENTION_GRAPH__DELTA_PAGE_SIZE)") and "between 1 and 1000" in message
