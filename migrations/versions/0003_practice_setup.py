"""practice setup: offices, hours, closed days, rooms, physicians, schedules, leave

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:00:02

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _stamps():
    return [
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
    ]


def upgrade():
    op.create_table('office',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=120), nullable=False),
    sa.Column('city', sa.String(length=60), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    *_stamps(),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_office_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office')),
    sa.UniqueConstraint('name', name=op.f('uq_office_name')),
    sa.UniqueConstraint('slug', name=op.f('uq_office_slug'))
    )
    op.create_table('office_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('opens', sa.Time(), nullable=False),
    sa.Column('closes', sa.Time(), nullable=False),
    sa.CheckConstraint('opens < closes', name=op.f('ck_office_hours_opens_before_closes')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_office_hours_weekday_range')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_office_hours_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_hours')),
    sa.UniqueConstraint('office_id', 'weekday', name=op.f('uq_office_hours_office_id_weekday'))
    )
    op.create_index(op.f('ix_office_hours_office_id'), 'office_hours', ['office_id'], unique=False)
    op.create_table('office_closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_office_closure_office_id_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_closure')),
    sa.UniqueConstraint('office_id', 'day', name=op.f('uq_office_closure_office_id_day'))
    )
    op.create_index(op.f('ix_office_closure_office_id'), 'office_closure', ['office_id'], unique=False)
    op.create_table('room',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('fluoroscopy', sa.Boolean(), nullable=False),
    sa.Column('sterile_implant', sa.Boolean(), nullable=False),
    sa.Column('sedation', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    *_stamps(),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_room_office_id_office')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_room_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room')),
    sa.UniqueConstraint('office_id', 'name', name=op.f('uq_room_office_id_name'))
    )
    op.create_index(op.f('ix_room_office_id'), 'room', ['office_id'], unique=False)
    op.create_table('physician',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=60), nullable=False),
    sa.Column('last_name', sa.String(length=60), nullable=False),
    sa.Column('credentials', sa.String(length=20), nullable=False),
    sa.Column('npi', sa.String(length=10), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    *_stamps(),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_physician_updated_by_id_staff_user')),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_physician_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physician')),
    sa.UniqueConstraint('npi', name=op.f('uq_physician_npi')),
    sa.UniqueConstraint('user_id', name=op.f('uq_physician_user_id'))
    )
    op.create_table('physician_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('physician_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts', sa.Time(), nullable=False),
    sa.Column('ends', sa.Time(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('effective_until', sa.Date(), nullable=True),
    sa.CheckConstraint('starts < ends', name=op.f('ck_physician_schedule_starts_before_ends')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_physician_schedule_weekday_range')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_physician_schedule_office_id_office')),
    sa.ForeignKeyConstraint(['physician_id'], ['physician.id'], name=op.f('fk_physician_schedule_physician_id_physician')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physician_schedule'))
    )
    op.create_index(op.f('ix_physician_schedule_office_id'), 'physician_schedule', ['office_id'], unique=False)
    op.create_index(op.f('ix_physician_schedule_physician_id'), 'physician_schedule', ['physician_id'], unique=False)
    op.create_table('physician_leave',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('physician_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=120), nullable=False),
    sa.CheckConstraint('first_day <= last_day', name=op.f('ck_physician_leave_first_day_not_after_last')),
    sa.ForeignKeyConstraint(['physician_id'], ['physician.id'], name=op.f('fk_physician_leave_physician_id_physician')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physician_leave'))
    )
    op.create_index(op.f('ix_physician_leave_physician_id'), 'physician_leave', ['physician_id'], unique=False)


def downgrade():
    op.drop_table('physician_leave')
    op.drop_table('physician_schedule')
    op.drop_table('physician')
    op.drop_table('room')
    op.drop_table('office_closure')
    op.drop_table('office_hours')
    op.drop_table('office')
