"""baseline pain at check-in

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 06:20:00

The pain score (0-10) taken when the patient checks in, the baseline of the procedure's outcome.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('baseline_nrs', sa.Integer(), nullable=True))
        batch_op.create_check_constraint('baseline_nrs_range', 'baseline_nrs BETWEEN 0 AND 10')


def downgrade():
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_appointment_baseline_nrs_range'), type_='check')
        batch_op.drop_column('baseline_nrs')
