"""audit trail, append-only

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:00:01

The database itself refuses UPDATE and DELETE on audit_event, so neither the app nor someone
with its credentials at a SQL prompt can rewrite history.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = 'audit_event is append-only'


def upgrade():
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_event_entity', ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_user_id'), ['user_id'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}';
            END;
            $$""")
        op.execute("""
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
            FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()""")
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"""
                CREATE TRIGGER audit_event_no_{event.lower()} BEFORE {event} ON audit_event
                BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_event_append_only ON audit_event')
        op.execute('DROP FUNCTION audit_event_refuse_change()')
    else:
        op.execute('DROP TRIGGER audit_event_no_update')
        op.execute('DROP TRIGGER audit_event_no_delete')
    op.drop_table('audit_event')
