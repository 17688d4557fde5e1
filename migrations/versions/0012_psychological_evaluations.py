"""psychological evaluations

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 06:20:00

A documented psychological evaluation comes before spinal cord stimulation (NCD 160.7).
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('psych_evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('evaluated_on', sa.Date(), nullable=False),
    sa.Column('cleared', sa.Boolean(), nullable=False),
    sa.Column('evaluator', sa.String(length=120), nullable=False),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_psych_evaluation_patient_id_patient')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff_user.id'], name=op.f('fk_psych_evaluation_recorded_by_id_staff_user')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_psych_evaluation_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psych_evaluation'))
    )
    with op.batch_alter_table('psych_evaluation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psych_evaluation_patient_id'), ['patient_id'], unique=False)


def downgrade():
    with op.batch_alter_table('psych_evaluation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psych_evaluation_patient_id'))

    op.drop_table('psych_evaluation')
