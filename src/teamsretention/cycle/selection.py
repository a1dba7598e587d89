"""Which recordings a cycle evaluates: cost proportional to change, never a decision taken on stale facts.

A cycle evaluates every tracked recording when what decisions rest on may have changed wholesale: the
first cycle, a change of configuration (the policy, recognition, approvers, the mode: any key),
enforcement switched back on, or a cycle date that is neither the last one nor the day after it (days
missed, the clock set back).

A change of governance (assignments, tags, exemptions and their approvals, which team a drive belongs to,
where moved recordings came from) is found by comparing one fingerprint per target with those the last
complete evaluation rested on (:func:`governance_targets`); the recordings those targets may cover are
evaluated (:func:`~..store.evaluation.covered_by`): tagged or exempted recordings by key, an organizer's,
a site's or a team's drives, those tagged to an assignment, and every moved recording (its facts include
those of the recordings it came from). Without the last fingerprints, every recording is evaluated.

Otherwise it evaluates only the recordings :func:`~..store.evaluation.due_for_evaluation` names: never
evaluated or changed since (every write of the inventory, the re-check and the deletion step clears
``review_on``), due for review by time (``policy.review``: every decision that warns, deletes, fails
closed or rests on a label, and every recording whose due date, warning or cover end is near), and those of
drives whose read failed this cycle (they fail closed). ``plan`` evaluates everything: it prints every
decision and writes none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..domain import RunMode, TargetKind
from ..store import directory as directory_store
from ..store import evaluation, recordings
from ..store.database import Database
from .config import CycleConfig
from .facts import FactIndex

BASIS_KEY = "evaluation_basis"  # what the last complete evaluation rested on
TARGETS_KEY = "evaluation_governance"  # its governance, one fingerprint per target


@dataclass(frozen=True)
class Basis:
    cycle_date: dt.date
    config: str
    governance: str

    def dump(self) -> str:
        return json.dumps({"cycle_date": self.cycle_date.isoformat(), "config": self.config,
                           "governance": self.governance}, sort_keys=True)

    @classmethod
    def load(cls, text: str | None) -> Basis | None:
        try:
            data = json.loads(text or "")
            return cls(dt.date.fromisoformat(data["cycle_date"]), str(data["config"]), str(data["governance"]))
        except (ValueError, KeyError, TypeError):
            return None


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode("utf-8")).hexdigest()


def config_fingerprint(config: CycleConfig, mode: RunMode) -> str:
    return _digest({"mode": mode.value, "config": dataclasses.asdict(config)})


def governance_fingerprint(index: FactIndex) -> str:
    return _digest({"tags": sorted((k, sorted(map(repr, v))) for k, v in index.tags.items()),
                    "exemptions": sorted((repr(k), sorted(map(repr, v))) for k, v in index.exemptions.items()),
                    "teams": sorted(index.drive_team.items(), key=repr),
                    "enforced_since": repr(index.enforced_since),
                    "origins": sorted(map(repr, index.origins.values()))})


def governance_targets(index: FactIndex) -> dict[str, str]:
    """One short fingerprint per thing governance may cover: a recording's tags, each target's exemptions, each
    drive's team; and enforcement and the moves, each as a whole."""
    found = {f"tag|{key}": _digest(sorted(map(repr, tags)))[:16] for key, tags in index.tags.items()}
    found |= {f"ex|{kind}|{target}": _digest(sorted(map(repr, found_)))[:16]
              for (kind, target), found_ in index.exemptions.items()}
    found |= {f"team|{drive}": team or "" for drive, team in index.drive_team.items()}
    found["enforced_since"] = repr(index.enforced_since)
    found["origins"] = _digest(sorted(map(repr, index.origins.values())))[:16]
    return found


def covered(index: FactIndex, before: dict[str, str], now: dict[str, str]) -> evaluation.Covers | None:
    """What the governance that changed between ``before`` and ``now`` may cover; None: everything."""
    changed = {k for k in before.keys() | now.keys() if before.get(k) != now.get(k)}
    if "enforced_since" in changed:
        return None
    keys: set[str] = set()
    organizers: set[str] = set()
    drives: set[str] = set()
    for entry in changed:
        kind, _, rest = entry.partition("|")
        if kind == "tag":
            keys.add(rest)
        elif kind == "team":
            drives.add(rest)
        elif kind == "ex":
            target_kind, _, target = rest.partition("|")
            if target_kind == TargetKind.RECORDING.value:
                keys.add(target)
            elif target_kind == TargetKind.ORGANIZER.value:
                organizers.add(target)
            elif target_kind == TargetKind.SITE.value:  # a drive, or a team and so each of its drives
                drives |= {target} | {d for d, team in index.drive_team.items() if team == target}
            elif target_kind == TargetKind.ASSIGNMENT.value:
                keys |= {key for key, tags in index.tags.items() if any(t.assignment_id == target for t in tags)}
            else:
                return None  # a target this code does not know: everything
        elif kind != "origins":
            return None
    return evaluation.Covers(frozenset(keys), frozenset(organizers), frozenset(drives), moved=bool(changed))


def basis_of(config: CycleConfig, mode: RunMode, index: FactIndex, cycle_date: dt.date) -> Basis:
    return Basis(cycle_date, config_fingerprint(config, mode), governance_fingerprint(index))


def why_all(db: Database, basis: Basis, mode: RunMode) -> str | None:
    """Why every tracked recording must be evaluated this cycle; None when only those due need to be."""
    if mode is RunMode.PLAN:
        return "plan shows every decision"
    last = Basis.load(directory_store.sync_state(db, BASIS_KEY))
    if last is None:
        return "no complete evaluation on record"
    if basis.cycle_date not in (last.cycle_date, last.cycle_date + dt.timedelta(days=1)):
        return f"the last complete evaluation was for {last.cycle_date}, not the day before"
    if last.config != basis.config:
        return "the configuration changed"
    return None


def select(db: Database, basis: Basis, mode: RunMode, failed_drives: list[str],
           index: FactIndex) -> tuple[list[int], str | None]:
    """The ids of the tracked recordings to evaluate, and why all of them when all."""
    why = why_all(db, basis, mode)
    last = Basis.load(directory_store.sync_state(db, BASIS_KEY))
    if why is None and last is not None and last.governance != basis.governance:
        before = _targets(directory_store.sync_state(db, TARGETS_KEY))
        covers = covered(index, before, governance_targets(index)) if before is not None else None
        if covers is None:
            why = "assignments, tags or exemptions changed"
        else:
            due = evaluation.due_for_evaluation(db, basis.cycle_date, failed_drives)
            return sorted(set(due) | set(evaluation.covered_by(db, covers))), None
    if why is not None:
        return recordings.tracked_ids(db), why
    return evaluation.due_for_evaluation(db, basis.cycle_date, failed_drives), None


def _targets(text: str | None) -> dict[str, str] | None:
    try:
        found = json.loads(text or "")
    except ValueError:
        return None
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else None


def record(db: Database, basis: Basis, index: FactIndex) -> None:
    """A complete evaluation rested on ``basis`` (only then may the next cycle evaluate less)."""
    last = Basis.load(directory_store.sync_state(db, BASIS_KEY))
    if last is None or last.governance != basis.governance or directory_store.sync_state(db, TARGETS_KEY) is None:
        directory_store.set_sync_state(db, TARGETS_KEY, json.dumps(governance_targets(index), sort_keys=True))
    directory_store.set_sync_state(db, BASIS_KEY, basis.dump())
