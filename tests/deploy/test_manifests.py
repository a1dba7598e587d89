"""The container routes agree with themselves and with the product: the image probes the endpoint the shipped
configuration turns on, compose and Kubernetes mount the secret files that configuration names, the Deployment
runs two daemons probed on /healthz and /readyz, the CronJob runs one cycle at a time with `run --once`, and the
configuration they ship is one the product accepts."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from teamsretention.settings import Settings, load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"


def doc(path: Path) -> dict[str, Any]:
    (one,) = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    return one


def container_toml() -> str:
    return (DEPLOY / "teamsretention.container.toml").read_text(encoding="utf-8")


def pod(kind: str) -> dict[str, Any]:
    if kind == "Deployment":
        return doc(K8S / "daemon" / "deployment.yaml")["spec"]["template"]["spec"]
    return doc(K8S / "cronjob" / "cronjob.yaml")["spec"]["jobTemplate"]["spec"]["template"]["spec"]


@pytest.fixture
def shipped_settings(tmp_path: Path) -> Settings:
    """The shipped configuration as the product reads it in the container: its secret files stand in here."""
    secrets = {"certificate_path": tmp_path / "graph-certificate.pem", "url_file": tmp_path / "database-url"}
    secrets["certificate_path"].write_text("-----BEGIN CERTIFICATE-----\n")
    secrets["url_file"].write_text("postgresql+psycopg://teamsretention:pw@postgres:5432/teamsretention\n")
    for path in secrets.values():
        path.chmod(0o400)
    config = tmp_path / "teamsretention.toml"
    config.write_text(container_toml(), encoding="utf-8")
    return load_settings(config, environ={
        "TEAMSRETENTION_GRAPH__CERTIFICATE_PATH": str(secrets["certificate_path"]),
        "TEAMSRETENTION_DATABASE__URL_FILE": str(secrets["url_file"])})


def test_the_kubernetes_configmap_holds_the_container_configuration() -> None:
    toml = doc(K8S / "base" / "configmap.yaml")["data"]["teamsretention.toml"]
    assert toml == container_toml()


def test_the_shipped_configuration_serves_the_probes_and_uses_postgresql(shipped_settings: Settings) -> None:
    web = shipped_settings.web
    assert web.enabled and web.host == "0.0.0.0" and web.allow_remote and web.port == 9464
    assert shipped_settings.database_url_value().startswith("postgresql+psycopg://")
    assert shipped_settings.graph.auth == "certificate"


def secret_paths() -> set[str]:
    parsed = tomllib.loads(container_toml())
    return {parsed["graph"]["certificate_path"], parsed["database"]["url_file"]}


def test_the_image_probes_the_endpoint_the_configuration_turns_on() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    (check,) = re.findall(r"^HEALTHCHECK .*$", dockerfile, re.MULTILINE)
    port = tomllib.loads(container_toml())["web"]["port"]
    assert f"http://127.0.0.1:{port}/healthz" in check and "/opt/teamsretention/healthcheck.py" in check
    assert "COPY deploy/healthcheck.py /opt/teamsretention/healthcheck.py" in dockerfile
    # a pinned slim base, no tag that moves on its own
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", b) for b in bases)


def test_compose_runs_the_daemon_on_postgresql_15_with_its_secrets_as_files() -> None:
    compose = doc(DEPLOY / "compose.yaml")
    app, db = compose["services"]["teamsretention"], compose["services"]["postgres"]
    assert re.match(r"postgres:15\b", db["image"])
    assert app["command"] == ["run"] and app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in db and "/healthz" in " ".join(app["healthcheck"]["test"])
    assert {f"/run/secrets/{name}" for name in app["secrets"]} >= secret_paths()
    assert db["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres-password"
    assert not any("PASSWORD" in key and not key.endswith("_FILE") for key in db["environment"])
    assert "environment" not in app  # no credential in the environment
    assert all(src in compose["secrets"] for src in [*app["secrets"], *db["secrets"]])
    assert all(s["file"].startswith("./secrets/") for s in compose["secrets"].values())
    assert set(compose["volumes"]) == {"postgres-data", "teamsretention-state"}
    assert compose["configs"]["teamsretention-toml"]["file"] == "./teamsretention.container.toml"
    assert app["configs"][0]["target"] == "/etc/teamsretention/teamsretention.toml"
    assert app["read_only"] is True and app["cap_drop"] == ["ALL"]


def test_the_deployment_runs_two_daemons_probed_on_healthz_and_readyz() -> None:
    deployment = doc(K8S / "daemon" / "deployment.yaml")
    assert deployment["spec"]["replicas"] == 2
    (container,) = pod("Deployment")["containers"]
    assert container["args"] == ["run"]
    (port,) = container["ports"]
    assert port["containerPort"] == tomllib.loads(container_toml())["web"]["port"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert container["resources"]["requests"] and container["resources"]["limits"]


def test_the_cronjob_runs_one_cycle_at_a_time_on_the_configured_schedule(shipped_settings: Settings) -> None:
    cronjob = doc(K8S / "cronjob" / "cronjob.yaml")["spec"]
    assert cronjob["concurrencyPolicy"] == "Forbid"
    (container,) = pod("CronJob")["containers"]
    assert container["args"] == ["run", "--once"]
    assert cronjob["jobTemplate"]["spec"]["backoffLimit"] == 0  # exit 3 waits for an operator, not a retry
    assert cronjob["schedule"] == shipped_settings.schedule.cron
    assert cronjob["timeZone"] == str(shipped_settings.schedule.timezone)


@pytest.mark.parametrize("kind", ["Deployment", "CronJob"])
def test_the_pods_run_unprivileged_and_read_only(kind: str) -> None:
    spec = pod(kind)
    security = spec["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] == 10001
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for container in [*spec["initContainers"], *spec["containers"]]:
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]}


@pytest.mark.parametrize("kind", ["Deployment", "CronJob"])
def test_the_pods_get_the_secret_files_the_configuration_names_owner_only(kind: str) -> None:
    spec = pod(kind)
    (init,) = spec["initContainers"]
    (container,) = spec["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert {str(Path(p).parent) for p in secret_paths()} == {mounts["private-secrets"]}
    assert mounts["config"] == "/etc/teamsretention"
    # the Secret's files are group-readable (fsGroup); the init container copies them 0400 for the daemon
    assert "install -m 0400" in init["args"][0]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["private-secrets"]["emptyDir"]["medium"] == "Memory"
    secret_name = volumes["credentials"]["secret"]["secretName"]
    base = doc(K8S / "base" / "kustomization.yaml")
    (generated,) = base["secretGenerator"]
    assert generated["name"] == secret_name
    assert {Path(f).name for f in generated["files"]} == {Path(p).name for p in secret_paths()}


def test_every_manifest_is_in_a_kustomization() -> None:
    listed = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        listed |= {(kustomization.parent / r).resolve() for r in doc(kustomization)["resources"]}
    manifests = {p.resolve() for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml"}
    assert manifests <= listed


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*"  # everything out, then what the image is built from back in
    allowed = {line[1:].rstrip("/") for line in rules if line.startswith("!")}
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    copied = {src for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.MULTILINE)
              for src in line.split()[:-1]}
    assert copied == allowed
    assert not any("secrets" in a or a.startswith(".") for a in allowed)
