"""evidence retention: the personal part of audit entries apart, digests without mail text, pruning marks

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02

- audit_personal (keyed by audit.id) holds what names a recording or a person (recording key and name,
  organizer, reason, detail) with a random salt; audit.personal_digest commits to it:
  "sha256:" + SHA-256(salt || canonical JSON). Existing entries are moved and their digests computed here.
  When a recording's evidence period is over its entries' personal parts are deleted; the audit rows and
  digests never change, so a hash chain over them stays verifiable (store/audit.py).
- Triggers: audit still refuses UPDATE and DELETE; audit_personal refuses UPDATE (a personal part is
  kept as committed or deleted, never rewritten). They are lifted only while this migration moves rows.
- recordings.evidence_pruned_on, digests.evidence_pruned_on: when a record's personal data was removed.
- digests.body: the mail's text, kept only with evidence.keep_mail_bodies = true (as is the subject).
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PERSONAL = ('recording_key', 'recording_name', 'organizer_id', 'reason', 'detail')
BATCH = 1000

_old_audit = sa.table('audit', sa.column('id', sa.Integer), sa.column('recording_key', sa.Text),
                      sa.column('recording_name', sa.Text), sa.column('organizer_id', sa.String),
                      sa.column('reason', sa.Text), sa.column('detail', sa.JSON),
                      sa.column('personal_digest', sa.String))
_personal = sa.table('audit_personal', sa.column('audit_id', sa.Integer), sa.column('salt', sa.String),
                     sa.column('recording_key', sa.Text), sa.column('content', sa.JSON))

_GUARDS = {
    'sqlite': [
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
           BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END""",
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
           BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END""",
        """CREATE TRIGGER audit_personal_no_update BEFORE UPDATE ON audit_personal
           BEGIN SELECT RAISE(ABORT, 'audit is append-only: a personal part is kept or deleted'); END""",
    ],
    'postgresql': [
        """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit is append-only'; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
           FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
        """CREATE TRIGGER audit_personal_no_update BEFORE UPDATE ON audit_personal
           FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
    ],
}
_DROP_GUARDS = {
    'sqlite': ["DROP TRIGGER IF EXISTS audit_no_update", "DROP TRIGGER IF EXISTS audit_no_delete",
               "DROP TRIGGER IF EXISTS audit_personal_no_update"],
    'postgresql': ["DROP TRIGGER IF EXISTS audit_no_update ON audit",
                   "DROP TRIGGER IF EXISTS audit_personal_no_update ON audit_personal"],
}


def _dialect() -> str:
    return op.get_bind().dialect.name


def _run(statements: dict[str, list[str]]) -> None:
    for statement in statements.get(_dialect(), []):
        op.execute(statement)


def _canonical(value: Any) -> str:
    # The same encoding as store/audit.py's PersonalPart (frozen here: a migration never imports the app).
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False, default=str)


def _drop_columns(table: str, columns: tuple[str, ...]) -> None:
    if _dialect() == 'sqlite':
        # Native DROP COLUMN (SQLite 3.35+): a batch copy would drop and re-create the table, which the
        # rows of audit_personal reference.
        if sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is too old for this migration: 3.35 or newer")
        for column in columns:
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
        return
    for column in columns:
        op.drop_column(table, column)


def upgrade() -> None:
    _run(_DROP_GUARDS)
    op.add_column('audit', sa.Column('personal_digest', sa.String(length=80), nullable=True))
    op.create_table('audit_personal',
    sa.Column('audit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('recording_key', sa.Text(), nullable=True),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audit.id'], ),
    sa.PrimaryKeyConstraint('audit_id')
    )
    op.create_index('ix_audit_personal_recording_key', 'audit_personal', ['recording_key'])
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(_old_audit).where(_old_audit.c.id > last)
                            .order_by(_old_audit.c.id).limit(BATCH)).mappings().all()
        if not rows:
            break
        parts, digests = [], []
        for r in rows:
            content = json.loads(_canonical({k: (dict(r[k] or {}) if k == 'detail' else r[k]) for k in PERSONAL}))
            content['reason'] = content['reason'] or ''
            salt = secrets.token_hex(16)
            digest = 'sha256:' + hashlib.sha256(bytes.fromhex(salt) + _canonical(content).encode()).hexdigest()
            parts.append({'audit_id': r['id'], 'salt': salt, 'recording_key': r['recording_key'], 'content': content})
            digests.append({'row_id': r['id'], 'digest': digest})
        bind.execute(sa.insert(_personal), parts)
        bind.execute(sa.update(_old_audit).where(_old_audit.c.id == sa.bindparam('row_id'))
                     .values(personal_digest=sa.bindparam('digest')), digests)
        last = rows[-1]['id']
    op.drop_index('ix_audit_recording_key', table_name='audit')
    _drop_columns('audit', PERSONAL)
    if _dialect() != 'sqlite':  # SQLite cannot add NOT NULL to a column; every row has its digest
        op.alter_column('audit', 'personal_digest', nullable=False)
    _run(_GUARDS)
    op.add_column('recordings', sa.Column('evidence_pruned_on', sa.Date(), nullable=True))
    op.add_column('digests', sa.Column('body', sa.Text(), nullable=True))
    op.add_column('digests', sa.Column('evidence_pruned_on', sa.Date(), nullable=True))


def downgrade() -> None:
    """Back to one audit table: personal parts return to their rows (redacted rows stay empty)."""
    _run(_DROP_GUARDS)
    op.add_column('audit', sa.Column('recording_key', sa.Text(), nullable=True))
    op.add_column('audit', sa.Column('recording_name', sa.Text(), nullable=True))
    op.add_column('audit', sa.Column('organizer_id', sa.String(length=100), nullable=True))
    op.add_column('audit', sa.Column('reason', sa.Text(), nullable=False, server_default=''))
    op.add_column('audit', sa.Column('detail', sa.JSON(), nullable=False, server_default='{}'))
    bind = op.get_bind()
    values = [{'row_id': p['audit_id'], **{f'v_{k}': p['content'].get(k) for k in PERSONAL}}
              for p in bind.execute(sa.select(_personal)).mappings()]
    for v in values:
        v['v_reason'], v['v_detail'] = v['v_reason'] or '', v['v_detail'] or {}
    if values:
        bind.execute(sa.update(_old_audit).where(_old_audit.c.id == sa.bindparam('row_id'))
                     .values(**{k: sa.bindparam(f'v_{k}') for k in PERSONAL}), values)
    op.create_index('ix_audit_recording_key', 'audit', ['recording_key'])
    op.drop_index('ix_audit_personal_recording_key', table_name='audit_personal')
    op.drop_table('audit_personal')
    _drop_columns('audit', ('personal_digest',))
    _run({d: s[:2] for d, s in _GUARDS.items()})
    for table, column in (('digests', 'evidence_pruned_on'), ('digests', 'body'), ('recordings', 'evidence_pruned_on')):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
