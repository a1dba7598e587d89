"""deploy/scripts/entra-app.sh asks Entra for exactly the application permissions `teamsretention check` compares
the token with (workflows/check_permissions.py, one source of truth), for every combination of the features that
decide them; it keeps Mail.Send out of Entra unless asked, and a second run changes nothing that is right."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from teamsretention.settings import load_settings
from teamsretention.workflows.check_permissions import exchange_rbac_commands, needs_for

SCRIPTS = Path(__file__).resolve().parents[2] / "deploy" / "scripts"
ENTRA = SCRIPTS / "entra-app.sh"
SENDER = "recordings-noreply@contoso.com"
SITE = "https://contoso.sharepoint.com/sites/records"


def role_ids() -> dict[str, str]:
    """The script's table of Microsoft Graph app role ids by permission name."""
    return dict(re.findall(r"^\s+\[([\w.]+)\]=([0-9a-f-]{36})$", ENTRA.read_text(encoding="utf-8"), re.MULTILINE))


def run_script(script: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def requested(stdout: str) -> set[str]:
    """The permissions the `az ad app update --required-resource-accesses` line asks for, by name."""
    (line,) = [ln for ln in stdout.splitlines() if ln.startswith("+ az ad app update ")]
    body = json.loads(line.split("--required-resource-accesses ", 1)[1].strip("'"))
    (graph,) = body
    assert graph["resourceAppId"] == "00000003-0000-0000-c000-000000000000"
    by_id = {v: k for k, v in role_ids().items()}
    assert {a["type"] for a in graph["resourceAccess"]} == {"Role"}  # application permissions, not delegated
    return {by_id[a["id"]] for a in graph["resourceAccess"]}


def table_says(tmp_path: Path, *, enforce: bool, channel_sites: bool, include_groups: bool, sender: bool,
               lists: bool) -> set[str]:
    """The least-privileged permission of each need the check table lists for that configuration."""
    config = tmp_path / "teamsretention.toml"
    config.write_text(
        f"[policy]\nenforce = {str(enforce).lower()}\n"
        f"[scope]\nchannel_sites = {str(channel_sites).lower()}\n"
        f"include_groups = {json.dumps(['aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'] if include_groups else [])}\n"
        + (f'[notifications]\nsender = "{SENDER}"\nfallback_contact = "it@contoso.com"\n' if sender else "")
        + (f'[lists]\nsite = "{SITE}"\n' if lists else ""), encoding="utf-8")
    return {need.least for need in needs_for(load_settings(config, environ={}))}


@pytest.mark.parametrize("enforce,channel_sites,include_groups,sender,lists",
                         list(itertools.product([False, True], repeat=5)))
def test_the_dry_run_asks_for_exactly_what_the_check_table_needs(tmp_path: Path, enforce: bool, channel_sites: bool,
                                                                  include_groups: bool, sender: bool,
                                                                  lists: bool) -> None:
    flags = ["--enforce"] * enforce + ["--no-channel-sites"] * (not channel_sites) \
        + ["--include-groups"] * include_groups + ["--sender", SENDER] * sender + ["--lists-site", SITE] * lists
    done = run_script(ENTRA, "--dry-run", "--certificate", str(tmp_path / "cert.pem"), *flags)
    assert done.returncode == 0, done.stderr
    needed = table_says(tmp_path, enforce=enforce, channel_sites=channel_sites, include_groups=include_groups,
                        sender=sender, lists=lists)
    # Mail.Send is the one need met outside Entra: Exchange RBAC for Applications, the sender mailbox only.
    assert requested(done.stdout) == needed - {"Mail.Send"}
    assert ("exchange-mail-scope.ps1" in done.stdout) == sender
    assert ("grant-site.sh --client-id" in done.stdout) == lists
    assert not (tmp_path / "cert.pem").exists()  # a dry run writes no key


def test_mail_send_in_entra_only_when_asked_for(tmp_path: Path) -> None:
    done = run_script(ENTRA, "--dry-run", "--no-certificate", "--sender", SENDER, "--mail-send-tenant-wide")
    assert done.returncode == 0, done.stderr
    assert "Mail.Send" in requested(done.stdout)
    assert "exchange-mail-scope.ps1" not in done.stdout
    refused = run_script(ENTRA, "--dry-run", "--mail-send-tenant-wide")
    assert refused.returncode != 0 and "--sender" in refused.stderr


def test_the_powershell_script_runs_the_commands_check_prints_as_the_fix() -> None:
    ps1 = (SCRIPTS / "exchange-mail-scope.ps1").read_text(encoding="utf-8")
    fix = exchange_rbac_commands(SENDER)
    for cmdlet in re.findall(r"\b(New-[A-Za-z]+)\b", fix):
        assert f"{cmdlet} " in ps1, cmdlet
    scope = re.search(r"-CustomResourceScope (\S+)", fix)
    assert scope and f"$ScopeName = '{scope.group(1)}'" in ps1
    assert "-Role \"Application Mail.Send\"" in fix and "$role = 'Application Mail.Send'" in ps1
    assert "PrimarySmtpAddress -eq '$Sender'" in ps1 and f"PrimarySmtpAddress -eq '{SENDER}'" in fix
    assert "SupportsShouldProcess" in ps1  # -WhatIf: its dry run


# --- against a stand-in for the Azure CLI --------------------------------------------------------------------


@pytest.fixture
def fake_az(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(f"#!{sys.executable}\n" + (Path(__file__).parent / "fake_az.py").read_text(encoding="utf-8"))
    az.chmod(0o755)
    state = tmp_path / "tenant.json"
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_AZ_STATE": str(state)}
    return state, env


def calls(state: Path) -> list[list[str]]:
    path = Path(f"{state}.calls")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_a_second_run_creates_nothing_again_and_names_a_grant_no_longer_needed(fake_az: tuple[Path, dict[str, str]],
                                                                              tmp_path: Path) -> None:
    state, env = fake_az
    state.write_text(json.dumps({"tenant_id": "tenant-1", "graph_roles": role_ids(),
                                 "assignments": {"assignment-9": role_ids()["Mail.Send"]}}))
    cert = tmp_path / "teamsretention-graph.pem"
    first = run_script(ENTRA, "--sender", SENDER, "--certificate", str(cert), env=env)
    assert first.returncode == 0, first.stderr
    made = [c[:3] for c in calls(state)]
    assert ["ad", "app", "create"] in made and ["ad", "sp", "create"] in made
    assert ["ad", "app", "credential"] in made  # the public certificate uploaded
    assert cert.stat().st_mode & 0o077 == 0 and "PRIVATE KEY" in cert.read_text()
    # the tenant-wide Mail.Send granted earlier is named, with the command that revokes it, and left alone
    assert "not needed and still granted: Mail.Send" in first.stdout
    assert "appRoleAssignments/assignment-9" in first.stdout
    assert not any("delete" in c for c in calls(state))

    tenant = json.loads(state.read_text())
    thumb = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha1"],
                           capture_output=True, text=True, check=True).stdout.split("=", 1)[1].strip()
    tenant["thumbprints"] = [thumb.replace(":", "")]
    state.write_text(json.dumps(tenant))
    Path(f"{state}.calls").unlink()
    second = run_script(ENTRA, "--sender", SENDER, "--certificate", str(cert), "--remove-other-grants", env=env)
    assert second.returncode == 0, second.stderr
    again = calls(state)
    assert not any(c[:3] in (["ad", "app", "create"], ["ad", "sp", "create"]) for c in again)
    assert not any(c[:4] == ["ad", "app", "credential", "reset"] for c in again)  # same certificate: not twice
    assert "already a credential of the app" in second.stdout
    assert [c for c in again if "delete" in c][0][:3] == ["rest", "--method", "delete"]  # revoked on request


def test_a_permission_id_the_tenant_names_differently_stops_before_anything_is_granted(
        fake_az: tuple[Path, dict[str, str]]) -> None:
    state, env = fake_az
    roles = {**role_ids(), "Files.Read.All": "00000000-0000-0000-0000-000000000001"}
    state.write_text(json.dumps({"tenant_id": "t", "app_id": "app-1", "sp_id": "sp-1", "graph_roles": roles}))
    done = run_script(ENTRA, "--no-certificate", env=env)
    assert done.returncode == 1
    assert "Files.Read.All" in done.stderr and "nothing granted" in done.stderr
    assert not any(c[:3] == ["ad", "app", "update"] or "admin-consent" in c for c in calls(state))


GRANT = SCRIPTS / "grant-site.sh"


@pytest.mark.parametrize("existing,expected", [
    ("", "post"),  # no grant yet: one is made, role write
    ("write", None),  # already right: nothing changes
    ("fullcontrol", "patch"),  # raised for provisioning: set back to write
])
def test_sites_selected_grant_on_the_lists_site(fake_az: tuple[Path, dict[str, str]], existing: str,
                                                expected: str | None) -> None:
    state, env = fake_az
    tenant = {"site_id": "contoso.sharepoint.com,site-guid,web-guid"}
    if existing:
        tenant |= {"site_permission_id": "perm-1", "site_roles": existing}
    state.write_text(json.dumps(tenant))
    done = run_script(GRANT, "--client-id", "app-1", "--site", SITE, env=env)
    assert done.returncode == 0, done.stderr
    rest = calls(state)
    assert rest[0][rest[0].index("--url") + 1].endswith("/sites/contoso.sharepoint.com:/sites/records?$select=id")
    writes = [c for c in rest if c[2] in ("post", "patch")]
    if expected is None:
        assert writes == [] and "unchanged" in done.stdout
        return
    (write,) = writes
    assert write[2] == expected
    body = json.loads(write[write.index("--body") + 1])
    assert body["roles"] == ["write"]
    if expected == "post":
        # the grant README.md "Least privilege for the lists" gives by hand, and `check` names as the fix
        readme = (SCRIPTS.parents[1] / "README.md").read_text(encoding="utf-8")
        (by_hand,) = re.findall(r"--body '(\{\"roles\".*?)'", readme)
        assert body == json.loads(by_hand.replace("<client-id>", "app-1"))
        assert write[write.index("--url") + 1].endswith(f"/sites/{tenant['site_id']}/permissions")
    else:
        assert write[write.index("--url") + 1].endswith(f"/sites/{tenant['site_id']}/permissions/perm-1")
