"""Real processes for the high-availability tests: a PostgreSQL cluster of their own (the restart test stops
and starts it; the session's shared cluster stays untouched), the Graph simulator, and daemons
(``teamsretention run --now``) whose JSON log lines are read back. Every wait is bounded."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import teamsretention

from ..pgcluster import Cluster, for_tests

SRC = Path(teamsretention.__file__).resolve().parent.parent
SCENARIO = """
[tenant]
domain = "contoso.example"
seed = 7

[[users]]
key = "anna"
display_name = "Anna Berg"

[[users]]
key = "bob"
display_name = "Bob Smith"

[[users]]
key = "governance"
display_name = "Recording Governance"
has_onedrive = false

[[recordings]]
key = "anna-weekly"
organizer = "anna"
subject = "Weekly sync"
age_days = 25

[[recordings]]
key = "bob-review"
organizer = "bob"
subject = "Design review"
age_days = 26
"""


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    for key in [k for k in env if k.startswith("TEAMSRETENTION_")]:
        del env[key]
    return env


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = for_tests("teamsretention-ha-pg-")
    try:
        yield c
    finally:
        c.destroy()


class Simulator:
    def __init__(self, workdir: Path) -> None:
        scenario = workdir / "scenario.toml"
        scenario.write_text(SCENARIO)
        self.out = workdir / "simulator.out"
        with self.out.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "teamsretention", "simulator", "serve", "--scenario",
                                          str(scenario), "--port", "0"], stdout=out, stderr=subprocess.STDOUT,
                                         env=_env())
        banner = wait_for("the simulator's banner", self._banner)
        self.base_url = banner.split(" on ")[1].split("/v1.0")[0]

    def _banner(self) -> str | None:
        if self.proc.poll() is not None:
            pytest.fail(f"the simulator exited: {self.out.read_text()}")
        return next((line for line in self.out.read_text().splitlines() if "Simulated Graph tenant on" in line), None)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base_url}/_simulator/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def mail(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "mail")["value"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def simulator(tmp_path_factory) -> Iterator[Simulator]:
    sim = Simulator(tmp_path_factory.mktemp("simulator"))
    try:
        yield sim
    finally:
        sim.stop()


class Daemon:
    """``teamsretention run --now`` with a config pointing at the simulator and a PostgreSQL store."""

    def __init__(self, name: str, workdir: Path, simulator: Simulator, database_url: str, lease: int) -> None:
        self.name = name
        config = workdir / f"{name}.toml"
        config.write_text(f"""
[tenant]
tenant_id = "00000000-0000-0000-0000-000000000001"
client_id = "00000000-0000-0000-0000-000000000002"
[graph]
auth = "none"
graph_endpoint = "{simulator.base_url}"
[policy]
enforce = true
[notifications]
sender = "governance@contoso.example"
[schedule]
timezone = "UTC"
cron = "0 6 * * *"
shutdown_timeout_seconds = 5
[database]
url = "{database_url}"
[state]
directory = "{workdir / name}"
[logging]
format = "json"
[ha]
lease_seconds = {lease}
standby_retry_seconds = 1
""")
        self.log = workdir / f"{name}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "teamsretention", "run", "--now", "--config",
                                          str(config)], stdout=out, stderr=subprocess.STDOUT, env=_env())
        self.pid = self.proc.pid

    def events(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):  # a line being written
                    lines.append(json.loads(line))
        return lines

    def logged(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("event") == event]

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGCONT)  # a stopped process would not handle SIGTERM
            self.proc.terminate()

    def stop(self) -> None:
        self.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
