"""clinical settings stated in months count calendar months

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 14:05:00

The repeat-RFA interval and the relief a repeat needs were stored in days (182 for "6 months"),
which lands one to three days before the date a payer counting months uses. The four settings
the sources state in months become whole calendar months: a practice's own value is converted to
the nearest month (182 days -> 6, 60 -> 2, 91 -> 3), and back to the days at the start of that
month's span (6 -> 182, 2 -> 60, 3 -> 91), so the defaults survive the round trip.
"""
import math

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# (column in days, column in months)
RENAMED = (
    ('rfa_repeat_days', 'rfa_repeat_months'),
    ('rfa_repeat_relief_days', 'rfa_repeat_relief_months'),
    ('epidural_repeat_relief_days', 'epidural_repeat_relief_months'),
    ('facet_repeat_relief_days', 'facet_repeat_relief_months'),
)
DAYS_PER_MONTH = 365.25 / 12


def _convert(old_names, new_names, convert):
    settings = sa.table('clinical_settings', sa.column('id', sa.Integer),
                        *(sa.column(name, sa.Integer) for name in old_names))
    bind = op.get_bind()
    rows = bind.execute(sa.select(settings)).mappings().all()
    with op.batch_alter_table('clinical_settings') as batch:
        for old, new in zip(old_names, new_names):
            batch.alter_column(old, new_column_name=new, existing_type=sa.Integer(), existing_nullable=False)
    renamed = sa.table('clinical_settings', sa.column('id', sa.Integer),
                       *(sa.column(name, sa.Integer) for name in new_names))
    for row in rows:
        bind.execute(renamed.update().where(renamed.c.id == row['id']).values(
            {new: convert(row[old]) for old, new in zip(old_names, new_names)}))


def upgrade():
    _convert([old for old, _ in RENAMED], [new for _, new in RENAMED],
             lambda days: max(1, round(days / DAYS_PER_MONTH)))


def downgrade():
    _convert([new for _, new in RENAMED], [old for old, _ in RENAMED],
             lambda months: math.floor(months * DAYS_PER_MONTH))
