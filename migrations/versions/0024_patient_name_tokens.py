"""patient name tokens: search finds each word of a name

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 15:07:20

Search found names by the prefix of the whole name's key, so "nguyen" missed O'Brien-Nguyen and
"lopez" missed Garcia Lopez. Each word of a patient's given and family names (and the whole name)
becomes a row of `patient_name_token`, searched by an index range on the token as the names were
(the "C" collation on PostgreSQL, so both engines order the keys byte by byte). The table is
filled for the patients already registered; the first-name index goes, the tokens' index serves
what it served.
"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

CHUNK = 1000
# The tokenizer as backoffice.patients.rules has it at this revision, copied so that a later
# change to the app's does not change what this revision writes.
WORD_BREAKS = re.compile(r"[\s.\-\u2010-\u2015]+")


def _key(raw):
    decomposed = unicodedata.normalize("NFKD", raw.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def _tokens(name):
    keys = [_key(name)] + [_key(word) for word in WORD_BREAKS.split(name)]
    return dict.fromkeys(key[:60] for key in keys if key)


def _token_column():
    return sa.String(length=60).with_variant(sa.String(length=60, collation='C'), 'postgresql')


def _fill():
    patients = sa.table('patient', sa.column('id', sa.Integer), sa.column('first_name', sa.String),
                        sa.column('last_name', sa.String))
    tokens = sa.table('patient_name_token', sa.column('patient_id', sa.Integer), sa.column('part', sa.String),
                      sa.column('token', sa.String))
    bind = op.get_bind()
    rows = []
    for patient_id, first_name, last_name in bind.execute(sa.select(patients).order_by(patients.c.id)):
        rows += [{'patient_id': patient_id, 'part': 'given', 'token': token} for token in _tokens(first_name)]
        rows += [{'patient_id': patient_id, 'part': 'family', 'token': token} for token in _tokens(last_name)]
    for start in range(0, len(rows), CHUNK):
        bind.execute(tokens.insert(), rows[start:start + CHUNK])


def upgrade():
    op.create_table('patient_name_token',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.String(length=6), nullable=False),
    sa.Column('token', _token_column(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_patient_name_token_patient_id_patient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id', 'part', 'token', name=op.f('pk_patient_name_token'))
    )
    op.create_index('ix_patient_name_token', 'patient_name_token', ['token', 'part', 'patient_id'], unique=False)
    _fill()
    op.drop_index('ix_patient_first_name', table_name='patient')


def downgrade():
    op.create_index('ix_patient_first_name', 'patient', ['first_name_key'], unique=False)
    op.drop_index('ix_patient_name_token', table_name='patient_name_token')
    op.drop_table('patient_name_token')
