"""payers and coverage: the patient's one payer text becomes a payer on a list and a primary coverage

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 16:26:51

A patient had one free-text payer and a member ID. Payers are now a list admins keep (`payer`,
its name unique whatever the case or spacing: `name_key`), and a patient holds coverage with them
(`coverage`): primary and secondary, each with plan, member ID, group number, subscriber and dates.

Existing data moves in. Each payer text patients carry becomes one payer, trimmed, inner runs of
spaces made one, and told apart regardless of case ("AETNA " and "Aetna" are one payer, named as
most patients had it); its kind is read from the name (Medicare, Medicare Advantage, Medicaid,
self-pay, workers' compensation), else "other" for the admins to set. A member ID without a payer
text gets the payer "Payer not recorded". Each such patient gets a primary coverage with that payer
and member ID, the patient the subscriber, in force from the day (UTC) the patient was registered,
with no end; plan and group empty. Then the two patient columns go.

The downgrade puts them back from each patient's primary coverage (the one in force today, else
the one that started last), and drops the tables: secondary coverage, plans, groups, subscribers
and dates are lost, and the payers no coverage names.
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

CHUNK = 1000
NOT_RECORDED = 'Payer not recorded'

patient = sa.table('patient', sa.column('id', sa.Integer), sa.column('payer', sa.String),
                   sa.column('member_id', sa.String), sa.column('created_at', sa.DateTime(timezone=True)))
payer = sa.table('payer', sa.column('id', sa.Integer), sa.column('name', sa.String), sa.column('name_key', sa.String),
                 sa.column('kind', sa.String), sa.column('active', sa.Boolean), sa.column('version', sa.Integer),
                 sa.column('created_at', sa.DateTime(timezone=True)), sa.column('updated_at', sa.DateTime(timezone=True)))
coverage = sa.table('coverage', sa.column('id', sa.Integer), sa.column('patient_id', sa.Integer),
                    sa.column('rank', sa.String), sa.column('payer_id', sa.Integer), sa.column('member_id', sa.String),
                    sa.column('relationship_to_subscriber', sa.String), sa.column('effective_on', sa.Date),
                    sa.column('ends_on', sa.Date), sa.column('version', sa.Integer),
                    sa.column('created_at', sa.DateTime(timezone=True)),
                    sa.column('updated_at', sa.DateTime(timezone=True)))


# The folding and the kinds as backoffice.insurance.rules has them at this revision, copied so that
# a later change to the app's does not change what this revision writes.
def _tidy(name):
    return ' '.join(name.split())


def _key(name):
    return _tidy(name).casefold()


def _kind(key):
    words = key.replace('-', ' ').replace("'", '')
    if 'medicare' in words:
        return 'medicare_advantage' if 'advantage' in words else 'medicare'
    if 'medicaid' in words or 'medical assistance' in words:
        return 'medicaid'
    if 'self pay' in words or 'selfpay' in words:
        return 'self_pay'
    if 'workers' in words:
        return 'workers_compensation'
    return 'other'


def _registered_on(created_at):
    """The UTC day a patient was registered: PostgreSQL hands back an aware time in the session's
    zone, SQLite a naive UTC one."""
    if created_at is None:
        return datetime.now(UTC).date()
    return (created_at.astimezone(UTC) if created_at.tzinfo else created_at).date()


def _payer_names(patients):
    """Each folded payer text and the spelling most patients gave it (the first in order on a tie)."""
    spellings = {}
    for _, text, member_id, _ in patients:
        name = _tidy(text or '') or (NOT_RECORDED if (member_id or '').strip() else '')
        if name:
            counts = spellings.setdefault(_key(name), {})
            counts[name] = counts.get(name, 0) + 1
    return {key: sorted(counts, key=lambda name: (-counts[name], name))[0] for key, counts in spellings.items()}


def _chunks(rows):
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]


def _move_payers_into_coverage():
    bind = op.get_bind()
    now = datetime.now(UTC)
    patients = bind.execute(sa.select(patient.c.id, patient.c.payer, patient.c.member_id, patient.c.created_at)
                            .order_by(patient.c.id)).all()
    names = _payer_names(patients)
    for key, name in sorted(names.items()):
        bind.execute(payer.insert().values(name=name[:80], name_key=key[:80], kind=_kind(key), active=True,
                                           version=1, created_at=now, updated_at=now))
    payer_ids = dict(bind.execute(sa.select(payer.c.name_key, payer.c.id)).all())
    rows = []
    for patient_id, text, member_id, created_at in patients:
        member_id = (member_id or '').strip() or None
        name = _tidy(text or '') or (NOT_RECORDED if member_id else '')
        if name:
            rows.append({'patient_id': patient_id, 'rank': 'primary', 'payer_id': payer_ids[_key(name)[:80]],
                         'member_id': member_id, 'relationship_to_subscriber': 'self',
                         'effective_on': _registered_on(created_at), 'ends_on': None, 'version': 1,
                         'created_at': now, 'updated_at': now})
    for chunk in _chunks(rows):
        bind.execute(coverage.insert(), chunk)


def upgrade():
    op.create_table('payer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('name_key', sa.String(length=80).with_variant(sa.String(length=80, collation='C'), 'postgresql'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('prior_auth_phone', sa.String(length=30), nullable=True),
    sa.Column('prior_auth_fax', sa.String(length=30), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_payer_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payer')),
    sa.UniqueConstraint('name_key', name=op.f('uq_payer_name_key'))
    )
    op.create_table('coverage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.String(length=9), nullable=False),
    sa.Column('payer_id', sa.Integer(), nullable=False),
    sa.Column('plan_name', sa.String(length=80), nullable=True),
    sa.Column('member_id', sa.String(length=40), nullable=True),
    sa.Column('group_number', sa.String(length=40), nullable=True),
    sa.Column('relationship_to_subscriber', sa.String(length=6), nullable=False),
    sa.Column('subscriber_name', sa.String(length=80), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(relationship_to_subscriber = 'self') = (subscriber_name IS NULL)", name=op.f('ck_coverage_subscriber_unless_self')),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= effective_on', name=op.f('ck_coverage_ends_on_or_after_it_starts')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_coverage_patient_id_patient')),
    sa.ForeignKeyConstraint(['payer_id'], ['payer.id'], name=op.f('fk_coverage_payer_id_payer')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_coverage_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage'))
    )
    with op.batch_alter_table('coverage', schema=None) as batch_op:
        batch_op.create_index('ix_coverage_patient_rank', ['patient_id', 'rank', 'effective_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_coverage_payer_id'), ['payer_id'], unique=False)

    _move_payers_into_coverage()

    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_column('payer')
        batch_op.drop_column('member_id')


def _primary_payers():
    """Each patient's payer name and member ID from their primary coverage: the one in force
    today, else the one that started last."""
    today = datetime.now(UTC).date()
    rows = op.get_bind().execute(
        sa.select(coverage.c.patient_id, payer.c.name, coverage.c.member_id, coverage.c.effective_on,
                  coverage.c.ends_on)
        .select_from(coverage.join(payer, payer.c.id == coverage.c.payer_id))
        .where(coverage.c.rank == 'primary')
        .order_by(coverage.c.patient_id, coverage.c.effective_on, coverage.c.id)).all()
    chosen = {}
    for patient_id, name, member_id, effective_on, ends_on in rows:
        in_force = effective_on <= today and (ends_on is None or today <= ends_on)
        held = chosen.get(patient_id)
        if held is None or in_force or not held[2]:
            chosen[patient_id] = (name, member_id, in_force)
    return [{'b_id': patient_id, 'b_payer': name, 'b_member_id': member_id}
            for patient_id, (name, member_id, _) in chosen.items()]


def downgrade():
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_id', sa.VARCHAR(length=40), nullable=True))
        batch_op.add_column(sa.Column('payer', sa.VARCHAR(length=80), nullable=True))

    values = _primary_payers()
    if values:
        statement = (patient.update().where(patient.c.id == sa.bindparam('b_id'))
                     .values(payer=sa.bindparam('b_payer'), member_id=sa.bindparam('b_member_id')))
        for chunk in _chunks(values):
            op.get_bind().execute(statement, chunk)

    with op.batch_alter_table('coverage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coverage_payer_id'))
        batch_op.drop_index('ix_coverage_patient_rank')

    op.drop_table('coverage')
    op.drop_table('payer')
