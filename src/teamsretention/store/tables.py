"""SQLAlchemy tables for the daemon's state. The schema itself is created by Alembic migrations
(``store/migrations``); these declarations are what the repository queries against and must match them.
Dates are calendar dates in the policy time zone; timestamps are stored in UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .tables_base import Base, BigIntId, UTCDateTime

# The governance tables live in their own module (this one stays readable); they are part of the same schema.
from .tables_governance import AssignmentRow, AssignmentTagRow, ExemptionRow, RequestItemRow


class RecordingRow(Base):
    __tablename__ = "recordings"
    __table_args__ = (UniqueConstraint("drive_id", "item_id", name="uq_recordings_item"),
                      Index("ix_recordings_parent", "drive_id", "parent_id"),  # 0006: per drive, organizer, move
                      Index("ix_recordings_drive_state", "drive_id", "state", "sync_generation"),
                      Index("ix_recordings_organizer_state", "organizer_id", "state", "action", "decided_on"),
                      Index("ix_recordings_created_name", "created_at", "name"),
                      Index("ix_recordings_review", "state", "review_on"))  # 0007: due for evaluation

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    drive_id: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    web_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    organizer_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    drive_kind: Mapped[str] = mapped_column(String(20), default="onedrive")
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sync_generation: Mapped[int] = mapped_column(Integer, default=0)
    # tracked | deleted (by us) | gone (deleted by someone else)
    state: Mapped[str] = mapped_column(String(20), default="tracked", index=True)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    delete_mode: Mapped[str | None] = mapped_column(String(20), nullable=True)
    deletion_reported: Mapped[bool] = mapped_column(Boolean, default=False)  # in a digest's receipt yet
    # set just before a delete request, cleared by a definite answer: when the item then vanishes from
    # the drive, the delete whose answer was lost (timeout, shutdown) was ours
    delete_attempted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    restored_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    restored_at: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # ISO moments the restores were seen
    # what it was recognised by (policy.recognition.Evidence); why a re-read no longer recognises it
    evidence: Mapped[str | None] = mapped_column(String(40), nullable=True)
    recognition_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    moved_from: Mapped[str | None] = mapped_column(Text, nullable=True)  # "<drive>/<item>" it was moved from
    parent_id: Mapped[str | None] = mapped_column(String(200), nullable=True)  # its folder (ix_recordings_parent)
    mime_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # the last decision taken by an enforcing or dry-run cycle
    action: Mapped[str | None] = mapped_column(String(20), nullable=True)
    rule: Mapped[str | None] = mapped_column(String(60), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    episode_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # the first cycle date evaluating it again could change its decision by time alone (NULL: evaluate it)
    review_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    label_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    # deletion refused (423/403): Graph's code and message, and when to try again
    blocked_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    blocked_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    blocked_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # the day its personal data was removed, its evidence period over (store.evidence)
    evidence_pruned_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class DriveRow(Base):
    __tablename__ = "drives"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    name: Mapped[str] = mapped_column(Text, default="")
    in_scope: Mapped[bool] = mapped_column(Boolean, default=True)
    delta_link: Mapped[str | None] = mapped_column(Text, nullable=True)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    sync_generation: Mapped[int] = mapped_column(Integer, default=0)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    root_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    polled_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # cycle date of the last full read


class FolderRow(Base):
    """Delta never returns folder paths: this map of folder ids lets us recognise Recordings folders."""

    __tablename__ = "folders"

    drive_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    is_root: Mapped[bool] = mapped_column(Boolean, default=False)
    special: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the specialFolder facet's name


class PersonRow(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str] = mapped_column(Text, default="")
    upn: Mapped[str] = mapped_column(Text, default="")
    mail: Mapped[str | None] = mapped_column(Text, nullable=True)
    preferred_language: Mapped[str | None] = mapped_column(String(20), nullable=True)
    account_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    drive_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    no_onedrive: Mapped[bool] = mapped_column(Boolean, default=False)
    drive_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    mailbox: Mapped[str | None] = mapped_column(String(20), nullable=True)  # yes | no | unknown
    mailbox_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TeamRow(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str] = mapped_column(Text, default="")
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    drive_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    drives_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SyncStateRow(Base):
    """Tenant-level delta links (users, groups)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text, nullable=True)


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    mode: Mapped[str] = mapped_column(String(20))  # enforce | dry_run | plan
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # the moment the cycle stands for
    cycle_date: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # running | ok | incomplete | interrupted | safety_stop | failed
    status: Mapped[str] = mapped_column(String(20), default="running")
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # snapshot, secrets removed
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)


class DigestRow(Base):
    """One digest per organizer per cycle date. Recorded as intended before it is sent."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("organizer_id", "cycle_date", name="uq_digest_per_day"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    organizer_id: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str | None] = mapped_column(Text, nullable=True)
    recipient_is_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    cycle_date: Mapped[dt.date] = mapped_column(Date)
    # intended | sent | failed | dry_run | undeliverable
    status: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5), default="sv")
    subject: Mapped[str] = mapped_column(Text, default="")  # kept only with evidence.keep_mail_bodies
    body: Mapped[str | None] = mapped_column(Text, nullable=True)  # the text part, likewise
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    evidence_pruned_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class WarningRow(Base):
    """A recording announced in a digest. Only status 'sent' (Graph answered 202) starts a notice clock."""

    __tablename__ = "warnings"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id"), index=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    cycle_date: Mapped[dt.date] = mapped_column(Date)
    announced_due: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # mirrors the digest's status


class PauseRow(Base):
    __tablename__ = "pause_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    by: Mapped[str | None] = mapped_column(Text, nullable=True)
    since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LockRow(Base):
    __tablename__ = "cycle_lock"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str | None] = mapped_column(Text, nullable=True)
    acquired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditRow(Base):
    """Append-only evidence: who/what/when/why. Triggers in the migrations refuse UPDATE and DELETE.

    The row holds what is never personal (event, moments, rule, due date, run, actor); what names a
    recording or a person sits in :class:`AuditPersonalRow`, committed to by ``personal_digest``
    (``store.audit`` explains the scheme)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    cycle_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    run_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    actor: Mapped[str] = mapped_column(Text, default="teamsretention")
    event: Mapped[str] = mapped_column(String(40), index=True)
    rule: Mapped[str | None] = mapped_column(String(60), nullable=True)
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    personal_digest: Mapped[str] = mapped_column(String(80))  # "sha256:<hex>" of the salted personal part
    personal: Mapped[AuditPersonalRow | None] = relationship(lazy="raise")


class AuditPersonalRow(Base):
    """The personal part of one audit row; deleted (never changed: a trigger refuses UPDATE) when the
    evidence of its recording has been kept long enough (``store.evidence``)."""

    __tablename__ = "audit_personal"

    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
    recording_key: Mapped[str | None] = mapped_column(Text, nullable=True, index=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # recording_key, recording_name, organizer_id, reason, detail


__all__ = ["AssignmentRow", "AssignmentTagRow", "AuditPersonalRow", "AuditRow", "Base", "BigIntId", "DigestRow",
           "DriveRow", "ExemptionRow", "FolderRow", "LockRow", "PauseRow", "PersonRow", "RecordingRow",
           "RequestItemRow", "RunRow", "SyncStateRow", "TeamRow", "UTCDateTime", "WarningRow"]
