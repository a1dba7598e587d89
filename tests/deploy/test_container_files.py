"""What the container routes run besides the daemon: the image's health probe, the script that makes compose's
secret files, and no secret anywhere in deploy/."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from teamsretention.settings import load_settings
from teamsretention.web import HealthServer

from ..cycle.simworld import SimWorld, no_retry_delay
from ..cycle.test_cycle import at

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@pytest.fixture
def endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The daemon's own endpoint (the product's HealthServer on its store), on a free port."""
    no_retry_delay(monkeypatch)
    world = SimWorld(tmp_path, "")
    try:
        with HealthServer(world.db, host="127.0.0.1", port=0, clock=lambda: at(0)) as server:
            yield server.url
    finally:
        world.db.dispose()


def probe(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DEPLOY / "healthcheck.py"), url], capture_output=True, text=True,
                          timeout=30)


def test_the_health_probe_passes_on_200_and_fails_otherwise_in_one_line(endpoint: str) -> None:
    healthy = probe(f"{endpoint}/healthz")
    assert healthy.returncode == 0 and healthy.stdout.startswith("healthy:")
    answered = probe(f"{endpoint}/nothing-here")
    assert answered.returncode == 1 and "answered 404" in answered.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # bound, not listening: nothing answers there
        silent = probe(f"http://127.0.0.1:{closed}/healthz")
    assert silent.returncode == 1
    assert "[web] enabled = true" in silent.stdout and len(silent.stdout.splitlines()) == 1
    assert "Traceback" not in silent.stdout + silent.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="gives files to other uids: root only")
def test_compose_secrets_are_private_to_their_readers_and_kept_on_a_second_run(tmp_path: Path) -> None:
    cert = tmp_path / "teamsretention-graph.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    secrets = tmp_path / "secrets"
    script = DEPLOY / "scripts" / "compose-secrets.sh"
    done = subprocess.run(["bash", str(script), "--certificate", str(cert), "--dir", str(secrets)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    owners = {p.name: (p.stat().st_uid, p.stat().st_mode & 0o777) for p in secrets.iterdir()}
    assert owners == {"postgres-password": (999, 0o400), "database-url": (10001, 0o400),
                      "graph-certificate.pem": (10001, 0o400)}
    assert secrets.stat().st_mode & 0o777 == 0o700
    password = (secrets / "postgres-password").read_text()
    assert len(password) >= 32 and password.isalnum()
    url = (secrets / "database-url").read_text().strip()
    assert url == f"postgresql+psycopg://teamsretention:{password}@postgres:5432/teamsretention"
    assert password not in done.stdout + done.stderr
    # the product takes the URL file as it is (a secret file others can read would be refused)
    settings = load_settings(environ={"TEAMSRETENTION_DATABASE__URL_FILE": str(secrets / "database-url")})
    assert settings.database_url_value() == url
    again = subprocess.run(["bash", str(script), "--dir", str(secrets)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and (secrets / "postgres-password").read_text() == password
    assert again.stdout.count("# kept:") == 3


# What a credential looks like when someone writes one into a file: a private key, a password or secret given a
# value, a database URL with a password, a Kubernetes Secret with data.
SECRET_LITERALS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"(?i)\b(password|client_secret|secret)[ \t]*[:=][ \t]*['\"]?(?!\$|<|\{)[A-Za-z0-9+/=_~.-]{8,}"),
    re.compile(r"postgres(?:ql)?(?:\+\w+)?://[^:@/\s]+:(?!PASSWORD@|%s@|\$|<)[^@\s]+@"),
    re.compile(r"(?m)^\s*(?:data|stringData):\s*\n\s+[\w.-]+:\s*\S{16,}"),
    re.compile(r"TEAMSRETENTION_GRAPH__CLIENT_SECRET=(?!\.\.\.)\S"),
]


def test_no_secret_literal_in_any_deploy_file() -> None:
    files = [p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix not in {".lock"}]
    assert len(files) > 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern in SECRET_LITERALS:
            found = pattern.search(text)
            assert found is None, f"{path.relative_to(ROOT)}: {found.group(0)!r} looks like a secret"


def test_the_secret_literal_patterns_catch_secrets() -> None:
    leaks = ["-----BEGIN RSA PRIVATE KEY-----", "client_secret = 'Zx8Q~abcdefghij'",
             "postgresql+psycopg://teamsretention:hunter2hunter2@postgres:5432/db",
             "data:\n  database-url: cG9zdGdyZXNxbDovL3RlYW1zcmV0ZW50aW9u",
             "TEAMSRETENTION_GRAPH__CLIENT_SECRET=Zx8Q"]
    for leak in leaks:
        assert any(p.search(leak) for p in SECRET_LITERALS), leak
