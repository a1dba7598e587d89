"""[evidence] and notifications.sharepoint_tenant: defaults, and errors that name the key and its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from teamsretention.bootstrap import cycle_config
from teamsretention.errors import ConfigError
from teamsretention.settings import load_settings


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home")}


def test_evidence_defaults_keep_seven_years_and_no_mail_text(env):
    s = load_settings(environ=env)
    assert (s.evidence.keep_years, s.evidence.keep_mail_bodies) == (7, False)
    config = cycle_config(s)
    assert (config.keep_years, config.keep_mail_bodies, config.sharepoint_tenant) == (7, False, None)


def test_evidence_and_tenant_are_read_from_the_file_and_the_environment(env, tmp_path):
    path = tmp_path / "teamsretention.toml"
    path.write_text('[evidence]\nkeep_years = 10\nkeep_mail_bodies = true\n'
                    '[notifications]\nsharepoint_tenant = "Contoso"\n', encoding="utf-8")
    s = load_settings(path, environ={**env, "TEAMSRETENTION_EVIDENCE__KEEP_YEARS": "12"})
    assert (s.evidence.keep_years, s.evidence.keep_mail_bodies, s.notifications.sharepoint_tenant) == \
        (12, True, "contoso")


@pytest.mark.parametrize(("text", "key"), [
    ("[evidence]\nkeep_years = 0\n", "evidence.keep_years"),
    ('[notifications]\nsharepoint_tenant = "contoso.sharepoint.com"\n', "notifications.sharepoint_tenant"),
])
def test_bad_values_are_refused_naming_the_key_and_the_file(env, tmp_path, text, key):
    path = tmp_path / "teamsretention.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=env)
    assert key in str(caught.value) and str(path) in str(caught.value)
