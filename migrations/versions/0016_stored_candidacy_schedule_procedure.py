"""stored candidacies keep the procedure to schedule

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 14:05:58

The procedure a candidacy's Schedule button books is worked out with the candidacy (the catalog
changes that could change it already mark everyone stale), so the list no longer reads the
catalog; the anchor's own procedure was kept only to work it out there. Stored candidacies are
derived data: both directions drop them and mark every patient stale, and the next visit to the
list works everyone out again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _forget_stored_candidacies():
    op.execute("DELETE FROM stored_candidacy")
    op.execute("UPDATE candidacy_check SET holds_until = NULL")


def upgrade():
    _forget_stored_candidacies()
    with op.batch_alter_table('stored_candidacy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_procedure_type_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_stored_candidacy_anchor_procedure_type_id_procedure_type'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_stored_candidacy_schedule_procedure_type_id_procedure_type'), 'procedure_type', ['schedule_procedure_type_id'], ['id'])
        batch_op.drop_column('anchor_procedure_type_id')


def downgrade():
    _forget_stored_candidacies()
    with op.batch_alter_table('stored_candidacy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anchor_procedure_type_id', sa.INTEGER(), nullable=False))
        batch_op.drop_constraint(batch_op.f('fk_stored_candidacy_schedule_procedure_type_id_procedure_type'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_stored_candidacy_anchor_procedure_type_id_procedure_type'), 'procedure_type', ['anchor_procedure_type_id'], ['id'])
        batch_op.drop_column('schedule_procedure_type_id')
