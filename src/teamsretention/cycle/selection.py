"""Which recordings a cycle evaluates: cost proportional to change, never a decision taken on stale facts.

A cycle evaluates every tracked recording when what decisions rest on may have changed wholesale: the
first cycle, a change of configuration (the policy, recognition, approvers, the mode: any key), a change
of governance (assignments, tags, exemptions and their approvals, where moved recordings came from, which
team a drive belongs to, enforcement switched back on: one fingerprint of what :class:`FactIndex` loaded),
or a cycle date that is neither the last one nor the day after it (days missed, the clock set back). A
governance change invalidates every recording, not only those it covers: correct, and slower only on the
days governance changes.

Otherwise it evaluates only the recordings :func:`~..store.recordings.due_for_evaluation` names: never
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

from ..domain import RunMode
from ..store import directory as directory_store
from ..store import recordings
from ..store.database import Database
from .config import CycleConfig
from .facts import FactIndex

BASIS_KEY = "evaluation_basis"  # what the last complete evaluation rested on


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
    if last.governance != basis.governance:
        return "assignments, tags or exemptions changed"
    return None


def select(db: Database, basis: Basis, mode: RunMode, failed_drives: list[str]) -> tuple[list[int], str | None]:
    """The ids of the tracked recordings to evaluate, and why all of them when all."""
    why = why_all(db, basis, mode)
    if why is not None:
        return recordings.tracked_ids(db), why
    return recordings.due_for_evaluation(db, basis.cycle_date, failed_drives), None


def record(db: Database, basis: Basis) -> None:
    """A complete evaluation rested on ``basis`` (only then may the next cycle evaluate less)."""
    directory_store.set_sync_state(db, BASIS_KEY, basis.dump())
