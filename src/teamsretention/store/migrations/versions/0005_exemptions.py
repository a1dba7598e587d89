"""exemptions as the DPO and IT admins decide them: legal basis, decision note, source, list items

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-02

- exemptions.legal_basis / decision_note / source / list_item_id / requested_by_id / revoked_by: what a
  request rests on, what the decider wrote, where it came from (cli | list) and who asked (an Entra object
  id: self-approval is refused by id, never by a name);
- request_items: every item of the "Retention requests" list the cycle has read, with the exemption or tag it
  became and the status last applied, so a decision is applied once and a deleted item is reported, never
  taken for a revocation.

Every new column has a server default or is nullable: existing exemptions keep their meaning (source cli).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('exemptions', sa.Column('legal_basis', sa.Text(), nullable=False, server_default=''))
    op.add_column('exemptions', sa.Column('decision_note', sa.Text(), nullable=True))
    op.add_column('exemptions', sa.Column('source', sa.String(length=20), nullable=False, server_default='cli'))
    op.add_column('exemptions', sa.Column('list_item_id', sa.String(length=100), nullable=True))
    op.add_column('exemptions', sa.Column('requested_by_id', sa.String(length=100), nullable=True))
    op.add_column('exemptions', sa.Column('revoked_by', sa.Text(), nullable=True))
    op.create_table(
        'request_items',
        sa.Column('item_id', sa.String(length=100), primary_key=True),
        sa.Column('exemption_id', sa.String(length=100), nullable=True),
        sa.Column('tag_key', sa.Text(), nullable=True),
        sa.Column('status_seen', sa.String(length=40), nullable=True),
        sa.Column('version_seen', sa.String(length=40), nullable=True),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('request_items')
    for column in ('revoked_by', 'requested_by_id', 'list_item_id', 'source', 'decision_note', 'legal_basis'):
        with op.batch_alter_table('exemptions') as batch:
            batch.drop_column(column)
