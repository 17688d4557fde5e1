"""the catalog's minimum interval in days or calendar months, the one home of the repeat-RFA interval

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 15:30:00

The fewest days between two procedures of a group becomes an amount with its unit: days where the
source says days (14 days between epidurals), calendar months where it says months (6 months
between RFAs). The repeat-RFA interval was stated twice, as 182 days in the catalog (which booking
checked) and as months in the clinical settings (which the candidate lists read); the catalog keeps
it, in the months the practice had set, and the clinical setting goes.
"""
import math

from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

DAYS_PER_MONTH = 365.25 / 12
procedure_type = sa.table('procedure_type', sa.column('frequency_group', sa.String),
                          sa.column('min_interval', sa.Integer), sa.column('min_interval_unit', sa.String))
settings = sa.table('clinical_settings', sa.column('rfa_repeat_months', sa.Integer))
ablations = procedure_type.c.frequency_group == 'ablation'


def upgrade():
    bind = op.get_bind()
    rfa_months = bind.execute(sa.select(settings.c.rfa_repeat_months)).scalar() or 6
    with op.batch_alter_table('procedure_type') as batch:
        batch.alter_column('min_days_between', new_column_name='min_interval', existing_type=sa.Integer(),
                           existing_nullable=True)
        batch.add_column(sa.Column('min_interval_unit', sa.String(length=6), nullable=False, server_default='days'))
    bind.execute(procedure_type.update().where(ablations, procedure_type.c.min_interval.is_not(None))
                 .values(min_interval=rfa_months, min_interval_unit='months'))
    with op.batch_alter_table('procedure_type') as batch:
        batch.alter_column('min_interval_unit', server_default=None, existing_type=sa.String(length=6))
    with op.batch_alter_table('clinical_settings') as batch:
        batch.drop_column('rfa_repeat_months')


def downgrade():
    bind = op.get_bind()
    rfa_months = bind.execute(sa.select(procedure_type.c.min_interval)
                              .where(ablations, procedure_type.c.min_interval_unit == 'months')).scalar() or 6
    with op.batch_alter_table('clinical_settings') as batch:
        batch.add_column(sa.Column('rfa_repeat_months', sa.Integer(), nullable=False,
                                   server_default=str(rfa_months)))
    with op.batch_alter_table('clinical_settings') as batch:
        batch.alter_column('rfa_repeat_months', server_default=None, existing_type=sa.Integer())
    for months in {row[0] for row in bind.execute(sa.select(procedure_type.c.min_interval)
                                                  .where(procedure_type.c.min_interval_unit == 'months'))}:
        bind.execute(procedure_type.update()
                     .where(procedure_type.c.min_interval_unit == 'months', procedure_type.c.min_interval == months)
                     .values(min_interval=math.floor(months * DAYS_PER_MONTH)))
    with op.batch_alter_table('procedure_type') as batch:
        batch.drop_column('min_interval_unit')
        batch.alter_column('min_interval', new_column_name='min_days_between', existing_type=sa.Integer(),
                           existing_nullable=True)
