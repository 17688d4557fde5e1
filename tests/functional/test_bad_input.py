"""Every form, fed empty, over-long, wrongly typed and script-laden values, answers with a
message next to the field and writes nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from backoffice.core.extensions import db
from tests.conftest import DEMO_PASSWORDS

SCRIPT = "<script>alert(1)</script>"
LONG = "x" * 1001
VERSION = {"version": ["", "abc"]}

OFFICE = {"name": "Severna Park", "slug": "", "address": "1 Ritchie Hwy", "city": "Severna Park",
          "state": "MD", "postal_code": "21146", "phone": "410-555-0170",
          "timezone": "America/New_York", "active": "y"}
OFFICE_BAD = {"name": ["", LONG, SCRIPT], "slug": ["Severna Park", SCRIPT], "address": ["", LONG, SCRIPT],
              "state": ["Maryland", "M1"], "postal_code": ["2114", "abcde"], "phone": ["12", SCRIPT],
              "timezone": ["Mars/Olympus_Mons", ""]}
PHYSICIAN = {"first_name": "Ada", "last_name": "Lovelace", "credentials": "MD", "npi": "", "user_id": "",
             "active": "y"}
PHYSICIAN_BAD = {"first_name": ["", LONG, SCRIPT, "Ada1"], "last_name": ["", SCRIPT],
                 "credentials": ["", SCRIPT, "M.D.1"], "npi": ["12345", "1234567890", SCRIPT],
                 "user_id": ["99999", SCRIPT]}
PATIENT = {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1960-12-10",
           "phone": "410-555-0111", "email": "", "address": "", "city": "", "state": "MD",
           "postal_code": "21401", "preferred_office_id": "1",
           "sex": "female", "emergency_contact_name": "William King", "emergency_contact_relationship": "Spouse",
           "emergency_contact_phone": "410-555-0112", "referring_name": "Dr. Ruth Park",
           "referring_practice": "Severn Orthopedics", "referring_phone": "", "referring_fax": "410-555-0113",
           "primary_care_name": "", "primary_care_practice": "", "primary_care_phone": "", "primary_care_fax": ""}
PATIENT_BAD = {"first_name": ["", LONG, SCRIPT, "Ada1"], "last_name": ["", LONG, SCRIPT],
               "date_of_birth": ["", "12/10/1960x", "1960-02-30", "2999-01-01", "1800-01-01"],
               "sex": ["", "f", SCRIPT],
               "phone": ["12", SCRIPT], "email": ["ada@", SCRIPT + "@example.com"],
               "address": [LONG, SCRIPT], "state": ["Maryland"], "postal_code": ["2140", SCRIPT],
               "preferred_office_id": ["99", SCRIPT],
               "emergency_contact_name": [LONG, SCRIPT, "Bill 2", {"emergency_contact_name": "",
                                                                   "emergency_contact_relationship": ""}],
               "emergency_contact_relationship": [LONG, SCRIPT],
               "emergency_contact_phone": ["12", SCRIPT, ""],
               "referring_name": [LONG, SCRIPT], "referring_practice": [LONG + LONG, SCRIPT],
               "referring_fax": ["555-0113", SCRIPT], "primary_care_phone": ["1234", SCRIPT]}
PAYER = {"name": "Priority Partners", "kind": "commercial", "prior_auth_phone": "410-555-0170",
         "prior_auth_fax": "", "active": "y"}
PAYER_BAD = {"name": ["", LONG, SCRIPT, "  medicare   PART b "], "kind": ["", "hmo", SCRIPT],
             "prior_auth_phone": ["12", SCRIPT], "prior_auth_fax": ["555-0113", LONG]}
# Patient 1 of the demo practice is on Medicare Part B (payer 1, coverage 1) since January 1 of last
# year, with Medicaid as secondary; a primary plan that ended years ago fits beside them.
LAST_YEAR = date.today().year - 1
COVERAGE = {"rank": "primary", "payer_id": "4", "plan_name": "BlueChoice HMO Open Access", "member_id": "XYZ123456",
            "group_number": "0123456", "relationship_to_subscriber": "spouse", "subscriber_name": "Daniel Lovelace",
            "effective_on": "2010-01-01", "ends_on": "2010-12-31"}
COVERAGE_BAD = {"rank": ["", "tertiary", SCRIPT], "payer_id": ["", "999", "12", SCRIPT],
                "plan_name": [LONG, SCRIPT], "member_id": ["", "A B", LONG, SCRIPT], "group_number": ["G 1", SCRIPT],
                "relationship_to_subscriber": ["cousin", SCRIPT],
                "subscriber_name": ["", SCRIPT, "Bill 2", {"relationship_to_subscriber": "self"}],
                "effective_on": ["", "2010-02-30", "9999-01-01", SCRIPT, {"effective_on": f"{LAST_YEAR}-06-01",
                                                                          "ends_on": ""},
                                 {"ends_on": f"{LAST_YEAR + 1}-01-01"}],  # overlapping Medicare Part B
                "ends_on": ["2009-12-31", "soon"]}
MEDICARE_COVERAGE = {"rank": "primary", "payer_id": "1", "plan_name": "", "member_id": "1EG4TE5MK73",
                     "group_number": "", "relationship_to_subscriber": "self", "subscriber_name": "",
                     "effective_on": f"{LAST_YEAR}-01-01", "ends_on": "", "version": "1"}
NEW_PASSWORD = "blue-heron-marsh-walk"
YESTERDAY, TOMORROW = date.today() - timedelta(days=1), date.today() + timedelta(days=1)
OUTCOME = {"recorded_on": date.today().isoformat(), "contact": "phone", "baseline_nrs": "8", "post_nrs": "2",
           "percent_relief": "", "relief_amount": "6", "relief_unit": "hours", "function_change": "",
           "complications": "", "decision": "", "notes": "", "version": "1", "odi_0": ""}
OUTCOME_BAD = {"recorded_on": ["", "2020-01-01", TOMORROW.isoformat(), "2026-02-30", SCRIPT],
               "contact": ["fax", SCRIPT], "baseline_nrs": ["11", "-1", "abc"], "post_nrs": ["11", "2.5"],
               "percent_relief": ["150", "-5"], "relief_amount": ["0", "1000"], "relief_unit": ["fortnights"],
               "odi_0": ["6", "-1"], "complications": [LONG], "decision": ["amputate", SCRIPT], **VERSION}
THRESHOLDS = {"mbb_relief_percent": "80", "mbb_relief_hours": "3", "blocks_for_rfa": "2",
              "rfa_repeat_relief_percent": "50", "rfa_repeat_relief_months": "6",
              "epidural_repeat_relief_percent": "50", "epidural_repeat_relief_months": "2",
              "facet_repeat_relief_percent": "50", "facet_repeat_relief_months": "2",
              "scs_trial_relief_percent": "50", "soon_days": "30", "version": "1"}
THRESHOLDS_BAD = {"mbb_relief_percent": ["", "0", "101", "eighty", SCRIPT], "mbb_relief_hours": ["73"],
                  "blocks_for_rfa": ["0", "5"], "rfa_repeat_relief_months": ["0", "25"], "soon_days": ["0", "366"],
                  **VERSION}
PSYCH = {"evaluated_on": YESTERDAY.isoformat(), "evaluator": "Dr. Ana Patel, PsyD", "cleared": "yes", "notes": ""}
PSYCH_BAD = {"evaluated_on": ["", TOMORROW.isoformat(), "yesterday"], "evaluator": ["", LONG, SCRIPT],
             "cleared": ["maybe", ""], "notes": [LONG]}
DEVICE = {"kind": "pump", "device_model_id": "", "manufacturer": "Medtronic", "model": "SynchroMed II 40 mL",
          "gtin": "00643169001763", "lot": "LOT777", "serial": "SN777", "expiry": "", "manufactured": "",
          "implanted_on": YESTERDAY.isoformat(), "physician_id": "1", "appointment_id": "", "site": "Right abdomen",
          "mri_conditional": "y", "reservoir_ml": "40", "replaces_id": "", "trial_id": "", "notes": ""}
DEVICE_BAD = {"kind": ["", "toaster"], "manufacturer": ["", LONG, SCRIPT], "model": ["", SCRIPT],
              "gtin": ["0064316900176", "00643169001764", "ABCDEFGHIJKLMN"], "lot": ["LOT 1", SCRIPT, LONG],
              "serial": ["S N", SCRIPT],
              "expiry": ["2026-02-30", "9999-01-01", (YESTERDAY - timedelta(days=3)).isoformat()],
              "manufactured": [TOMORROW.isoformat()], "implanted_on": ["", TOMORROW.isoformat(), SCRIPT],
              "physician_id": ["999", SCRIPT], "appointment_id": ["999999"],
              "reservoir_ml": ["", "-1", "101", "forty"],
              "replaces_id": ["999"], "trial_id": ["999"], "notes": [LONG],
              "udi": [{"udi": value, "read_udi": "Read barcode"}
                      for value in ("(01)00643169001764(10)LOT1", "(17)281331(01)00643169001763", "hello", SCRIPT)]}
REFILL = {"refilled_on": date.today().isoformat(), "office_id": "1", "drug": "Morphine", "concentration_mg_ml": "10",
          "daily_dose_mg": "2", "withdrawn_ml": "5", "added_ml": "40", "alarm_ml": "2", "stability_days": "90",
          "margin_days": "7", "alarm_note": "", "notes": ""}
REFILL_BAD = {"refilled_on": ["", TOMORROW.isoformat(), "2026-02-30", "2000-01-01", SCRIPT],
              "office_id": ["99", SCRIPT], "drug": ["", LONG, SCRIPT], "concentration_mg_ml": ["", "0", "1001", "ten"],
              "daily_dose_mg": ["", "-1"], "withdrawn_ml": ["", "-1", "101", "41"], "added_ml": ["", "41", "1.5"],
              "alarm_ml": ["11", "-0.5"], "stability_days": ["0", "366", "1.5"], "margin_days": ["-1", "61"],
              "alarm_note": [LONG, SCRIPT]}
TRIAL = {"started_on": date.today().isoformat(), "planned_end_on": (date.today() + timedelta(days=7)).isoformat(),
         "physician_id": "1", "office_id": "1", "appointment_id": "", "notes": ""}
TRIAL_BAD = {"started_on": ["", "2026-02-30", SCRIPT, (date.today() + timedelta(days=400)).isoformat()],
             "planned_end_on": ["", YESTERDAY.isoformat()], "physician_id": ["999", ""], "office_id": ["99"],
             "appointment_id": ["999999", SCRIPT], "notes": [LONG, SCRIPT]}
TRIAL_RESULT = {"pain_reduction_percent": "60", "analgesic_reduction_percent": "", "ended_on": date.today().isoformat(),
                "decision": "implant", "decided_on": date.today().isoformat(), "implant_appointment_id": "",
                "notes": "", "version": "1"}
TRIAL_RESULT_BAD = {"pain_reduction_percent": ["101", "-1", "most"], "analgesic_reduction_percent": ["200"],
                    "ended_on": ["", "2026-02-30", TOMORROW.isoformat(), "2000-01-01"],
                    "decision": ["maybe", SCRIPT], "decided_on": ["", TOMORROW.isoformat(), "2000-01-01"],
                    "implant_appointment_id": ["999999"], "notes": [LONG], **VERSION}
DEVICE_MODEL = {"manufacturer": "Abbott", "model": "Proclaim XR 7", "kind": "scs_generator", "gtin": "00643169001770",
                "mri_conditional": "y", "reservoir_ml": "", "active": "y"}
DEVICE_MODEL_BAD = {"manufacturer": ["", LONG, SCRIPT], "model": ["", SCRIPT], "kind": ["", "toaster"],
                    "gtin": ["123", "00643169001771", "00614141000012"],   # wrong check digit; a catalog pump's
                    "reservoir_ml": ["40", "-1", "forty"]}

# form: (who, url, a valid submission, {field: [bad values]}); a bad value may be a dict of
# several fields sent together (a new password and its confirmation).
FORMS = {
    "login": (None, "/login", {"username": "scheduler", "password": DEMO_PASSWORDS["scheduler"]},
              {"username": ["", LONG, SCRIPT], "password": ["", LONG]}),
    "change password": ("nurse", "/account/password",
                        {"current_password": DEMO_PASSWORDS["nurse"], "new_password": NEW_PASSWORD,
                         "confirm_password": NEW_PASSWORD},
                        {"current_password": ["", LONG, "not my password"],
                         "new_password": [{"new_password": value, "confirm_password": value}
                                          for value in ("", "short", LONG, "password1234",
                                                        "nurse-nurse-nurse")],
                         "confirm_password": ["", "a different one entirely"]}),
    "new account": ("admin", "/admin/users/new",
                    {"username": "jdoe", "full_name": "Jane Doe", "email": "", "roles": "nurse"},
                    {"username": ["", LONG, SCRIPT, "Jane Doe", "nurse"],
                     "full_name": ["", LONG, SCRIPT, "R2D2"], "email": ["jane@", SCRIPT],
                     "roles": ["", "superuser"]}),
    "edit account": ("admin", "/admin/users/2",
                     {"full_name": "Luis Ortega", "email": "", "roles": "nurse", "version": "1"},
                     {"full_name": ["", LONG, SCRIPT], "email": ["luis@"], "roles": ["", "root"],
                      **VERSION}),
    "new office": ("admin", "/admin/offices/new", OFFICE, OFFICE_BAD),
    "edit office": ("admin", "/admin/offices/1", {**OFFICE, "name": "Annapolis", "slug": "annapolis",
                                                 "version": "1"},
                    {**OFFICE_BAD, "name": ["", SCRIPT, "Glen Burnie"], "slug": ["glen-burnie"], **VERSION}),
    "opening hours": ("admin", "/admin/offices/1/hours",
                      {**{f"days-{day}-{field}": value for day in range(5)
                          for field, value in (("is_open", "y"), ("opens", "07:00"), ("closes", "17:00"))},
                       "version": "1"},
                      {"days-0-opens": ["", "25:99", SCRIPT], "days-0-closes": ["07:00", "noon"],
                       **VERSION}),
    "closed day": ("admin", "/admin/offices/1/closures", {"day": "2027-07-05", "reason": "Independence Day"},
                   {"day": ["", "2027-02-30", SCRIPT, "2026-11-26"], "reason": ["", LONG, SCRIPT]}),
    "new room": ("admin", "/admin/offices/1/rooms/new", {"name": "Procedure Room 3", "fluoroscopy": "y"},
                 {"name": ["", LONG, SCRIPT, "Procedure Room 1"]}),
    "edit room": ("admin", "/admin/rooms/1", {"name": "Procedure Room 1", "fluoroscopy": "y", "active": "y",
                                              "version": "1"},
                  {"name": ["", LONG, SCRIPT, "Procedure Room 2"], **VERSION}),
    "new physician": ("admin", "/admin/physicians/new", PHYSICIAN, PHYSICIAN_BAD),
    "edit physician": ("admin", "/admin/physicians/1", {**PHYSICIAN, "version": "1"},
                       {**PHYSICIAN_BAD, **VERSION}),
    "schedule block": ("admin", "/admin/physicians/1/schedule",
                       {"office_id": "1", "weekday": "4", "starts": "08:00", "ends": "12:00"},
                       {"office_id": ["999", SCRIPT], "weekday": ["9", "Friday"],
                        "starts": ["", "25:00", "06:00"], "ends": ["", "07:00"],
                        "effective_from": ["soon"], "effective_until": ["2027-02-30"]}),
    "leave": ("admin", "/admin/physicians/1/leave",
              {"first_day": "2027-03-01", "last_day": "2027-03-05", "reason": "Conference"},
              {"first_day": ["", "March"], "last_day": ["2027-02-01"], "reason": ["", LONG, SCRIPT]}),
    "new patient": ("scheduler", "/patients/new", PATIENT, PATIENT_BAD),
    "edit patient": ("scheduler", "/patients/1/edit", {**PATIENT, "version": "1"},
                     {**PATIENT_BAD, **VERSION}),
    "outcome": ("physician", "/followups/1", OUTCOME, OUTCOME_BAD),
    "clinical settings": ("physician", "/settings/clinical-rules", THRESHOLDS, THRESHOLDS_BAD),
    "psych evaluation": ("nurse", "/patients/1/psych-evaluations/new", PSYCH, PSYCH_BAD),
    "new device": ("nurse", "/patients/1/devices/new", DEVICE, DEVICE_BAD),
    "edit device": ("physician", "/devices/1/edit",
                    {**DEVICE, "implanted_on": (date.today() - timedelta(days=365)).isoformat(), "version": "1"},
                    {**{field: DEVICE_BAD[field] for field in ("manufacturer", "gtin", "lot", "implanted_on",
                                                               "reservoir_ml")}, **VERSION}),
    "explant": ("nurse", "/devices/1/explant",
                {"explanted_on": date.today().isoformat(), "reason": "Infection", "version": "1"},
                {"explanted_on": ["", TOMORROW.isoformat(), "2000-01-01", "2026-02-30"],
                 "reason": ["", LONG, SCRIPT], **VERSION}),
    "replacement indicator": ("physician", "/devices/1/eri", {"eri_on": date.today().isoformat(), "version": "1"},
                              {"eri_on": ["", TOMORROW.isoformat(), "2000-01-01", "soon"], **VERSION}),
    "pump refill": ("nurse", "/devices/1/refills/new", REFILL, REFILL_BAD),
    "scs trial": ("physician", "/patients/1/trials/new", TRIAL, TRIAL_BAD),
    "scs trial result": ("nurse", "/devices/trials/1", TRIAL_RESULT, TRIAL_RESULT_BAD),
    "new payer": ("admin", "/admin/payers/new", PAYER, PAYER_BAD),
    "edit payer": ("admin", "/admin/payers/2", {**PAYER, "version": "1"}, {**PAYER_BAD, **VERSION}),
    "new coverage": ("scheduler", "/patients/1/coverage/new", COVERAGE, COVERAGE_BAD),
    "edit coverage": ("nurse", "/coverage/1/edit", MEDICARE_COVERAGE,
                      {"payer_id": ["", "999"], "member_id": ["", SCRIPT], "effective_on": ["", "9999-01-01"],
                       "ends_on": [f"{LAST_YEAR - 1}-12-31"], **VERSION}),
    "remove coverage": ("physician", "/coverage/1/delete", {"reason": "Entered for the wrong patient", "version": "1"},
                        {"reason": ["", LONG, SCRIPT], **VERSION}),
    "new device model": ("admin", "/admin/device-models/new", DEVICE_MODEL, DEVICE_MODEL_BAD),
    "edit device model": ("admin", "/admin/device-models/1", {**DEVICE_MODEL, "version": "1"},
                          {**DEVICE_MODEL_BAD, **VERSION}),
}
# Forms about a record the demo practice does not have until a fixture makes it.
NEEDS = {"outcome": "one_follow_up", **{form: "one_device" for form in (
    "edit device", "explant", "replacement indicator", "pump refill", "scs trial result")}}


def row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def client_for(app, signed_in, who):
    return app.test_client() if who is None else signed_in(who)


def has_error_next_to(html: str, name: str) -> bool:
    if name == "version":
        return "This form was altered or is out of date" in html
    tag = re.search(rf'<(?:input|select|textarea|ul)\b[^>]*\b(?:name|id)="{re.escape(name)}"[^>]*>', html)
    return bool(tag) and "is-invalid" in tag.group(0) and "invalid-feedback" in html


@pytest.mark.parametrize("form", list(FORMS))
def test_a_valid_submission_is_accepted(app, signed_in, form, request):
    if form in NEEDS:
        request.getfixturevalue(NEEDS[form])
    who, url, valid, _ = FORMS[form]
    response = client_for(app, signed_in, who).post(url, data=valid)
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    assert 'class="alert alert-danger"' not in response.get_data(as_text=True)


@pytest.mark.parametrize("form", list(FORMS))
def test_bad_values_get_a_message_next_to_the_field_and_write_nothing(app, signed_in, form, request):
    if form in NEEDS:
        request.getfixturevalue(NEEDS[form])
    who, url, valid, bad_values = FORMS[form]
    client = client_for(app, signed_in, who)
    with app.app_context():
        before = row_counts()
    for field, values in bad_values.items():
        for value in values:
            changes = value if isinstance(value, dict) else {field: value}
            response = client.post(url, data={**valid, **changes})
            html = response.get_data(as_text=True)
            assert response.status_code in (400, 401, 409), (field, value, response.status_code)
            if not (form == "login" and response.status_code == 401):
                assert has_error_next_to(html, field), (field, value)
            assert SCRIPT not in html, (field, value)  # echoed back escaped, never as markup
    with app.app_context():
        assert row_counts() == before


@pytest.mark.parametrize("who, url, field, value", [
    ("scheduler", "/patients", "q", SCRIPT),
    ("scheduler", "/patients", "q", LONG),
    ("manager", "/audit", "username", SCRIPT),
    ("manager", "/audit", "first_day", "tomorrow"),
    ("manager", "/audit", "office_id", "99"),
    ("manager", "/audit", "action", SCRIPT),
    ("manager", "/devices/recall", "manufacturer", ""),
    ("manager", "/devices/recall", "gtin", "123"),
])
def test_search_and_filter_forms_explain_bad_values(app, signed_in, who, url, field, value):
    response = signed_in(who).get(url, query_string={field: value})
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400)
    assert has_error_next_to(html, field), (field, value)
    assert SCRIPT not in html
