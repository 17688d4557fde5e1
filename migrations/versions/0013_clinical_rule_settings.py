"""clinical rule settings

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 06:20:00

The thresholds of the candidacy rules, one row, with the defaults of domain-rules.md (Medicare
LCDs L38773 and L39240, NCD 160.7).
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clinical_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mbb_relief_percent', sa.Integer(), nullable=False),
    sa.Column('mbb_relief_hours', sa.Integer(), nullable=False),
    sa.Column('blocks_for_rfa', sa.Integer(), nullable=False),
    sa.Column('rfa_repeat_days', sa.Integer(), nullable=False),
    sa.Column('rfa_repeat_relief_percent', sa.Integer(), nullable=False),
    sa.Column('rfa_repeat_relief_days', sa.Integer(), nullable=False),
    sa.Column('epidural_repeat_relief_percent', sa.Integer(), nullable=False),
    sa.Column('epidural_repeat_relief_days', sa.Integer(), nullable=False),
    sa.Column('facet_repeat_relief_percent', sa.Integer(), nullable=False),
    sa.Column('facet_repeat_relief_days', sa.Integer(), nullable=False),
    sa.Column('scs_trial_relief_percent', sa.Integer(), nullable=False),
    sa.Column('soon_days', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_clinical_settings_single_row')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_clinical_settings_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinical_settings'))
    )
    op.execute(
        "INSERT INTO clinical_settings (id, mbb_relief_percent, mbb_relief_hours, blocks_for_rfa, rfa_repeat_days, "
        "rfa_repeat_relief_percent, rfa_repeat_relief_days, epidural_repeat_relief_percent, "
        "epidural_repeat_relief_days, facet_repeat_relief_percent, facet_repeat_relief_days, "
        "scs_trial_relief_percent, soon_days, version, created_at, updated_at) "
        "VALUES (1, 80, 2, 2, 182, 50, 182, 50, 60, 50, 91, 50, 30, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")


def downgrade():
    op.drop_table('clinical_settings')
