"""the SCS trial keeps its result: one home for what the candidacy and the devices page read

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 15:14:54

A trial's result was entered in two places that disagreed: the trial page (which nothing read)
and the trial procedure's follow-up outcome (which the candidacy read). The trial now keeps it,
with the day it ended and where it was last entered (`ended_on`, `result_source`); the follow-up
writes it there. Existing data moves in:

- a trial with a result entered on its page gets the day it ended: the decision's day, else its
  planned end, never after the day the result was saved nor before the start;
- each completed trial procedure of the last two years gets its trial on record, if it has none
  (the patient's trial started that day with no procedure linked is linked to it, else one is
  started that day, planned for 7 days);
- the latest outcome of a trial procedure's follow-ups becomes its trial's result, where the
  trial has none, and "no further intervention" its decision not to proceed, where it has none
  (its leads on record keep their status);
- a trial procedure is one trial (a unique index), and a stored candidacy may rest on a trial with
  no procedure done here (its anchor appointment may be empty).

Every candidacy is worked out again on the next visit to the candidates list. The downgrade
drops the columns and the candidacies resting on no appointment; the follow-ups still hold the
results they recorded, and the trials put on record stay.
"""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

HISTORY_DAYS = 730
TRIAL_DAYS = 7

trial = sa.table(
    'scs_trial', sa.column('id', sa.Integer), sa.column('patient_id', sa.Integer),
    sa.column('physician_id', sa.Integer), sa.column('office_id', sa.Integer),
    sa.column('appointment_id', sa.Integer), sa.column('started_on', sa.Date),
    sa.column('planned_end_on', sa.Date), sa.column('pain_reduction_percent', sa.Integer),
    sa.column('analgesic_reduction_percent', sa.Integer), sa.column('ended_on', sa.Date),
    sa.column('result_source', sa.String), sa.column('decision', sa.String), sa.column('decided_on', sa.Date),
    sa.column('version', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('updated_at', sa.DateTime(timezone=True)))
appointment = sa.table(
    'appointment', sa.column('id', sa.Integer), sa.column('patient_id', sa.Integer),
    sa.column('physician_id', sa.Integer), sa.column('office_id', sa.Integer),
    sa.column('procedure_type_id', sa.Integer), sa.column('starts_at', sa.DateTime(timezone=True)),
    sa.column('status', sa.String))
procedure_type = sa.table('procedure_type', sa.column('id', sa.Integer), sa.column('kind', sa.String))
office = sa.table('office', sa.column('id', sa.Integer), sa.column('timezone', sa.String))
outcome = sa.table('outcome', sa.column('id', sa.Integer), sa.column('appointment_id', sa.Integer),
                   sa.column('recorded_on', sa.Date), sa.column('percent_relief', sa.Integer),
                   sa.column('decision', sa.String))


def _aware(moment):
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _stamp(bind, moment):
    """As UTCDateTime writes it: naive UTC text on SQLite."""
    return moment.replace(tzinfo=None) if bind.dialect.name == 'sqlite' else moment


def _date_the_page_results(bind):
    """A result entered on the trial page ended the trial: on the decision's day, else the planned end."""
    rows = bind.execute(sa.select(trial).where(
        trial.c.ended_on.is_(None),
        sa.or_(trial.c.pain_reduction_percent.is_not(None), trial.c.analgesic_reduction_percent.is_not(None))))
    for row in rows.mappings().all():
        saved_on = _aware(row['updated_at']).date()
        ended = row['decided_on'] or min(row['planned_end_on'], saved_on)
        bind.execute(trial.update().where(trial.c.id == row['id']).values(
            ended_on=max(ended, row['started_on']), result_source='trial_page'))


def _trial_procedures(bind, since):
    query = (sa.select(appointment.c.id, appointment.c.patient_id, appointment.c.physician_id,
                       appointment.c.office_id, appointment.c.starts_at, office.c.timezone)
             .join(procedure_type, appointment.c.procedure_type_id == procedure_type.c.id)
             .join(office, appointment.c.office_id == office.c.id)
             .where(procedure_type.c.kind == 'scs_trial', appointment.c.status == 'completed',
                    appointment.c.starts_at >= _stamp(bind, since))
             .order_by(appointment.c.starts_at, appointment.c.id))
    return bind.execute(query).mappings().all()


def _trial_of(bind, procedure, day, now):
    """The trial of a completed trial procedure: linked, or the patient's unlinked one started that day, or new."""
    linked = bind.execute(sa.select(trial.c.id).where(trial.c.appointment_id == procedure['id'])).scalar()
    if linked is not None:
        return linked
    same_day = bind.execute(sa.select(trial.c.id).where(
        trial.c.patient_id == procedure['patient_id'], trial.c.appointment_id.is_(None),
        trial.c.decision.is_(None), trial.c.started_on == day).order_by(trial.c.id.desc())).scalar()
    if same_day is not None:
        bind.execute(trial.update().where(trial.c.id == same_day).values(appointment_id=procedure['id']))
        return same_day
    return bind.execute(trial.insert().values(
        patient_id=procedure['patient_id'], physician_id=procedure['physician_id'],
        office_id=procedure['office_id'], appointment_id=procedure['id'], started_on=day,
        planned_end_on=day + timedelta(days=TRIAL_DAYS), version=1, created_at=_stamp(bind, now),
        updated_at=_stamp(bind, now)).returning(trial.c.id)).scalar_one()


def _move_follow_up_results(bind, trial_id, appointment_id):
    latest = bind.execute(sa.select(outcome).where(outcome.c.appointment_id == appointment_id)
                          .order_by(outcome.c.recorded_on.desc(), outcome.c.id.desc()).limit(1)).mappings().first()
    current = bind.execute(sa.select(trial).where(trial.c.id == trial_id)).mappings().one()
    if latest is None:
        return
    values = {}
    ended = current['ended_on'] or max(latest['recorded_on'], current['started_on'])
    if current['ended_on'] is None:
        values.update(pain_reduction_percent=latest['percent_relief'], ended_on=ended, result_source='follow_up')
    if latest['decision'] == 'no_further' and current['decision'] is None:
        values.update(decision='failed', decided_on=ended)
    if values:
        bind.execute(trial.update().where(trial.c.id == trial_id).values(**values))


def upgrade():
    with op.batch_alter_table('scs_trial', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('result_source', sa.String(length=12), nullable=True))
        batch_op.create_check_constraint('ended_after_start', 'ended_on IS NULL OR ended_on >= started_on')
        batch_op.create_index('ix_scs_trial_appointment', ['appointment_id'], unique=True)

    with op.batch_alter_table('stored_candidacy', schema=None) as batch_op:
        batch_op.alter_column('anchor_appointment_id', existing_type=sa.INTEGER(), nullable=True)

    bind = op.get_bind()
    now = datetime.now(UTC)
    _date_the_page_results(bind)
    for procedure in _trial_procedures(bind, now - timedelta(days=HISTORY_DAYS)):
        day = _aware(procedure['starts_at']).astimezone(ZoneInfo(procedure['timezone'])).date()
        _move_follow_up_results(bind, _trial_of(bind, procedure, day, now), procedure['id'])
    op.execute("UPDATE candidacy_check SET holds_until = NULL")


def downgrade():
    op.execute("DELETE FROM stored_candidacy WHERE anchor_appointment_id IS NULL")
    op.execute("UPDATE candidacy_check SET holds_until = NULL")
    with op.batch_alter_table('stored_candidacy', schema=None) as batch_op:
        batch_op.alter_column('anchor_appointment_id', existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table('scs_trial', schema=None) as batch_op:
        batch_op.drop_index('ix_scs_trial_appointment')
        batch_op.drop_constraint(op.f('ck_scs_trial_ended_after_start'), type_='check')
        batch_op.drop_column('result_source')
        batch_op.drop_column('ended_on')
