"""deploy/README.md walks each route from the app registration to the first check, plan and run, and every
file it tells an administrator to use is in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
README = (DEPLOY / "README.md").read_text(encoding="utf-8")
# Made by the administrator on the way (never committed): the key entra-app.sh writes, the secret files.
MADE_ON_THE_WAY = re.compile(r"(^|/)secrets(/|$)|teamsretention-graph(\.public)?\.pem$|^/")


def routes() -> dict[str, str]:
    parts = re.split(r"^## (Route \d: .+)$", README, flags=re.MULTILINE)
    return {title: re.split(r"^## ", body, flags=re.MULTILINE)[0] for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def anchor(title: str) -> str:
    return "#" + re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def test_the_table_links_five_routes_and_each_exists() -> None:
    found = routes()
    assert len(found) == 5
    links = re.findall(r"\]\((#route-[^)]+)\)", README)
    assert sorted(links) == sorted(anchor(t) for t in found)


def test_every_route_reaches_check_plan_and_a_first_cycle() -> None:
    for title, body in routes().items():
        commands = "\n".join(re.findall(r"```sh\n(.*?)```", body, re.DOTALL))
        assert re.search(r"\bcheck\b", commands), f"{title}: no check"
        assert re.search(r"\bplan\b", commands), f"{title}: no plan"
        assert "run --once" in commands or "--from=cronjob/teamsretention   # run --once" in commands, title


def test_every_route_starts_from_the_app_registration() -> None:
    step0 = README.split("## 0. The app registration", 1)[1].split("## Route 1", 1)[0]
    for script in ("scripts/entra-app.sh", "scripts/grant-site.sh", "scripts/exchange-mail-scope.ps1"):
        assert script in step0
    assert README.index("## 0. The app registration") < min(README.index(f"## {t}") for t in routes())


def mentioned_files() -> set[str]:
    code = re.findall(r"`([^`\n]+)`", README) + re.findall(r"```(?:sh|powershell)\n(.*?)```", README, re.DOTALL)
    names: set[str] = set()
    for text in code:
        names |= set(re.findall(r"(?<![\w/.-])((?:\./)?(?:deploy|config|scripts|k8s)/[\w./-]*[\w/]|"
                                r"[\w.-]+\.(?:yaml|toml|sh|ps1|py|lock|in|service|md))(?![\w/-])", text))
    return {n.removeprefix("./") for n in names}


def test_the_files_the_readme_names_exist() -> None:
    names = mentioned_files()
    assert {"deploy/scripts/entra-app.sh", "deploy/compose.yaml", "deploy/k8s/daemon",
            "deploy/k8s/cronjob", "k8s/base/configmap.yaml"} <= names
    missing = []
    for name in names:
        if MADE_ON_THE_WAY.search(name):
            continue
        if not any((base / name).exists() for base in (ROOT, DEPLOY)) and not list(DEPLOY.rglob(name)):
            missing.append(name)
    assert missing == []
