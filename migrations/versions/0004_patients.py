"""patients, with search keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:00:03

The *_key columns hold normalised names and digits; on PostgreSQL they use the "C" collation so
that they order byte by byte, as on SQLite, and the prefix range scans the search uses
(key >= 'smi' AND key < 'smj') match exactly the keys that start with the prefix.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _key(length):
    return sa.String(length=length).with_variant(sa.String(length=length, collation='C'), 'postgresql')


def upgrade():
    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mrn', _key(12), nullable=False),
    sa.Column('first_name', sa.String(length=60), nullable=False),
    sa.Column('last_name', sa.String(length=60), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('address', sa.String(length=120), nullable=True),
    sa.Column('city', sa.String(length=60), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('postal_code', sa.String(length=10), nullable=True),
    sa.Column('preferred_office_id', sa.Integer(), nullable=True),
    sa.Column('payer', sa.String(length=80), nullable=True),
    sa.Column('member_id', sa.String(length=40), nullable=True),
    sa.Column('last_name_key', _key(60), nullable=False),
    sa.Column('first_name_key', _key(60), nullable=False),
    sa.Column('phone_digits', _key(15), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['preferred_office_id'], ['office.id'], name=op.f('fk_patient_preferred_office_id_office')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_patient_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient')),
    sa.UniqueConstraint('mrn', name=op.f('uq_patient_mrn'))
    )
    op.create_index('ix_patient_dob', 'patient', ['date_of_birth'], unique=False)
    op.create_index('ix_patient_first_name', 'patient', ['first_name_key'], unique=False)
    op.create_index('ix_patient_name', 'patient', ['last_name_key', 'first_name_key'], unique=False)
    op.create_index('ix_patient_phone', 'patient', ['phone_digits'], unique=False)


def downgrade():
    op.drop_table('patient')
