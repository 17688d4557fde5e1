"""procedures done elsewhere

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 15:10:57

Procedures done at another practice, or here before the practice used the app, recorded with
their day, region, side, levels, by whom and where, and their relief when known: the frequency
limits and the candidacy rules count them like completed appointments.
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outside_procedure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('procedure_type_id', sa.Integer(), nullable=False),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=True),
    sa.Column('side', sa.String(length=10), nullable=True),
    sa.Column('levels_count', sa.Integer(), nullable=True),
    sa.Column('levels', sa.String(length=60), nullable=True),
    sa.Column('facility', sa.String(length=120), nullable=False),
    sa.Column('performed_by', sa.String(length=120), nullable=True),
    sa.Column('percent_relief', sa.Integer(), nullable=True),
    sa.Column('relief_amount', sa.Integer(), nullable=True),
    sa.Column('relief_unit', sa.String(length=10), nullable=True),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('levels_count BETWEEN 1 AND 3', name=op.f('ck_outside_procedure_levels_count_range')),
    sa.CheckConstraint('percent_relief BETWEEN 0 AND 100', name=op.f('ck_outside_procedure_percent_relief_range')),
    sa.CheckConstraint('relief_amount > 0', name=op.f('ck_outside_procedure_relief_amount_positive')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_outside_procedure_patient_id_patient')),
    sa.ForeignKeyConstraint(['procedure_type_id'], ['procedure_type.id'], name=op.f('fk_outside_procedure_procedure_type_id_procedure_type')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff_user.id'], name=op.f('fk_outside_procedure_recorded_by_id_staff_user')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_outside_procedure_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outside_procedure'))
    )
    with op.batch_alter_table('outside_procedure', schema=None) as batch_op:
        batch_op.create_index('ix_outside_procedure_patient_day', ['patient_id', 'performed_on'], unique=False)


def downgrade():
    with op.batch_alter_table('outside_procedure', schema=None) as batch_op:
        batch_op.drop_index('ix_outside_procedure_patient_day')

    op.drop_table('outside_procedure')
