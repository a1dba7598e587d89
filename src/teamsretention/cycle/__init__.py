"""The governance cycle (design §3), one module per step:

- ``run``: :class:`Cycle`, the lock and the order of the steps;
- ``directory`` and ``drives``: step 1, the inventory;
- ``evaluate``: step 2, the pure policy applied to every tracked recording;
- ``warn``: step 3, one digest per organizer;
- ``delete``: step 4, deletions behind the safety rails;
- ``facts``: what the policy is told about each recording;
- ``limits``: the blast-radius limit, the ``--allow-deletions`` override, and plan's outlook of both;
- ``config`` and ``outcome``: what a cycle is given, and what it reports (exit codes merged).
"""

from .config import CycleConfig, ScopeRules
from .limits import DeletionOutlook, DeletionOverride
from .outcome import CycleReport, Evaluated, InventoryStats
from .run import Cycle

__all__ = ["Cycle", "CycleConfig", "CycleReport", "DeletionOutlook", "DeletionOverride",
           "Evaluated", "InventoryStats", "ScopeRules"]
