"""clinical kind of procedures

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 06:20:00

What the candidacy rules take each procedure for (a diagnostic medial branch block, a
therapeutic facet injection, an epidural, an ablation, an SCS trial or implant). Existing
catalogs get it from the frequency group and the SCS codes the demo catalog uses.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('procedure_type', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='none'))
    for group, kind in (('epidural', 'epidural'), ('facet_diagnostic', 'diagnostic_facet'),
                        ('facet_therapeutic', 'therapeutic_facet'), ('ablation', 'ablation')):
        op.execute(sa.text("UPDATE procedure_type SET kind = :kind WHERE frequency_group = :group")
                   .bindparams(kind=kind, group=group))
    for code, kind in (('SCS-TRIAL', 'scs_trial'), ('SCS-IMPLANT', 'scs_implant')):
        op.execute(sa.text("UPDATE procedure_type SET kind = :kind WHERE code = :code")
                   .bindparams(kind=kind, code=code))
    with op.batch_alter_table('procedure_type', schema=None) as batch_op:
        batch_op.alter_column('kind', server_default=None)


def downgrade():
    with op.batch_alter_table('procedure_type', schema=None) as batch_op:
        batch_op.drop_column('kind')
