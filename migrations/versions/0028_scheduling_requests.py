"""scheduling requests: the hand-off from physician to scheduler

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 15:14:05

A physician's decision (repeat block, proceed to RFA, SCS trial) or the candidates list's "Send
to scheduling" opens a `scheduling_request` for the schedulers to book; booking it closes it
(`appointment_id`), or it is cancelled with a reason. `open_key` is set while a request is open
and emptied when it closes, so its unique constraint keeps one open request per patient,
procedure, region and side on both engines (NULLs never clash). An outcome keeps the note of its
decision and the request the decision opened; `ix_outcome_decision_recorded_on` serves the
physicians' list of recent outcomes awaiting a decision and its count in the menu.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduling_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('procedure_type_id', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=True),
    sa.Column('side', sa.String(length=10), nullable=True),
    sa.Column('levels_count', sa.Integer(), nullable=True),
    sa.Column('levels', sa.String(length=60), nullable=True),
    sa.Column('physician_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('earliest_on', sa.Date(), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('needs_override', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('cancel_reason', sa.String(length=200), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('open_key', sa.String(length=80), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'open') = (open_key IS NOT NULL)", name=op.f('ck_scheduling_request_open_key_while_open')),
    sa.CheckConstraint("priority IN ('routine', 'urgent')", name=op.f('ck_scheduling_request_known_priority')),
    sa.CheckConstraint("status IN ('open', 'booked', 'cancelled')", name=op.f('ck_scheduling_request_known_status')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_scheduling_request_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_scheduling_request_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_scheduling_request_office_id_office')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_scheduling_request_patient_id_patient')),
    sa.ForeignKeyConstraint(['physician_id'], ['physician.id'], name=op.f('fk_scheduling_request_physician_id_physician')),
    sa.ForeignKeyConstraint(['procedure_type_id'], ['procedure_type.id'], name=op.f('fk_scheduling_request_procedure_type_id_procedure_type')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_scheduling_request_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduling_request')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_scheduling_request_appointment_id')),
    sa.UniqueConstraint('open_key', name=op.f('uq_scheduling_request_open_key'))
    )
    with op.batch_alter_table('scheduling_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduling_request_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_scheduling_request_status_created', ['status', 'created_at'], unique=False)

    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_note', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('scheduling_request_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_outcome_decision_recorded_on', ['decision', 'recorded_on'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outcome_scheduling_request_id_scheduling_request'), 'scheduling_request', ['scheduling_request_id'], ['id'])



def downgrade():
    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outcome_scheduling_request_id_scheduling_request'), type_='foreignkey')
        batch_op.drop_index('ix_outcome_decision_recorded_on')
        batch_op.drop_column('scheduling_request_id')
        batch_op.drop_column('decision_note')

    with op.batch_alter_table('scheduling_request', schema=None) as batch_op:
        batch_op.drop_index('ix_scheduling_request_status_created')
        batch_op.drop_index(batch_op.f('ix_scheduling_request_patient_id'))

    op.drop_table('scheduling_request')
