"""device registry

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 07:03:33

The implanted device registry: the catalog of device models (a scanned GTIN fills the model),
devices in patients with their status history, SCS trials, and the pump refill log. Indexes
serve the refill list (status, next refill), recall search (lot, serial, GTIN) and the open
trials.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('device_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manufacturer', sa.String(length=80), nullable=False),
    sa.Column('model', sa.String(length=80), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('mri_conditional', sa.Boolean(), nullable=False),
    sa.Column('rechargeable', sa.Boolean(), nullable=False),
    sa.Column('reservoir_ml', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_device_model_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_model')),
    sa.UniqueConstraint('gtin', name=op.f('uq_device_model_gtin'))
    )
    op.create_table('scs_trial',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('physician_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('planned_end_on', sa.Date(), nullable=False),
    sa.Column('pain_reduction_percent', sa.Integer(), nullable=True),
    sa.Column('analgesic_reduction_percent', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('implant_appointment_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('analgesic_reduction_percent BETWEEN 0 AND 100', name=op.f('ck_scs_trial_analgesic_reduction_range')),
    sa.CheckConstraint('pain_reduction_percent BETWEEN 0 AND 100', name=op.f('ck_scs_trial_pain_reduction_range')),
    sa.CheckConstraint('planned_end_on >= started_on', name=op.f('ck_scs_trial_ends_after_start')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_scs_trial_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['implant_appointment_id'], ['appointment.id'], name=op.f('fk_scs_trial_implant_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_scs_trial_office_id_office')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_scs_trial_patient_id_patient')),
    sa.ForeignKeyConstraint(['physician_id'], ['physician.id'], name=op.f('fk_scs_trial_physician_id_physician')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_scs_trial_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scs_trial'))
    )
    with op.batch_alter_table('scs_trial', schema=None) as batch_op:
        batch_op.create_index('ix_scs_trial_open', ['decision', 'planned_end_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_scs_trial_patient_id'), ['patient_id'], unique=False)

    op.create_table('device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('device_model_id', sa.Integer(), nullable=True),
    sa.Column('manufacturer', sa.String(length=80), nullable=False),
    sa.Column('model', sa.String(length=80), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('lot', sa.String(length=20), nullable=True),
    sa.Column('serial', sa.String(length=20), nullable=True),
    sa.Column('expiry', sa.Date(), nullable=True),
    sa.Column('manufactured', sa.Date(), nullable=True),
    sa.Column('implanted_on', sa.Date(), nullable=False),
    sa.Column('physician_id', sa.Integer(), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('trial_id', sa.Integer(), nullable=True),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('site', sa.String(length=80), nullable=True),
    sa.Column('mri_conditional', sa.Boolean(), nullable=False),
    sa.Column('rechargeable', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('explanted_on', sa.Date(), nullable=True),
    sa.Column('explant_reason', sa.String(length=200), nullable=True),
    sa.Column('successor_id', sa.Integer(), nullable=True),
    sa.Column('eri_on', sa.Date(), nullable=True),
    sa.Column('replacement_due_on', sa.Date(), nullable=True),
    sa.Column('reservoir_ml', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('drug', sa.String(length=60), nullable=True),
    sa.Column('concentration_mg_ml', sa.Numeric(precision=9, scale=3), nullable=True),
    sa.Column('daily_dose_mg', sa.Numeric(precision=9, scale=3), nullable=True),
    sa.Column('next_refill_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('explanted_on IS NULL OR explanted_on >= implanted_on', name=op.f('ck_device_explant_after_implant')),
    sa.CheckConstraint('reservoir_ml IS NULL OR reservoir_ml > 0', name=op.f('ck_device_reservoir_positive')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_device_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['device_model_id'], ['device_model.id'], name=op.f('fk_device_device_model_id_device_model')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_device_office_id_office')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_device_patient_id_patient')),
    sa.ForeignKeyConstraint(['physician_id'], ['physician.id'], name=op.f('fk_device_physician_id_physician')),
    sa.ForeignKeyConstraint(['successor_id'], ['device.id'], name=op.f('fk_device_successor_id_device')),
    sa.ForeignKeyConstraint(['trial_id'], ['scs_trial.id'], name=op.f('fk_device_trial_id_scs_trial')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_device_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device'))
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index('ix_device_gtin', ['gtin'], unique=False)
        batch_op.create_index('ix_device_lot', ['lot'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_device_serial', ['serial'], unique=False)
        batch_op.create_index('ix_device_status_next_refill', ['status', 'next_refill_on'], unique=False)

    op.create_table('device_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=10), nullable=True),
    sa.Column('to_status', sa.String(length=10), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['staff_user.id'], name=op.f('fk_device_status_change_changed_by_id_staff_user')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_device_status_change_device_id_device')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_device_status_change_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_status_change'))
    )
    with op.batch_alter_table('device_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_status_change_device_id'), ['device_id'], unique=False)

    op.create_table('pump_refill',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('refilled_on', sa.Date(), nullable=False),
    sa.Column('drug', sa.String(length=60), nullable=False),
    sa.Column('concentration_mg_ml', sa.Numeric(precision=9, scale=3), nullable=False),
    sa.Column('daily_dose_mg', sa.Numeric(precision=9, scale=3), nullable=False),
    sa.Column('daily_ml', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('expected_residual_ml', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('withdrawn_ml', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('added_ml', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('alarm_ml', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('stability_days', sa.Integer(), nullable=False),
    sa.Column('margin_days', sa.Integer(), nullable=False),
    sa.Column('mismatch', sa.Boolean(), nullable=False),
    sa.Column('next_due_on', sa.Date(), nullable=False),
    sa.Column('alarm_note', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('added_ml > 0', name=op.f('ck_pump_refill_added_positive')),
    sa.CheckConstraint('daily_ml > 0', name=op.f('ck_pump_refill_daily_positive')),
    sa.CheckConstraint('withdrawn_ml >= 0', name=op.f('ck_pump_refill_withdrawn_not_negative')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_pump_refill_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_pump_refill_device_id_device')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_pump_refill_office_id_office')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_pump_refill_patient_id_patient')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff_user.id'], name=op.f('fk_pump_refill_recorded_by_id_staff_user')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_pump_refill_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pump_refill'))
    )
    with op.batch_alter_table('pump_refill', schema=None) as batch_op:
        batch_op.create_index('ix_pump_refill_device_day', ['device_id', 'refilled_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_pump_refill_patient_id'), ['patient_id'], unique=False)



def downgrade():
    with op.batch_alter_table('pump_refill', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pump_refill_patient_id'))
        batch_op.drop_index('ix_pump_refill_device_day')

    op.drop_table('pump_refill')
    with op.batch_alter_table('device_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_status_change_device_id'))

    op.drop_table('device_status_change')
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index('ix_device_status_next_refill')
        batch_op.drop_index('ix_device_serial')
        batch_op.drop_index(batch_op.f('ix_device_patient_id'))
        batch_op.drop_index('ix_device_lot')
        batch_op.drop_index('ix_device_gtin')

    op.drop_table('device')
    with op.batch_alter_table('scs_trial', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scs_trial_patient_id'))
        batch_op.drop_index('ix_scs_trial_open')

    op.drop_table('scs_trial')
    op.drop_table('device_model')
