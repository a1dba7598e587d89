"""Set-based upserts shared by the store's modules: one read of which rows are known, then one INSERT for the
new ones and one UPDATE for the known ones, however many there are (a directory page, a tenant's drives)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from .database import chunked


def upsert(s: Session, table: Table, rows: Iterable[Mapping[str, Any]], *,
           defaults: Mapping[str, Any] | None = None) -> None:
    """Inside the caller's transaction: each of ``rows`` (keyed by the table's ``id`` column; one listed twice:
    the last wins) is inserted with ``defaults`` when it is new, and its given columns are written when it is
    known (every other column is left as it is)."""
    latest = {row["id"]: row for row in rows}
    if not latest:
        return
    known: set[Any] = set()
    for chunk in chunked(sorted(latest)):
        known.update(s.scalars(select(table.c.id).where(table.c.id.in_(chunk))))
    new = [{**(defaults or {}), **row} for key, row in latest.items() if key not in known]
    if new:
        s.execute(table.insert(), new)
    changed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for key, row in latest.items():
        if key not in known:
            continue
        columns = tuple(sorted(c for c in row if c != "id"))
        changed.setdefault(columns, []).append({"b_id": key, **{c: row[c] for c in columns}})
    for columns, params in changed.items():
        if columns:
            s.execute(update(table).where(table.c.id == bindparam("b_id")), params)


def mark(s: Session, table: Table, ids: Iterable[Any], **values: Any) -> None:
    """Inside the caller's transaction: set ``values`` on the rows with these ids (those there are)."""
    for chunk in chunked(sorted(set(ids))):
        s.execute(update(table).where(table.c.id.in_(chunk)).values(**values))
