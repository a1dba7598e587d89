"""what a real tenant needs: recognition evidence, moments of endings, moved recordings, mailboxes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

- recordings.evidence / recognition_note: what a recording was recognised by (Teams facets, or a
  Recordings folder and a Teams file name, ...), and why a re-read no longer recognises it;
- recordings.restored_at, exemptions.recorded_at / decided_at / revoked_at, assignments.closed_at,
  assignment_tags.untagged_at: the moment an ending became known, so that only warnings sent after it count
  for the new notice episode (dates alone cannot tell a warning of the morning from one of the evening);
- recordings.parent_id / mime_type, folders.special: the folder a recording is in and the folder's
  specialFolder facet, so that a renamed or moved Recordings folder re-classifies what it holds;
- recordings.moved_from: the recording this one was moved from (another drive gives it a new id), so its
  exemptions, holds and tags follow it;
- people.mailbox / mailbox_checked_at: whether the organizer has a mailbox, so no notice clock starts on a
  mail nobody can read.

Every column is nullable (or has a server default): existing rows keep their meaning, read cautiously.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('recordings', sa.Column('evidence', sa.String(length=40), nullable=True))
    op.add_column('recordings', sa.Column('recognition_note', sa.Text(), nullable=True))
    op.add_column('recordings', sa.Column('restored_at', sa.JSON(), nullable=True))
    op.add_column('recordings', sa.Column('moved_from', sa.Text(), nullable=True))
    op.add_column('recordings', sa.Column('parent_id', sa.String(length=200), nullable=True))
    op.add_column('recordings', sa.Column('mime_type', sa.String(length=100), nullable=True))
    op.create_index('ix_recordings_parent', 'recordings', ['drive_id', 'parent_id'])
    op.add_column('folders', sa.Column('special', sa.String(length=40), nullable=True))
    op.add_column('exemptions', sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('exemptions', sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('exemptions', sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('assignments', sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('assignment_tags', sa.Column('untagged_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('people', sa.Column('mailbox', sa.String(length=20), nullable=True))
    op.add_column('people', sa.Column('mailbox_checked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_index('ix_recordings_parent', table_name='recordings')
    for table, column in (('folders', 'special'), ('recordings', 'mime_type'), ('recordings', 'parent_id'),
                          ('people', 'mailbox_checked_at'), ('people', 'mailbox'),
                          ('assignment_tags', 'untagged_at'), ('assignments', 'closed_at'),
                          ('exemptions', 'revoked_at'), ('exemptions', 'decided_at'), ('exemptions', 'recorded_at'),
                          ('recordings', 'moved_from'),
                          ('recordings', 'restored_at'), ('recordings', 'recognition_note'),
                          ('recordings', 'evidence')):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
