"""A throwaway PostgreSQL cluster on loopback, started from the machine's binaries (``initdb``, ``pg_ctl``), for
the tests and the benchmarks. initdb refuses root, so as root the cluster runs as ``nobody``."""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class ClusterUnavailable(RuntimeError):
    """This machine has no PostgreSQL binaries."""


def _binaries() -> tuple[str, str]:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin")):
            initdb, pg_ctl = str(candidate / "initdb"), str(candidate / "pg_ctl")
    if not (initdb and pg_ctl and Path(initdb).exists() and Path(pg_ctl).exists()):
        raise ClusterUnavailable("PostgreSQL binaries (initdb, pg_ctl) not found on this machine")
    return initdb, pg_ctl


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """``fsync``: off for the tests (nothing they prove needs the disk), on for a benchmark's figures."""

    def __init__(self, prefix: str = "teamsretention-pg-", *, fsync: bool = False) -> None:
        initdb, self.pg_ctl = _binaries()
        self.base = Path(tempfile.mkdtemp(prefix=prefix))
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.base, nobody.pw_uid, nobody.pw_gid)
            self.run_as = ["runuser", "-u", "nobody", "--"]
        self.data, self.port, self.fsync = self.base / "data", _free_port(), fsync
        self._numbers = itertools.count(1)
        try:
            subprocess.run([*self.run_as, initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                            "--no-sync"], check=True, capture_output=True)
            self.start()
        except BaseException:
            self.destroy()  # no directory or half-started server left behind
            raise
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def _ctl(self, *args: str) -> None:
        subprocess.run([*self.run_as, self.pg_ctl, "-D", str(self.data), *args], check=True, capture_output=True,
                       timeout=60)

    def start(self) -> None:
        fsync = "" if self.fsync else " -c fsync=off"
        self._ctl("-l", str(self.base / "server.log"), "-w", "-o",
                  f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1{fsync}", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def database(self, prefix: str = "t") -> str:
        """A fresh, empty database on the cluster: its URL."""
        import psycopg

        name = f"{prefix}{os.getpid()}_{next(self._numbers)}"
        with psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql") + "/postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def destroy(self) -> None:
        subprocess.run([*self.run_as, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)


def for_tests(prefix: str = "teamsretention-pg-") -> Cluster:
    """A cluster for a fixture: where the binaries are absent, the test is skipped with the reason, but in CI it
    fails (CI must run the PostgreSQL tests)."""
    import pytest

    try:
        return Cluster(prefix)
    except ClusterUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}: they are required in CI")
        pytest.skip(str(exc))
