"""audit events say what they are about in two parts: a subject for every reader, details for clinical readers

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 09:00:00

Until now an event's free-text `summary` mixed what anyone reading the trail may see ("Room 2")
with clinical values and patient identity ("pump refill 2026-11-24: 40 mL Morphine", "MRN ...").
New events write `subject` (no clinical value, no patient identity) and `details` (clinical
values and patient identity, as JSON keyed by field). Rows already written keep their summary,
which is now shown only to clinical roles: the trail is append-only (triggers refuse UPDATE), so
they are not rewritten. Plain ADD COLUMN, not a batch copy, so SQLite keeps the table's triggers.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audit_event', sa.Column('subject', sa.String(length=200), server_default='', nullable=False))
    op.add_column('audit_event', sa.Column('details', sa.JSON(), nullable=True))


def downgrade():
    op.drop_column('audit_event', 'details')
    op.drop_column('audit_event', 'subject')
