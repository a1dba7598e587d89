"""assignments: where each came from, the list item owning it, and who removed a tag

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

- assignments.source: how the assignment got into the store (cli | csv | list); existing rows were made by
  an administrator's command (or the demo's seeding), so they default to ``cli``;
- assignments.list_item_id: the Assignments list item that owns it (None: created by the CLI or a CSV
  import, editable there); unique, so one list item owns at most one assignment;
- assignment_tags.source (cli | csv | list | rule), untagged_by: how a tag was made and who removed it;
- ix_assignment_tags_item: a recording's tags are looked up by its drive and item.

Every new column has a server default or is nullable: existing rows keep their meaning.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('assignments', sa.Column('source', sa.String(length=10), nullable=False, server_default='cli'))
    op.add_column('assignments', sa.Column('list_item_id', sa.String(length=100), nullable=True))
    op.create_index('ix_assignments_list_item', 'assignments', ['list_item_id'], unique=True)
    op.add_column('assignment_tags', sa.Column('source', sa.String(length=10), nullable=False,
                                               server_default='cli'))
    op.add_column('assignment_tags', sa.Column('untagged_by', sa.Text(), nullable=True))
    op.create_index('ix_assignment_tags_item', 'assignment_tags', ['drive_id', 'item_id'])


def downgrade() -> None:
    op.drop_index('ix_assignment_tags_item', table_name='assignment_tags')
    op.drop_index('ix_assignments_list_item', table_name='assignments')
    for table, column in (('assignment_tags', 'untagged_by'), ('assignment_tags', 'source'),
                          ('assignments', 'list_item_id'), ('assignments', 'source')):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
