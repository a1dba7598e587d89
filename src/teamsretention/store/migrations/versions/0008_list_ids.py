"""an item of a governance list is named by its list and its id: a re-created list numbers its items from 1 again

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

- request_items: keyed by (list_id, item_id), so an item of a new "Retention requests" list never lands on the
  exemption an item of the earlier list asked for or decided;
- assignments.list_id: the list whose item owns the assignment (ix_assignments_list_item is now unique on
  (list_id, list_item_id));
- exemptions.list_id: the list of the item a list-made exemption came from (evidence);
- request_items.version_seen holds up to 200 characters: it keeps an item's eTag ("{GUID},n" in quotes: more
  than the 40 it had), which PostgreSQL refused.

Existing rows get the list id the store last read (sync_state: the list's state, or for the requests list the
delta link of its last read, which the old release kept when it cleared the list's id). Where neither names
one, they get "": an item of the list read next takes such a row over only when it is the same item (a
request: the same creator, on the same day; an assignment: the same code).
"""
from __future__ import annotations

import json
import re

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


_LIST_IN_LINK = re.compile(r"/lists(?:/|\(')([^/?'()]+)")


def _state(key: str) -> str | None:
    value = op.get_bind().execute(sa.text("SELECT value FROM sync_state WHERE key = :k"), {"k": key}).scalar()
    return value if isinstance(value, str) else None


def _known_list(key: str, link_key: str | None = None) -> str:
    """The list id the store last read: kept in the list's state, or else (the state was cleared when the list
    could not be found) in the delta link of its last read, which names the list."""
    try:
        found = json.loads(_state(key) or "{}")
    except ValueError:
        found = {}
    found = found if isinstance(found, dict) else {}
    list_id = found.get("list_id")
    if isinstance(list_id, str) and list_id:
        return list_id
    link = _state(link_key) if link_key else found.get("delta")
    match = _LIST_IN_LINK.search(link) if isinstance(link, str) else None
    return match.group(1) if match else ""


_ITEM_COLUMNS = ('item_id', 'exemption_id', 'tag_key', 'status_seen', 'version_seen', 'deleted_at')


def _rekey(key: list[str]) -> None:
    """request_items made again with ``key`` as its primary key (a primary key cannot be altered in place on
    SQLite), its rows copied over."""
    with_list = 'list_id' in key
    op.create_table(
        'request_items_new',
        *([sa.Column('list_id', sa.String(length=100), nullable=False, server_default='')] if with_list else []),
        sa.Column('item_id', sa.String(length=100), nullable=False),
        sa.Column('exemption_id', sa.String(length=100), nullable=True),
        sa.Column('tag_key', sa.Text(), nullable=True),
        sa.Column('status_seen', sa.String(length=40), nullable=True),
        sa.Column('version_seen', sa.String(length=200), nullable=True),  # an eTag is longer than 40
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(*key, name='pk_request_items_' + '_'.join(key)),  # a name no earlier key had
    )
    columns = ", ".join(_ITEM_COLUMNS)
    op.execute(f"INSERT INTO request_items_new ({columns}) SELECT {columns} FROM request_items")
    op.drop_table('request_items')
    op.rename_table('request_items_new', 'request_items')


def upgrade() -> None:
    requests_list = _known_list("requests_list", "requests_list_delta")
    assignments_list = _known_list("list:assignments")
    _rekey(['list_id', 'item_id'])
    op.execute(sa.text("UPDATE request_items SET list_id = :id").bindparams(id=requests_list))
    op.add_column('exemptions', sa.Column('list_id', sa.String(length=100), nullable=True))
    op.execute(sa.text("UPDATE exemptions SET list_id = :id WHERE list_item_id IS NOT NULL").bindparams(
        id=requests_list))
    op.add_column('assignments', sa.Column('list_id', sa.String(length=100), nullable=True))
    op.execute(sa.text("UPDATE assignments SET list_id = :id WHERE list_item_id IS NOT NULL").bindparams(
        id=assignments_list))
    op.drop_index('ix_assignments_list_item', table_name='assignments')
    op.create_index('ix_assignments_list_item', 'assignments', ['list_id', 'list_item_id'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_assignments_list_item', table_name='assignments')
    op.create_index('ix_assignments_list_item', 'assignments', ['list_item_id'], unique=True)
    with op.batch_alter_table('assignments') as batch:
        batch.drop_column('list_id')
    with op.batch_alter_table('exemptions') as batch:
        batch.drop_column('list_id')
    _rekey(['item_id'])  # fails, changing nothing, where two lists' items share an id: that store needs 0008
