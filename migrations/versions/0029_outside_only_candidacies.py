"""candidacies resting only on procedures done elsewhere are listed

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 16:23:17

A candidacy whose evidence cites only procedures done elsewhere (a referred patient with two
qualifying outside blocks) is stored for the candidates list like any other: it has no physician
yet, and its office is the patient's preferred one, or none when they have no preference. Every
candidacy is worked out again on the next visit to the candidates list, so those already on
record appear. The downgrade drops the stored candidacies with no physician or office.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stored_candidacy', schema=None) as batch_op:
        batch_op.alter_column('physician_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.alter_column('office_id', existing_type=sa.INTEGER(), nullable=True)
    op.execute("UPDATE candidacy_check SET holds_until = NULL")


def downgrade():
    op.execute("DELETE FROM stored_candidacy WHERE physician_id IS NULL OR office_id IS NULL")
    with op.batch_alter_table('stored_candidacy', schema=None) as batch_op:
        batch_op.alter_column('office_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.alter_column('physician_id', existing_type=sa.INTEGER(), nullable=False)
