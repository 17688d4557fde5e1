"""The device registry through its services, on both engines: replacements, the replacement
indicator and service life, the pump refill log and worklist, SCS trials, recall search and stale
edits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.catalog.rules import DeviceKind
from backoffice.core.actor import Actor
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.extensions import db
from backoffice.devices import pump_refills, services, trials, worklists
from backoffice.devices.models import Device, DeviceStatusChange, PumpRefill, ScsTrial
from backoffice.devices.pump_refills import RefillEntry
from backoffice.devices.rules import DeviceSettings, TrialDecision
from backoffice.devices.services import DeviceEntry
from backoffice.devices.trials import TrialEntry, TrialResult
from backoffice.patients.models import Patient
from backoffice.scheduling.models import Appointment

from .helpers import audit_rows, count
from .scheduling_helpers import office, patients, physician

pytestmark = pytest.mark.usefixtures("demo", "app_context")

NURSE = Actor(2, "nurse", frozenset({"nurse"}), "192.0.2.22")
PHYSICIAN = Actor(3, "physician", frozenset({"physician"}), "192.0.2.21")
MANAGER = Actor(4, "manager", frozenset({"manager"}), "192.0.2.23")
SETTINGS = DeviceSettings()
TODAY = date.today()


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, or the month's last day when it is shorter."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last))


def entry(kind: DeviceKind = DeviceKind.PUMP, *, implanted_on: date = TODAY - timedelta(days=365), lot: str = "LOT1",
          serial: str = "SN1", trial_id: int | None = None) -> DeviceEntry:
    names = {DeviceKind.PUMP: ("Medtronic", "SynchroMed II 40 mL"),
             DeviceKind.SCS_GENERATOR: ("Boston Scientific", "WaveWriter Alpha 16"),
             DeviceKind.SCS_LEAD: ("Boston Scientific", "Infinion 16 lead"),
             DeviceKind.TRIAL_LEAD: ("Medtronic", "Vectris trial lead")}
    manufacturer, model = names[kind]
    return DeviceEntry(kind=kind, manufacturer=manufacturer, model=model, implanted_on=implanted_on, lot=lot,
                       serial=serial, mri_conditional=True, trial_id=trial_id,
                       reservoir_ml=Decimal(40) if kind is DeviceKind.PUMP else None)


def add(patient: Patient, device: DeviceEntry | None = None, *, replaces_id: int | None = None) -> Device:
    return services.add_device(patient.id, device or entry(), by=NURSE, now=utcnow(), today=TODAY,
                               replaces_id=replaces_id)


def refill(device: Device, on: date, *, withdrawn: str = "2", office_id: int | None = None) -> PumpRefill:
    """Morphine 10 mg/mL at 5 mg a day (0.5 mL a day), filled to 40 mL: due again 69 days later."""
    return pump_refills.record_refill(device.id, RefillEntry(
        refilled_on=on, office_id=office_id or office("annapolis").id, drug="Morphine",
        concentration_mg_ml=Decimal(10), daily_dose_mg=Decimal(5), withdrawn_ml=Decimal(withdrawn),
        added_ml=Decimal(40), alarm_ml=SETTINGS.alarm_ml, stability_days=SETTINGS.stability_days,
        margin_days=SETTINGS.margin_days), by=NURSE, now=utcnow(), today=TODAY, settings=SETTINGS)


def explant(device: Device, on: date = TODAY) -> Device:
    return services.explant_device(device.id, on=on, reason="Infection", expected_version=device.version,
                                   by=PHYSICIAN, now=utcnow(), today=TODAY)


def start(patient: Patient, started: date, ends: date, *, leads: bool = True) -> ScsTrial:
    trial = trials.start_trial(patient.id, TrialEntry(
        started_on=started, planned_end_on=ends, physician_id=physician("Reyes").id,
        office_id=office("annapolis").id), by=NURSE, now=utcnow(), today=TODAY)
    for side in ("L", "R") if leads else ():
        add(patient, entry(DeviceKind.TRIAL_LEAD, implanted_on=started, lot="TL1", serial=f"TL{trial.id}{side}",
                           trial_id=trial.id))
    return trial


def history(device: Device) -> list[tuple[str | None, str, date, str | None]]:
    return [(h.from_status, h.to_status, h.changed_on, h.reason) for h in services.device_history(device.id)]


# Replacing a device.

def test_replacing_a_device_marks_it_replaced_with_its_successor_and_a_status_change():
    patient = patients()[0]
    old = add(patient, entry(implanted_on=TODAY - timedelta(days=2600), serial="OLD"))
    refill(old, TODAY - timedelta(days=20))
    new = add(patient, entry(implanted_on=TODAY - timedelta(days=1), serial="NEW"), replaces_id=old.id)

    replaced = db.session.get(Device, old.id)
    assert (replaced.status, replaced.successor_id, replaced.explanted_on) == ("replaced", new.id,
                                                                              TODAY - timedelta(days=1))
    assert replaced.explant_reason == "Replaced by Medtronic SynchroMed II 40 mL"
    assert replaced.next_refill_on is None  # no longer on the refill list
    assert history(replaced) == [(None, "implanted", TODAY - timedelta(days=2600), None),
                                 ("implanted", "replaced", TODAY - timedelta(days=1),
                                  "Replaced by Medtronic SynchroMed II 40 mL")]
    assert db.session.scalars(select(DeviceStatusChange.changed_by_id)
                              .where(DeviceStatusChange.device_id == old.id)).all() == [NURSE.user_id] * 2
    assert (new.status, history(new)) == ("implanted", [(None, "implanted", TODAY - timedelta(days=1), None)])


def test_refuses_to_replace_an_explanted_device_and_saves_nothing():
    patient = patients()[0]
    old = explant(add(patient, entry(serial="OLD")))
    devices = count(Device)
    with pytest.raises(FieldErrors) as refused:
        add(patient, entry(implanted_on=TODAY, serial="NEW"), replaces_id=old.id)
    assert refused.value.errors == {"replaces_id": "An explanted device cannot be replaced."}
    assert count(Device) == devices
    assert db.session.get(Device, old.id).status == "explanted"


def test_refuses_to_replace_another_patients_device():
    old = add(patients()[0], entry(serial="OLD"))
    with pytest.raises(FieldErrors) as refused:
        add(patients()[1], entry(implanted_on=TODAY, serial="NEW"), replaces_id=old.id)
    assert set(refused.value.errors) == {"replaces_id"}
    assert db.session.get(Device, old.id).status == "implanted"


def test_refuses_a_replacement_implanted_before_the_device_it_replaces():
    # The old device's explant date becomes the new one's implant date: a mistyped date is refused
    # next to the field rather than breaking the explant-after-implant constraint.
    patient = patients()[0]
    old = add(patient, entry(implanted_on=TODAY - timedelta(days=10), serial="OLD"))
    with pytest.raises(FieldErrors) as refused:
        add(patient, entry(implanted_on=TODAY - timedelta(days=20), serial="NEW"), replaces_id=old.id)
    assert "cannot be implanted before that" in refused.value.errors["implanted_on"]
    assert count(Device) == 1
    assert db.session.get(Device, old.id).status == "implanted"


# Battery and service life.

def test_the_replacement_indicator_sets_the_replacement_due_date_from_the_settings():
    patient = patients()[0]
    pump = add(patient)
    shown = TODAY - timedelta(days=5)
    updated = services.record_eri(pump.id, on=shown, expected_version=pump.version, by=NURSE, now=utcnow(),
                                  today=TODAY, settings=SETTINGS)
    assert (updated.eri_on, updated.replacement_due_on) == (shown, shown + timedelta(days=90))
    generator = add(patient, entry(DeviceKind.SCS_GENERATOR, serial="SC1"))
    updated = services.record_eri(generator.id, on=shown, expected_version=generator.version, by=NURSE,
                                  now=utcnow(), today=TODAY, settings=replace(SETTINGS, eri_days=60))
    assert updated.replacement_due_on == shown + timedelta(days=60)


def test_refuses_a_replacement_indicator_for_a_lead():
    lead = add(patients()[0], entry(DeviceKind.SCS_LEAD, serial="LD1"))
    with pytest.raises(FieldErrors) as refused:
        services.record_eri(lead.id, on=TODAY, expected_version=lead.version, by=NURSE, now=utcnow(), today=TODAY,
                            settings=SETTINGS)
    assert set(refused.value.errors) == {"eri_on"}
    assert db.session.get(Device, lead.id).eri_on is None


def test_replacement_planning_lists_pumps_and_generators_past_six_and_a_half_years_and_not_leads():
    p = patients()
    six_and_a_half = months_before(TODAY, 78)
    due_pump = add(p[0], entry(implanted_on=six_and_a_half, serial="P1"))
    due_generator = add(p[1], entry(DeviceKind.SCS_GENERATOR, implanted_on=TODAY - timedelta(days=3000),
                                    serial="G1"))
    add(p[2], entry(DeviceKind.SCS_LEAD, implanted_on=TODAY - timedelta(days=3000), serial="L1"))
    add(p[3], entry(implanted_on=months_before(TODAY, 77), serial="P2"))  # six years and five months
    explant(add(p[4], entry(DeviceKind.SCS_GENERATOR, implanted_on=TODAY - timedelta(days=3000), serial="G2")))
    young = add(p[5], entry(DeviceKind.SCS_GENERATOR, implanted_on=TODAY - timedelta(days=700), serial="G3"))
    services.record_eri(young.id, on=TODAY - timedelta(days=3), expected_version=young.version, by=NURSE,
                        now=utcnow(), today=TODAY, settings=SETTINGS)

    rows = worklists.replacement_planning(today=TODAY, settings=SETTINGS, limit=100, by=NURSE)
    # The one with a replacement date first, then the longest in service.
    assert [row.device.id for row in rows] == [young.id, due_generator.id, due_pump.id]
    assert rows[0].reason == f"replacement indicator since {TODAY - timedelta(days=3):%m/%d/%Y}"
    assert rows[0].due_on == TODAY - timedelta(days=3) + timedelta(days=90)
    assert rows[2].years == pytest.approx(6.5, abs=0.01) and rows[2].reason.endswith("years in service")
    assert worklists.replacement_planning(today=TODAY, settings=SETTINGS, limit=100, by=MANAGER) == []


# Pump refills.

def test_refuses_a_refill_dated_before_the_last_one():
    pump = add(patients()[0])
    refill(pump, TODAY - timedelta(days=10))
    with pytest.raises(FieldErrors) as refused:
        refill(pump, TODAY - timedelta(days=11))
    assert set(refused.value.errors) == {"refilled_on"}
    assert "record refills in order" in refused.value.errors["refilled_on"]
    assert count(PumpRefill) == 1
    assert db.session.get(Device, pump.id).next_refill_on == TODAY - timedelta(days=10) + timedelta(days=69)


def test_a_refill_is_flagged_as_a_mismatch_only_beyond_the_tolerance():
    pump = add(patients()[0])
    first = TODAY - timedelta(days=40)
    assert refill(pump, first).mismatch is False  # nothing expected before the first refill
    # 20 days at 0.5 mL a day leaves 30 mL of the 40: 32 mL out is exactly the 2 mL tolerance.
    within = refill(pump, first + timedelta(days=20), withdrawn="32")
    assert (within.expected_residual_ml, within.mismatch) == (Decimal(30), False)
    beyond = refill(pump, first + timedelta(days=40), withdrawn="27.5")
    assert (beyond.expected_residual_ml, beyond.mismatch) == (Decimal(30), True)


def test_the_refill_worklist_lists_overdue_and_due_pumps_per_office_and_not_explanted_ones():
    p = patients()
    annapolis, glen_burnie = office("annapolis").id, office("glen-burnie").id
    pumps = {}
    for name, patient, last, office_id in (("overdue", p[0], 80, annapolis), ("due", p[1], 62, glen_burnie),
                                           ("later", p[2], 20, annapolis), ("gone", p[3], 80, annapolis)):
        pumps[name] = add(patient, entry(serial=name))
        refill(pumps[name], TODAY - timedelta(days=last), office_id=office_id)
    explant(db.session.get(Device, pumps["gone"].id))
    never = add(p[4], entry(serial="never"))

    def worklist(office_id: int | None) -> tuple[list[int], list[int], list[int]]:
        found = worklists.refill_worklist(office_id=office_id, today=TODAY, window_days=SETTINGS.refill_window_days,
                                         limit=100, now=utcnow(), by=NURSE)
        return ([d.id for d in found.overdue], [d.id for d in found.due_soon], [d.id for d in found.never_refilled])

    overdue, due = pumps["overdue"].id, pumps["due"].id
    assert worklist(None) == ([overdue], [due], [never.id])
    assert worklist(annapolis)[:2] == ([overdue], [])
    assert worklist(glen_burnie)[:2] == ([], [due])
    assert db.session.get(Device, overdue).next_refill_on == TODAY - timedelta(days=11)


def test_the_refill_worklist_lists_pumps_due_soon_even_when_more_are_overdue_than_it_shows():
    # Each section is cut at `limit` rows (100 on the page) on its own, with its full count.
    p = patients()
    for number, patient in enumerate(p[:4]):
        refill(add(patient, entry(serial=f"late{number}")), TODAY - timedelta(days=80 + number))
    due = add(p[4], entry(serial="due"))
    refill(due, TODAY - timedelta(days=62))
    found = worklists.refill_worklist(office_id=None, today=TODAY, window_days=SETTINGS.refill_window_days, limit=3,
                                     now=utcnow(), by=NURSE)
    assert len(found.overdue) == 3
    assert [d.id for d in found.due_soon] == [due.id]
    assert found.totals == {"overdue": 4, "due_soon": 1, "never_refilled": 0}


# SCS trials.

def test_a_failed_trial_explants_its_leads():
    patient = patients()[0]
    trial = start(patient, TODAY - timedelta(days=7), TODAY)
    decided = trials.record_trial_result(trial.id, TrialResult(
        pain_reduction_percent=20, analgesic_reduction_percent=None, decision=TrialDecision.FAILED,
        decided_on=TODAY, ended_on=TODAY), expected_version=trial.version, by=PHYSICIAN, now=utcnow(), today=TODAY)
    assert (decided.decision, decided.decided_on) == ("failed", TODAY)
    leads = trials.trial_leads(trial.id)
    assert [(lead.status, lead.explanted_on, lead.explant_reason) for lead in leads] == [
        ("explanted", TODAY, "Trial ended")] * 2
    assert [history(lead)[-1][:2] for lead in leads] == [("trial", "explanted")] * 2


def test_a_trial_decided_for_implant_links_the_implant_appointment(one_appointment):
    patient = patients()[0]
    trial = start(patient, TODAY - timedelta(days=7), TODAY)
    decided = trials.record_trial_result(trial.id, TrialResult(
        pain_reduction_percent=65, analgesic_reduction_percent=50, decision=TrialDecision.IMPLANT,
        decided_on=TODAY, implant_appointment_id=one_appointment, ended_on=TODAY), expected_version=trial.version,
        by=PHYSICIAN, now=utcnow(), today=TODAY)
    assert (decided.decision, decided.implant_appointment_id) == ("implant", one_appointment)
    assert db.session.get(Appointment, decided.implant_appointment_id).patient_id == patient.id
    # The decision ends the trial: its temporary leads come out.
    assert {lead.status for lead in trials.trial_leads(trial.id)} == {"explanted"}


def test_refuses_to_link_another_patients_appointment_as_the_implant(one_appointment):
    trial = start(patients()[1], TODAY - timedelta(days=7), TODAY)
    with pytest.raises(FieldErrors) as refused:
        trials.record_trial_result(trial.id, TrialResult(
            pain_reduction_percent=65, analgesic_reduction_percent=None, decision=TrialDecision.IMPLANT,
            decided_on=TODAY, implant_appointment_id=one_appointment, ended_on=TODAY), expected_version=trial.version,
            by=PHYSICIAN, now=utcnow(), today=TODAY)
    assert set(refused.value.errors) == {"implant_appointment_id"}
    assert db.session.get(ScsTrial, trial.id).decision is None
    assert {lead.status for lead in trials.trial_leads(trial.id)} == {"trial"}


def result(trial: ScsTrial, pain: int, ended_on: date, decision: TrialDecision | None = None) -> ScsTrial:
    return trials.record_trial_result(trial.id, TrialResult(
        pain_reduction_percent=pain, analgesic_reduction_percent=None, decision=decision,
        decided_on=ended_on if decision else None, ended_on=ended_on), expected_version=trial.version,
        by=PHYSICIAN, now=utcnow(), today=TODAY)


def test_trial_lists_put_trials_by_state_and_a_trial_with_a_result_as_ended_however_long_it_ran():
    p = patients()
    ending = start(p[0], TODAY - timedelta(days=3), TODAY + timedelta(days=4), leads=False)
    result_due = start(p[1], TODAY - timedelta(days=8), TODAY - timedelta(days=1), leads=False)
    on_the_day = start(p[2], TODAY - timedelta(days=7), TODAY, leads=False)
    too_long = start(p[3], TODAY - timedelta(days=11), TODAY - timedelta(days=4), leads=False)
    running = start(p[4], TODAY, TODAY + timedelta(days=10), leads=False)
    decided = start(p[5], TODAY - timedelta(days=12), TODAY - timedelta(days=5), leads=False)
    result(decided, 10, TODAY - timedelta(days=5), TrialDecision.FAILED)
    ended = result(start(p[6], TODAY - timedelta(days=14), TODAY - timedelta(days=7), leads=False), 65,
                   TODAY - timedelta(days=7))
    to_book = result(start(p[7], TODAY - timedelta(days=20), TODAY - timedelta(days=13), leads=False), 70,
                     TODAY - timedelta(days=13), TrialDecision.IMPLANT)

    lists = worklists.trial_lists(today=TODAY, settings=SETTINGS, by=NURSE)
    assert [t.id for t in lists.ending_this_week] == [ending.id]
    assert [t.id for t in lists.result_due] == [result_due.id, on_the_day.id]
    assert [t.id for t in lists.overdue] == [too_long.id]
    assert [t.id for t in lists.running] == [running.id]
    assert [t.id for t in lists.awaiting_decision] == [ended.id]  # 14 days in, but ended with its result
    assert [t.id for t in lists.implant_to_book] == [to_book.id]
    tighter = worklists.trial_lists(today=TODAY, settings=replace(SETTINGS, trial_overdue_days=7), by=NURSE)
    assert [t.id for t in tighter.overdue] == [too_long.id, result_due.id]  # by planned end


# Recall search.

def test_a_recall_search_by_lot_lists_exactly_the_patients_with_an_active_device_of_that_lot():
    p = patients()
    pump = add(p[0], entry(lot="RC1", serial="A"))
    generator = add(p[1], entry(DeviceKind.SCS_GENERATOR, lot="RC1", serial="B"))
    trial = start(p[2], TODAY - timedelta(days=2), TODAY + timedelta(days=5), leads=False)
    lead = add(p[2], entry(DeviceKind.TRIAL_LEAD, implanted_on=TODAY - timedelta(days=2), lot="RC1", serial="C",
                           trial_id=trial.id))
    explant(add(p[3], entry(lot="RC1", serial="D")))
    old = add(p[4], entry(lot="RC1", serial="E", implanted_on=TODAY - timedelta(days=900)))
    add(p[4], entry(lot="NEW2", serial="F", implanted_on=TODAY), replaces_id=old.id)
    add(p[5], entry(lot="RC2", serial="G"))

    result = worklists.recall_search(worklists.RecallQuery(lot="RC1"), now=utcnow(), by=MANAGER)
    assert sorted(d.id for d in result.devices) == sorted([pump.id, generator.id, lead.id])
    assert {d.patient_id for d in result.devices} == {p[0].id, p[1].id, p[2].id}
    [event] = audit_rows(entity_type="device_recall")
    assert (event.action, event.user_id, event.username) == ("search", MANAGER.user_id, "manager")
    assert event.subject == "lot RC1: 3 devices"
    assert sorted(event.details["devices"]) == sorted([pump.id, generator.id, lead.id])

    worklists.recall_search(worklists.RecallQuery(lot="RC1"), now=utcnow(), by=MANAGER, export=True)
    assert [e.action for e in audit_rows(entity_type="device_recall")] == ["search", "export"]


def test_a_recall_search_by_someone_without_access_finds_nothing_and_is_not_audited():
    add(patients()[0], entry(lot="RC1"))
    scheduler = Actor(1, "scheduler", frozenset({"scheduler"}))
    assert worklists.recall_search(worklists.RecallQuery(lot="RC1"), now=utcnow(), by=scheduler).devices == []
    assert audit_rows(entity_type="device_recall") == []


# Stale edits.

def test_refuses_a_stale_edit_of_a_device():
    pump = add(patients()[0], entry(serial="SN1"))
    loaded = pump.version
    services.update_device(pump.id, entry(serial="SN2"), expected_version=loaded, by=NURSE, now=utcnow(),
                           today=TODAY)
    with pytest.raises(StaleEdit) as stale:
        services.update_device(pump.id, entry(serial="SN3"), expected_version=loaded, by=PHYSICIAN, now=utcnow(),
                               today=TODAY)
    assert stale.value.changed_by == "Luis Ortega" and stale.value.current_version == loaded + 1
    db.session.expire_all()
    assert db.session.get(Device, pump.id).serial == "SN2"
