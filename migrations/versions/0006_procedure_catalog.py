"""procedure catalog

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 05:02:50

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('procedure_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('cpt_codes', sa.String(length=120), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('turnover_minutes', sa.Integer(), nullable=False),
    sa.Column('needs_fluoroscopy', sa.Boolean(), nullable=False),
    sa.Column('needs_sterile_implant', sa.Boolean(), nullable=False),
    sa.Column('needs_sedation', sa.Boolean(), nullable=False),
    sa.Column('asks_region', sa.Boolean(), nullable=False),
    sa.Column('asks_side', sa.Boolean(), nullable=False),
    sa.Column('asks_levels', sa.Boolean(), nullable=False),
    sa.Column('max_levels', sa.Integer(), nullable=False),
    sa.Column('prior_authorization', sa.Boolean(), nullable=False),
    sa.Column('frequency_group', sa.String(length=30), nullable=True),
    sa.Column('max_per_year', sa.Integer(), nullable=True),
    sa.Column('min_days_between', sa.Integer(), nullable=True),
    sa.Column('follow_ups', sa.String(length=60), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('duration_minutes > 0 AND duration_minutes % 5 = 0', name=op.f('ck_procedure_type_duration_in_5_minutes')),
    sa.CheckConstraint('max_levels BETWEEN 1 AND 3', name=op.f('ck_procedure_type_max_levels_range')),
    sa.CheckConstraint('turnover_minutes >= 0 AND turnover_minutes % 5 = 0', name=op.f('ck_procedure_type_turnover_in_5_minutes')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_procedure_type_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure_type')),
    sa.UniqueConstraint('code', name=op.f('uq_procedure_type_code')),
    sa.UniqueConstraint('name', name=op.f('uq_procedure_type_name'))
    )


def downgrade():
    op.drop_table('procedure_type')
