"""Where Graph is: one cloud table and one base-URL rule for settings and the adapter alike."""

from __future__ import annotations

import pytest

from teamsretention.endpoints import CLOUDS, graph_base_url, is_loopback_host, user_agent


def test_an_explicit_endpoint_gets_the_version_segment_once_and_no_trailing_slash() -> None:
    assert graph_base_url("global", "http://127.0.0.1:8765/") == "http://127.0.0.1:8765/v1.0"
    assert graph_base_url("global", "https://graph.example/v1.0/") == "https://graph.example/v1.0"
    assert graph_base_url("global", "https://graph.example/beta") == "https://graph.example/beta"
    assert graph_base_url("usgov") == f"https://{CLOUDS['usgov'].graph_host}/v1.0"


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("[::1]", True),
    ("graph.microsoft.com", False), ("10.0.0.1", False), ("", False), (None, False),
])
def test_only_loopback_hosts_count_as_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_the_user_agent_is_microsofts_format_with_a_safe_org_name() -> None:
    assert user_agent("Contoso|AB", "0.1.0") == "NONISV|Contoso-AB|teamsretention/0.1.0"
    assert user_agent(None, "0.1.0") == "NONISV|Unknown|teamsretention/0.1.0"
