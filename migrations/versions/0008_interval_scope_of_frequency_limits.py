"""interval scope of frequency limits

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 06:10:00

The fewest days between two procedures of a group is compared with any earlier one (epidural
steroid injections: 14 days, whatever the region), one in the same region, or one in the same
region and side (repeat radiofrequency ablation). Existing catalogs get the defaults of
domain-rules.md.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('procedure_type', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interval_scope', sa.String(length=12), nullable=False,
                                      server_default='region'))
    op.execute("UPDATE procedure_type SET interval_scope = 'patient' WHERE frequency_group = 'epidural'")
    op.execute("UPDATE procedure_type SET interval_scope = 'region_side', min_days_between = 182 "
               "WHERE frequency_group = 'ablation' AND min_days_between IS NULL")
    with op.batch_alter_table('procedure_type', schema=None) as batch_op:
        batch_op.alter_column('interval_scope', server_default=None)


def downgrade():
    with op.batch_alter_table('procedure_type', schema=None) as batch_op:
        batch_op.drop_column('interval_scope')
