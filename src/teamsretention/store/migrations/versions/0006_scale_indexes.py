"""indexes that match the inventory's and the digests' queries at tenant scale

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

- ix_recordings_drive_state (drive_id, state, sync_generation): a drive's governed recordings, and those a
  full re-enumeration did not list, are read through the drive's own rows, not the whole table;
- ix_recordings_organizer_state (organizer_id, state, action, decided_on): one organizer's digest (today's
  warnings, unreported deletions) is read through that organizer's rows;
- ix_recordings_created_name (created_at, name): a newly found recording is matched to the one it was moved
  from (same name and creation time) without reading every recording.

The single-column indexes on drive_id and organizer_id are dropped: the first columns of the new indexes
(and of uq_recordings_item) serve every query they served.
"""
from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CREATE INDEX and DROP INDEX on both SQLite and PostgreSQL: no batch copy of the table is needed
    op.create_index('ix_recordings_drive_state', 'recordings', ['drive_id', 'state', 'sync_generation'])
    op.create_index('ix_recordings_organizer_state', 'recordings', ['organizer_id', 'state', 'action', 'decided_on'])
    op.create_index('ix_recordings_created_name', 'recordings', ['created_at', 'name'])
    op.drop_index('ix_recordings_drive_id', table_name='recordings')
    op.drop_index('ix_recordings_organizer_id', table_name='recordings')


def downgrade() -> None:
    op.create_index('ix_recordings_organizer_id', 'recordings', ['organizer_id'])
    op.create_index('ix_recordings_drive_id', 'recordings', ['drive_id'])
    op.drop_index('ix_recordings_created_name', table_name='recordings')
    op.drop_index('ix_recordings_organizer_state', table_name='recordings')
    op.drop_index('ix_recordings_drive_state', table_name='recordings')
