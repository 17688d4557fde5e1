"""audit rows hash-chained; SQLite refuses INSERT OR REPLACE on an audit id

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 09:10:00

Each audit row gets `prev_hash` and `row_hash` (backoffice/audit/chain.py says how they are
computed); the rows already there are chained in id order. On PostgreSQL, `audit_chain_head()`
takes the lock that serialises appends and returns the last hash. On SQLite, REPLACE deletes
the row it replaces without firing delete triggers, so an insert with an id already in the
trail is refused by a trigger of its own.

The backfill imports the app's chain code on purpose: the hashes written here must be the ones
`flask audit verify` recomputes.
"""
from alembic import op
import sqlalchemy as sa

from backoffice.audit import chain


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = 'audit_event is append-only'
SQLITE_TRIGGERS = {
    'audit_event_no_update': f"""
        CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
    'audit_event_no_delete': f"""
        CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
    # NEW.id is -1 when the id is left to SQLite, so ordinary inserts pass.
    'audit_event_no_replace': f"""
        CREATE TRIGGER audit_event_no_replace BEFORE INSERT ON audit_event
        WHEN EXISTS (SELECT 1 FROM audit_event WHERE id = NEW.id)
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
}
CHAIN_HEAD_FUNCTION = """
    CREATE FUNCTION audit_chain_head() RETURNS varchar LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        -- Held until the calling transaction ends. A writer that waited for it reads the last
        -- hash in a statement of its own (a new snapshot, in READ COMMITTED), so it sees the
        -- rows the writer before it committed.
        PERFORM pg_advisory_xact_lock('audit_event'::regclass::oid::bigint);
        RETURN (SELECT row_hash FROM audit_event ORDER BY id DESC LIMIT 1);
    END;
    $$"""


def _sqlite_triggers(names):
    for name in names:
        op.execute(SQLITE_TRIGGERS[name])


def upgrade():
    bind = op.get_bind()
    postgresql = bind.dialect.name == 'postgresql'
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))

    if postgresql:
        op.execute('ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only')
    else:
        op.execute('DROP TRIGGER audit_event_no_update')
        op.execute('DROP TRIGGER audit_event_no_delete')
    chain.rechain(bind, sa.Table('audit_event', sa.MetaData(), autoload_with=bind))
    if postgresql:
        op.execute('ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only')

    # On SQLite this rebuilds the table, which takes its triggers with it: they come back below.
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('row_hash', existing_type=sa.String(length=64), nullable=False)

    if postgresql:
        op.execute(CHAIN_HEAD_FUNCTION)
    else:
        _sqlite_triggers(SQLITE_TRIGGERS)


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        op.execute('DROP FUNCTION audit_chain_head()')
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER {name}')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
    if not postgresql:
        _sqlite_triggers(['audit_event_no_update', 'audit_event_no_delete'])
