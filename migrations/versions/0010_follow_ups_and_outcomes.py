"""follow-ups and outcomes

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 06:20:00

Completing a procedure creates its follow-ups; each follow-up records at most one outcome.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('physician_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('delay', sa.String(length=5), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=6), nullable=False),
    sa.Column('closed_reason', sa.String(length=200), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'done', 'closed')", name=op.f('ck_follow_up_known_status')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_follow_up_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_follow_up_office_id_office')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_follow_up_patient_id_patient')),
    sa.ForeignKeyConstraint(['physician_id'], ['physician.id'], name=op.f('fk_follow_up_physician_id_physician')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_follow_up_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up')),
    sa.UniqueConstraint('appointment_id', 'delay', name=op.f('uq_follow_up_appointment_id_delay'))
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_follow_up_physician_status_due', ['physician_id', 'status', 'due_at'], unique=False)
        batch_op.create_index('ix_follow_up_status_due', ['status', 'due_at'], unique=False)

    op.create_table('outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('contact', sa.String(length=10), nullable=False),
    sa.Column('baseline_nrs', sa.Integer(), nullable=True),
    sa.Column('post_nrs', sa.Integer(), nullable=True),
    sa.Column('percent_relief', sa.Integer(), nullable=False),
    sa.Column('relief_amount', sa.Integer(), nullable=True),
    sa.Column('relief_unit', sa.String(length=10), nullable=True),
    sa.Column('relief_hours', sa.Integer(), nullable=True),
    sa.Column('relief_ongoing', sa.Boolean(), nullable=False),
    sa.Column('function_change', sa.String(length=10), nullable=True),
    sa.Column('odi_answers', sa.JSON(), nullable=True),
    sa.Column('odi_score', sa.Integer(), nullable=True),
    sa.Column('complications', sa.String(length=500), nullable=True),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('notes', sa.String(length=2000), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('baseline_nrs BETWEEN 0 AND 10', name=op.f('ck_outcome_baseline_nrs_range')),
    sa.CheckConstraint('odi_score BETWEEN 0 AND 100', name=op.f('ck_outcome_odi_score_range')),
    sa.CheckConstraint('percent_relief BETWEEN 0 AND 100', name=op.f('ck_outcome_percent_relief_range')),
    sa.CheckConstraint('post_nrs BETWEEN 0 AND 10', name=op.f('ck_outcome_post_nrs_range')),
    sa.CheckConstraint('relief_amount > 0', name=op.f('ck_outcome_relief_amount_positive')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_outcome_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_up.id'], name=op.f('fk_outcome_follow_up_id_follow_up')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_outcome_patient_id_patient')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff_user.id'], name=op.f('fk_outcome_recorded_by_id_staff_user')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_outcome_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome')),
    sa.UniqueConstraint('follow_up_id', name=op.f('uq_outcome_follow_up_id'))
    )
    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcome_patient_id'), ['patient_id'], unique=False)


def downgrade():
    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_patient_id'))
        batch_op.drop_index(batch_op.f('ix_outcome_appointment_id'))

    op.drop_table('outcome')
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_status_due')
        batch_op.drop_index('ix_follow_up_physician_status_due')
        batch_op.drop_index(batch_op.f('ix_follow_up_patient_id'))

    op.drop_table('follow_up')
