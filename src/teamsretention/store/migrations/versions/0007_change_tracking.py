"""what an unchanged cycle may skip: when each recording must be evaluated again, when each drive was read

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

- recordings.review_on: the first cycle date on which evaluating the recording again could change its
  decision by time alone (NULL: its facts changed, or it was never evaluated: evaluate it next cycle);
  ix_recordings_review (state, review_on) lets a cycle read only the recordings due for evaluation;
- drives.polled_on: the cycle date the drive's delta feed was last read to its end (NULL: never, or it
  came back into scope): an idle drive is read every policy.max_poll_interval_days, the others daily.

Existing recordings start with review_on NULL: the first cycle after the upgrade evaluates all of them.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('recordings', sa.Column('review_on', sa.Date(), nullable=True))
    op.add_column('drives', sa.Column('polled_on', sa.Date(), nullable=True))
    op.create_index('ix_recordings_review', 'recordings', ['state', 'review_on'])


def downgrade() -> None:
    op.drop_index('ix_recordings_review', table_name='recordings')
    with op.batch_alter_table('drives') as batch:
        batch.drop_column('polled_on')
    with op.batch_alter_table('recordings') as batch:
        batch.drop_column('review_on')
