"""deploy/README.md creates what the systemd unit in deploy/ expects: an admin who pastes its commands gets a
unit that starts (its user, its virtual environment, its configuration, secrets and state directory)."""

from __future__ import annotations

import re
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def unit() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / "teamsretention.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def commands() -> str:
    """The shell blocks of the README: what an admin pastes."""
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    return "\n".join(re.findall(r"```sh\n(.*?)```", text, re.DOTALL))


def test_the_readme_creates_the_user_the_unit_runs_as() -> None:
    u, sh = unit(), commands()
    (user,), (group,) = u["User"], u["Group"]
    assert user == group
    assert re.search(rf"useradd --system --user-group .*\\\n\s+--shell /usr/sbin/nologin {user}\n", sh)


def test_the_readme_creates_the_virtual_environment_the_unit_starts() -> None:
    (exec_start,) = unit()["ExecStart"]
    binary = exec_start.split()[0]
    venv = binary.removesuffix("/bin/teamsretention")
    assert binary.endswith("/bin/teamsretention") and venv != binary
    sh = commands()
    assert f"sudo python3 -m venv {venv}\n" in sh
    assert f"sudo {venv}/bin/python -m pip install ." in sh
    assert f"{binary} --help" in sh


def test_the_readme_creates_the_configuration_secrets_and_state_the_unit_names() -> None:
    u, sh = unit(), commands()
    environment = dict(value.split("=", 1) for value in u["Environment"])
    config, state = environment["TEAMSRETENTION_CONFIG"], environment["TEAMSRETENTION_STATE__DIRECTORY"]
    (secrets,) = u["EnvironmentFile"]
    assert f"config/teamsretention.example.toml \\\n    {config}" in sh
    assert f"/dev/null {secrets.lstrip('-')}" in sh and "-m 0600" in sh
    (state_dir,) = u["StateDirectory"]
    assert state == f"/var/lib/{state_dir}"
    assert f"sudo install -d -m 0700 -o {u['User'][0]} -g {u['Group'][0]} {state}" in sh
    # The admin wrapper runs commands with the unit's environment, as its user, on its store.
    assert f"export TEAMSRETENTION_CONFIG={config}" in sh and f"export TEAMSRETENTION_STATE__DIRECTORY={state}" in sh
    assert f"< {secrets.lstrip('-')}" in sh and f"runuser -u {u['User'][0]} -- {u['ExecStart'][0].split()[0]}" in sh


def test_the_unit_file_the_readme_installs_is_this_one() -> None:
    assert "sudo install -m 0644 deploy/teamsretention.service /etc/systemd/system/teamsretention.service" in commands()


def dockerfile() -> list[str]:
    """The final stage's instructions, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    last_from = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return lines[last_from:]


def test_the_container_runs_as_an_unprivileged_user_on_a_private_state_volume() -> None:
    final = dockerfile()
    (user,) = [line.split()[1] for line in final if line.startswith("USER ")]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000  # numeric: Kubernetes' runAsNonRoot can check it
    (volume,) = [line for line in final if line.startswith("VOLUME ")]
    state = "/var/lib/teamsretention"
    assert volume == f'VOLUME ["{state}"]'
    setup = next(line for line in final if line.startswith("RUN "))
    assert f"useradd --system --uid {uid} " in setup
    assert f"install -d -m 0700 -o teamsretention -g teamsretention {state}" in setup  # before VOLUME: a new
    assert final.index(volume) > final.index(setup)  # named volume takes this owner and mode
    env = " ".join(line for line in final if line.startswith("ENV "))
    assert f"TEAMSRETENTION_STATE__DIRECTORY={state}" in env
    # it starts what the systemd unit starts
    (exec_start,) = unit()["ExecStart"]
    assert f'ENTRYPOINT ["{exec_start.split()[0]}"]' in final and 'CMD ["run"]' in final
