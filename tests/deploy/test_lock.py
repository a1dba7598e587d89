"""The image's dependencies are pinned: deploy/requirements.lock pins, with hashes, every runtime dependency
pyproject.toml declares (with the postgres extra the container needs) at a version its specifier allows, the
build lock does the same for [build-system] requires, and the Dockerfile installs both with --require-hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pins(lock: Path) -> dict[str, tuple[Version, int]]:
    """name -> (pinned version, number of hashes) for each requirement in a hashed lock file."""
    found: dict[str, tuple[Version, int]] = {}
    for entry in re.split(r"\n(?=\S)", lock.read_text(encoding="utf-8")):
        head = re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", entry)
        if head:
            found[canonicalize_name(head.group(1))] = (Version(head.group(2)), entry.count("--hash=sha256:"))
    return found


def check_covers(lock: Path, requirements: list[str]) -> None:
    locked = pins(lock)
    assert locked, f"{lock} pins nothing"
    for line in requirements:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} ({line}) is not in {lock.name}: run `make lock`"
        version, _ = locked[name]
        assert req.specifier.contains(version, prereleases=True), \
            f"{lock.name} pins {req.name}=={version}, outside {line!r}: run `make lock`"
        for extra in req.extras:  # psycopg[binary]: psycopg-binary
            assert canonicalize_name(f"{req.name}-{extra}") in locked, f"{line}: the extra is not locked"
    unhashed = [n for n, (_, hashes) in locked.items() if hashes == 0]
    assert not unhashed, f"pinned without a hash in {lock.name}: {unhashed}"


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    project = PYPROJECT["project"]
    check_covers(DEPLOY / "requirements.lock", project["dependencies"] + project["optional-dependencies"]["postgres"])


def test_the_build_lock_pins_what_builds_the_wheel() -> None:
    check_covers(DEPLOY / "requirements-build.lock", PYPROJECT["build-system"]["requires"])


def test_the_image_installs_the_locks_and_nothing_unlocked() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    installs = re.findall(r"pip install ([^\\&\n]+)", dockerfile)
    assert installs
    for args in installs:
        if "-r " in args:
            assert "--require-hashes" in args and "--no-deps" in args, args
        else:  # the project's own wheel, built here: its dependencies come from the lock only
            assert "--no-deps" in args and "/wheels/teamsretention-" in args, args
    assert {m for m in re.findall(r"-r (\S+)", dockerfile)} == {"deploy/requirements.lock",
                                                                 "deploy/requirements-build.lock"}
