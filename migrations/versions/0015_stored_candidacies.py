"""stored candidacies

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 11:28:44

Each patient's listable candidacies, kept with the first day they may change, so that the
candidates list reads them instead of working out two years of every patient's history on each
visit. Patients with appointments start stale: the first visit to the list works them out.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('candidacy_check',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=True),
    sa.Column('holds_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_candidacy_check_patient_id_patient')),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_candidacy_check'))
    )
    with op.batch_alter_table('candidacy_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_candidacy_check_assessed_on'), ['assessed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_candidacy_check_holds_until'), ['holds_until'], unique=False)

    op.create_table('stored_candidacy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=16), nullable=True),
    sa.Column('side', sa.String(length=16), nullable=True),
    sa.Column('eligibility', sa.String(length=16), nullable=False),
    sa.Column('eligible_from', sa.Date(), nullable=True),
    sa.Column('rule', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('anchor_appointment_id', sa.Integer(), nullable=False),
    sa.Column('anchor_day', sa.Date(), nullable=False),
    sa.Column('anchor_procedure_type_id', sa.Integer(), nullable=False),
    sa.Column('anchor_side', sa.String(length=16), nullable=True),
    sa.Column('anchor_levels', sa.String(length=60), nullable=True),
    sa.Column('anchor_levels_count', sa.Integer(), nullable=True),
    sa.Column('physician_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['anchor_appointment_id'], ['appointment.id'], name=op.f('fk_stored_candidacy_anchor_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['anchor_procedure_type_id'], ['procedure_type.id'], name=op.f('fk_stored_candidacy_anchor_procedure_type_id_procedure_type')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_stored_candidacy_office_id_office')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_stored_candidacy_patient_id_patient')),
    sa.ForeignKeyConstraint(['physician_id'], ['physician.id'], name=op.f('fk_stored_candidacy_physician_id_physician')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_candidacy'))
    )
    with op.batch_alter_table('stored_candidacy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_candidacy_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_stored_candidacy_section_order', ['section', 'eligible_from', 'anchor_day'], unique=False)

    op.execute("INSERT INTO candidacy_check (patient_id) SELECT DISTINCT patient_id FROM appointment")


def downgrade():
    with op.batch_alter_table('stored_candidacy', schema=None) as batch_op:
        batch_op.drop_index('ix_stored_candidacy_section_order')
        batch_op.drop_index(batch_op.f('ix_stored_candidacy_patient_id'))

    op.drop_table('stored_candidacy')
    with op.batch_alter_table('candidacy_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidacy_check_holds_until'))
        batch_op.drop_index(batch_op.f('ix_candidacy_check_assessed_on'))

    op.drop_table('candidacy_check')
