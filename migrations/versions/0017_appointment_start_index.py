"""an index on when appointments start

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 17:14:08

Next available reads the bookings of every room and physician it searches in one statement, in
start order, and stops reading once its slots are found: the index on the start alone gives the
rows in that order without sorting the whole window first.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_appointment_start', 'appointment', ['starts_at'], unique=False)


def downgrade():
    op.drop_index('ix_appointment_start', table_name='appointment')
