"""The layout holds: one audit writer, modules of a readable size. (The import arrows and the absence of
cycles are held by import-linter's contracts in pyproject.toml, run by `make lint`.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "teamsretention"
MAX_LINES = 350
# Data tables and migrations may be longer: they are read as data, not as logic.
LONG_ALLOWED = {"simulator/tenants.py"}


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def audit_row_mentions(source: str) -> list[int]:
    """Lines that name the audit table's row class: importing it, calling it, or reaching it as an attribute."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and any(a.name == "AuditRow" for a in node.names) or (isinstance(node, ast.Name) and node.id == "AuditRow") or (
                isinstance(node, ast.Attribute) and node.attr == "AuditRow"):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_only_store_audit_constructs_audit_rows() -> None:
    writers = [f"{rel}:{line}" for path in _modules()
               if (rel := path.relative_to(SRC).as_posix()) not in {"store/audit.py", "store/tables.py"}
               for line in audit_row_mentions(path.read_text(encoding="utf-8"))]
    assert writers == [], "audit rows are built only by store/audit.py (write/append); found: " + ", ".join(writers)


def test_the_audit_writer_check_sees_every_way_of_building_a_row() -> None:
    assert audit_row_mentions("from teamsretention.store.tables import AuditRow\nAuditRow(event='x')\n") == [1, 2]
    assert audit_row_mentions("from teamsretention.store import tables\ntables.AuditRow(event='x')\n") == [2]
    assert audit_row_mentions("row = AuditEvent(kind='x')\n") == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_modules_stay_readable(path: Path) -> None:
    rel = path.relative_to(SRC).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert rel in LONG_ALLOWED or lines <= MAX_LINES, f"{rel} has {lines} lines; split it along a seam"
