"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29

The audit table is append-only: triggers refuse UPDATE and DELETE on it, so evidence cannot be rewritten
through the application or by hand without dropping the trigger (which itself leaves a trace in DDL logs).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('assignments',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('client', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cycle_date', sa.Date(), nullable=True),
    sa.Column('run_id', sa.BigInteger(), nullable=True),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('recording_key', sa.Text(), nullable=True),
    sa.Column('recording_name', sa.Text(), nullable=True),
    sa.Column('organizer_id', sa.String(length=100), nullable=True),
    sa.Column('rule', sa.String(length=60), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event'), ['event'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_recording_key'), ['recording_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_run_id'), ['run_id'], unique=False)

    op.create_table('cycle_lock',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('holder', sa.Text(), nullable=True),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('drives',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.String(length=100), nullable=True),
    sa.Column('team_id', sa.String(length=100), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('in_scope', sa.Boolean(), nullable=False),
    sa.Column('delta_link', sa.Text(), nullable=True),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('sync_generation', sa.Integer(), nullable=False),
    sa.Column('last_sync_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('root_id', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('exemptions',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('target_kind', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.String(length=300), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('requested_by', sa.Text(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exemptions_target_id'), ['target_id'], unique=False)

    op.create_table('folders',
    sa.Column('drive_id', sa.String(length=200), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.String(length=200), nullable=True),
    sa.Column('is_root', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('drive_id', 'item_id')
    )
    op.create_table('pause_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('by', sa.Text(), nullable=True),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('people',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=False),
    sa.Column('upn', sa.Text(), nullable=False),
    sa.Column('mail', sa.Text(), nullable=True),
    sa.Column('preferred_language', sa.String(length=20), nullable=True),
    sa.Column('account_enabled', sa.Boolean(), nullable=False),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('drive_id', sa.String(length=200), nullable=True),
    sa.Column('no_onedrive', sa.Boolean(), nullable=False),
    sa.Column('drive_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('recordings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('drive_id', sa.String(length=200), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('etag', sa.String(length=200), nullable=True),
    sa.Column('web_url', sa.Text(), nullable=True),
    sa.Column('organizer_id', sa.String(length=100), nullable=True),
    sa.Column('drive_kind', sa.String(length=20), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sync_generation', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_on', sa.Date(), nullable=True),
    sa.Column('delete_mode', sa.String(length=20), nullable=True),
    sa.Column('deletion_reported', sa.Boolean(), nullable=False),
    sa.Column('delete_attempted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('restored_dates', sa.JSON(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=True),
    sa.Column('rule', sa.String(length=60), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('episode_start', sa.Date(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('label_name', sa.Text(), nullable=True),
    sa.Column('blocked_code', sa.String(length=100), nullable=True),
    sa.Column('blocked_message', sa.Text(), nullable=True),
    sa.Column('blocked_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('drive_id', 'item_id', name='uq_recordings_item')
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recordings_drive_id'), ['drive_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recordings_organizer_id'), ['organizer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recordings_state'), ['state'], unique=False)

    op.create_table('runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cycle_date', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sync_state',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('teams',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=False),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('drive_ids', sa.JSON(), nullable=False),
    sa.Column('drives_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('assignment_tags',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('assignment_id', sa.String(length=100), nullable=False),
    sa.Column('drive_id', sa.String(length=200), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('tagged_on', sa.Date(), nullable=False),
    sa.Column('untagged_on', sa.Date(), nullable=True),
    sa.Column('tagged_by', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assignment_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_tags_assignment_id'), ['assignment_id'], unique=False)

    op.create_table('digests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organizer_id', sa.String(length=100), nullable=False),
    sa.Column('recipient', sa.Text(), nullable=True),
    sa.Column('recipient_is_fallback', sa.Boolean(), nullable=False),
    sa.Column('cycle_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organizer_id', 'cycle_date', name='uq_digest_per_day')
    )
    op.create_table('warnings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('digest_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('recording_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cycle_date', sa.Date(), nullable=False),
    sa.Column('announced_due', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['digest_id'], ['digests.id'], ),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warnings_digest_id'), ['digest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_warnings_recording_id'), ['recording_id'], unique=False)

    _create_audit_guards()


_SQLITE_GUARDS = [
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
       BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
       BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END""",
]

_POSTGRES_GUARDS = [
    """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
       FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
]


def _create_audit_guards() -> None:
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": _SQLITE_GUARDS, "postgresql": _POSTGRES_GUARDS}.get(dialect, [])
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:

    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warnings_recording_id'))
        batch_op.drop_index(batch_op.f('ix_warnings_digest_id'))

    op.drop_table('warnings')
    op.drop_table('digests')
    with op.batch_alter_table('assignment_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_tags_assignment_id'))

    op.drop_table('assignment_tags')
    op.drop_table('teams')
    op.drop_table('sync_state')
    op.drop_table('runs')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recordings_state'))
        batch_op.drop_index(batch_op.f('ix_recordings_organizer_id'))
        batch_op.drop_index(batch_op.f('ix_recordings_drive_id'))

    op.drop_table('recordings')
    op.drop_table('people')
    op.drop_table('pause_state')
    op.drop_table('folders')
    with op.batch_alter_table('exemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exemptions_target_id'))

    op.drop_table('exemptions')
    op.drop_table('drives')
    op.drop_table('cycle_lock')
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_run_id'))
        batch_op.drop_index(batch_op.f('ix_audit_recording_key'))
        batch_op.drop_index(batch_op.f('ix_audit_event'))
        batch_op.drop_index(batch_op.f('ix_audit_at'))

    op.drop_table('audit')
    op.drop_table('assignments')

