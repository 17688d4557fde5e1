from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from backoffice.core.extensions import db
from tests.conftest import make_app


def _drift(app) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_downgrade_to_base_and_upgrade_again_without_drift(database_url):
    app = make_app(database_url)
    with app.app_context():
        assert _drift(app) == []
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        assert _drift(app) == []
        db.engine.dispose()


def test_flask_db_check_passes(database_url):
    app = make_app(database_url)
    with app.app_context():
        flask_migrate.check()
        db.engine.dispose()


def test_phone_extensions_survive_upgrade_and_are_dropped_cleanly_on_downgrade(database_url):
    app = make_app(database_url)
    with app.app_context():
        flask_migrate.downgrade(revision="0004")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO office (name, slug, address, city, state, postal_code, phone, timezone, "
                "active, version, created_at, updated_at) VALUES ('Annapolis', 'annapolis', '1 Main St', "
                "'Annapolis', 'MD', '21401', '+14105550100', 'America/New_York', true, 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE office SET phone = '+14105550100;ext=1234567'"))
        flask_migrate.downgrade(revision="0004")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT phone FROM office")).scalar() == "+14105550100"
        flask_migrate.upgrade()
        assert _drift(app) == []
        db.engine.dispose()


def test_upgrading_to_0027_moves_the_trial_results_of_follow_ups_and_of_trial_pages_into_the_trials(app, demo):
    """Before 0027 a trial procedure's follow-up held its result and the trial page another, with
    no day the trial ended: the upgrade puts each trial procedure's trial on record with the result
    its follow-up found, and dates the results entered on trial pages."""
    from datetime import UTC, date, datetime, timedelta

    from backoffice.core.actor import Actor
    from backoffice.devices import trials
    from backoffice.devices.models import ScsTrial
    from backoffice.procedures.rules import PlanDecision, ReliefUnit
    from tests.integration.course_helpers import done, follow_ups_of, record
    from tests.integration.scheduling_helpers import patients

    nurse = Actor(2, "nurse", frozenset({"nurse"}), "192.0.2.22")
    start = date.today() - timedelta(days=40)
    with app.app_context():
        first, second, third = patients()[:3]
        found = done("SCS-TRIAL", start, patient=first, region="thoracic", side=None, levels=None)
        record(follow_ups_of(found)[0], 65, 7, ReliefUnit.DAYS)
        declined = done("SCS-TRIAL", start, patient=third, region="thoracic", side=None, levels=None)
        record(follow_ups_of(declined)[0], 20, 7, ReliefUnit.DAYS, decision=PlanDecision.NO_FURTHER)
        on_page = trials.start_trial(second.id, trials.TrialEntry(start, start + timedelta(days=7), 1, 1), by=nurse,
                                     now=datetime.now(UTC), today=date.today())
        trials.record_trial_result(on_page.id, trials.TrialResult(60, None, None, None, ended_on=start),
                                   expected_version=on_page.version, by=nurse, now=datetime.now(UTC),
                                   today=date.today())
        appointment_ids, follow_up_day = (found.id, declined.id), follow_ups_of(found)[0].due_at.date()
        db.session.remove()

        flask_migrate.downgrade(revision="0026")
        with db.engine.begin() as connection:  # as it was: the trial procedures with no trial on record
            connection.execute(text("DELETE FROM scs_trial WHERE appointment_id IS NOT NULL"))
        flask_migrate.upgrade()

        moved = {trial.appointment_id: trial for trial in db.session.scalars(select(ScsTrial))}
        first_trial, declined_trial = moved[appointment_ids[0]], moved[appointment_ids[1]]
        assert (first_trial.patient_id, first_trial.pain_reduction_percent, first_trial.ended_on,
                first_trial.result_source, first_trial.decision) == (first.id, 65, follow_up_day, "follow_up", None)
        assert (declined_trial.pain_reduction_percent, declined_trial.decision) == (20, "failed")
        page_trial = moved[None]
        assert (page_trial.pain_reduction_percent, page_trial.result_source) == (60, "trial_page")
        assert page_trial.ended_on == min(start + timedelta(days=7), date.today())
        assert _drift(app) == []
        db.session.remove()
        db.engine.dispose()
