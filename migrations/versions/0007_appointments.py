"""appointments, kept free of double bookings by the database

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:02:51

On PostgreSQL three exclusion constraints (btree_gist) refuse two active appointments that
overlap in a room (including its turnover, up to blocked_until), for a physician or for a
patient. Intervals are half-open, so back-to-back appointments stand. SQLite has no such
constraint; there, every write runs in a BEGIN IMMEDIATE transaction, which serialises the
check in the application with the insert.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('scheduled', 'confirmed', 'checked_in', 'in_room', 'completed')"
EXCLUSIONS = {
    'ex_appointment_room': "room_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&",
    'ex_appointment_physician': "physician_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&",
    'ex_appointment_patient': "patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&",
}


def upgrade():
    op.create_table('appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('procedure_type_id', sa.Integer(), nullable=False),
    sa.Column('physician_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=True),
    sa.Column('side', sa.String(length=10), nullable=True),
    sa.Column('levels_count', sa.Integer(), nullable=True),
    sa.Column('levels', sa.String(length=60), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancel_reason', sa.String(length=30), nullable=True),
    sa.Column('cancel_note', sa.String(length=200), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('override_reason', sa.String(length=300), nullable=True),
    sa.Column('prior_auth_ref', sa.String(length=40), nullable=True),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('scheduled', 'confirmed', 'checked_in', 'in_room', 'completed', 'cancelled', 'no_show', 'rescheduled')", name=op.f('ck_appointment_known_status')),
    sa.CheckConstraint('starts_at < ends_at AND ends_at <= blocked_until', name=op.f('ck_appointment_times_in_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_appointment_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_appointment_office_id_office')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_appointment_patient_id_patient')),
    sa.ForeignKeyConstraint(['physician_id'], ['physician.id'], name=op.f('fk_appointment_physician_id_physician')),
    sa.ForeignKeyConstraint(['procedure_type_id'], ['procedure_type.id'], name=op.f('fk_appointment_procedure_type_id_procedure_type')),
    sa.ForeignKeyConstraint(['replaces_id'], ['appointment.id'], name=op.f('fk_appointment_replaces_id_appointment')),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_appointment_room_id_room')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_appointment_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment')),
    sa.UniqueConstraint('replaces_id', name=op.f('uq_appointment_replaces_id'))
    )
    for name, columns in (('office', ['office_id', 'starts_at']), ('patient', ['patient_id', 'starts_at']),
                          ('physician', ['physician_id', 'starts_at']), ('room', ['room_id', 'starts_at'])):
        op.create_index(f'ix_appointment_{name}_start', 'appointment', columns, unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
        for name, columns in EXCLUSIONS.items():
            op.execute(f"ALTER TABLE appointment ADD CONSTRAINT {name} EXCLUDE USING gist ({columns}) "
                       f"WHERE ({ACTIVE})")


def downgrade():
    op.drop_table('appointment')
