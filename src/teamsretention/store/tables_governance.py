"""The governance tables: assignments and their tags, exemptions, the Retention requests list's items.

Part of the schema of :mod:`.tables` (which re-exports them); kept apart so each module stays readable.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables_base import Base, BigIntId, UTCDateTime


class AssignmentRow(Base):
    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_list_item", "list_id", "list_item_id", unique=True),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | closed
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10), default="cli", server_default="cli")  # cli | csv | list
    list_item_id: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the list item owning it
    # the list that item belongs to (item ids restart at 1 in a re-created list); "": not known yet
    list_id: Mapped[str | None] = mapped_column(String(100), nullable=True)


class AssignmentTagRow(Base):
    __tablename__ = "assignment_tags"
    __table_args__ = (Index("ix_assignment_tags_item", "drive_id", "item_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id"), index=True)
    drive_id: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str] = mapped_column(String(200))
    tagged_on: Mapped[dt.date] = mapped_column(Date)
    untagged_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    untagged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    tagged_by: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10), default="cli", server_default="cli")  # cli|csv|list|rule
    untagged_by: Mapped[str | None] = mapped_column(Text, nullable=True)


class ExemptionRow(Base):
    __tablename__ = "exemptions"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # legal_hold | exception
    status: Mapped[str] = mapped_column(String(20))  # pending | approved | rejected | revoked | expired
    target_kind: Mapped[str] = mapped_column(String(20))  # recording | organizer | assignment | site
    target_id: Mapped[str] = mapped_column(String(300), index=True)
    requested_on: Mapped[dt.date] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    review_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    revoked_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="", server_default="")
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="cli", server_default="cli")  # cli | list
    list_item_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    list_id: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the list of list_item_id
    requested_by_id: Mapped[str | None] = mapped_column(String(100), nullable=True)  # Entra object id
    revoked_by: Mapped[str | None] = mapped_column(Text, nullable=True)


class RequestItemRow(Base):
    """An item of the Retention requests list as the cycle last applied it. An item id names an item only
    within its list: a list deleted and created again numbers its items from 1 again."""

    __tablename__ = "request_items"

    list_id: Mapped[str] = mapped_column(String(100), primary_key=True)  # "": read before list ids were kept
    item_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    exemption_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    tag_key: Mapped[str | None] = mapped_column(Text, nullable=True)  # "<code> <recording key>" of a tag row
    status_seen: Mapped[str | None] = mapped_column(String(40), nullable=True)  # RequestStatus last handled
    version_seen: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a version id or an eTag
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
