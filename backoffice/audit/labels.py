"""What the audit trail calls each kind of record and each field, in one place.

Rows record column names (they must outlive any relabelling); the trail and its export show these
labels instead. A field named the same in many tables (`patient_id`, `notes`) has one label in
`COMMON`; `BY_TABLE` holds what is particular to a table. A test checks that every column of every
audited table has a label here, so a new column is labelled when it is added.
"""

from __future__ import annotations

RECORDS: dict[str, str] = {
    "staff_user": "staff account",
    "scs_trial": "SCS trial",
    "psych_evaluation": "psychological evaluation",
    "outside_procedure": "procedure done elsewhere",
    "procedure_type": "procedure",
    "device_model": "device model",
    "coverage": "insurance coverage",
    "device_status_change": "device status change",
    "office_hours": "opening hours",
    "follow_up": "follow-up",
    "clinical_settings": "clinical rule settings",
    "audit_event": "audit trail",
}

COMMON: dict[str, str] = {
    "patient_id": "Patient",
    "office_id": "Office",
    "physician_id": "Physician",
    "appointment_id": "Appointment",
    "device_id": "Device",
    "recorded_by_id": "Recorded by",
    "notes": "Notes",
    "active": "Active",
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "address": "Address",
    "city": "City",
    "state": "State",
    "postal_code": "ZIP code",
    "manufacturer": "Manufacturer",
    "model": "Model",
    "gtin": "GTIN",
    "kind": "Kind",
    "mri_conditional": "MRI conditional",
    "rechargeable": "Rechargeable",
    "reservoir_ml": "Reservoir (mL)",
    "drug": "Drug",
    "concentration_mg_ml": "Concentration (mg/mL)",
    "daily_dose_mg": "Daily dose (mg)",
    "status": "Status",
    "decision": "Decision",
    "reason": "Reason",
    "weekday": "Weekday",
    "baseline_nrs": "Pain before (0–10)",
    "mrn": "MRN",
}

BY_TABLE: dict[str, dict[str, str]] = {
    "staff_user": {
        "username": "Username", "full_name": "Full name", "roles": "Roles", "password_hash": "Password",
        "session_token": "Session", "must_change_password": "Must change password",
        "failed_logins": "Wrong passwords in a row", "locked_at": "Locked since",
        "last_login_at": "Last sign-in", "password_changed_at": "Password changed",
    },
    "office": {"slug": "Short name in links", "timezone": "Time zone", "active": "Open"},
    "office_hours": {"opens": "Opens", "closes": "Closes"},
    "office_closure": {"day": "Closed on"},
    "room": {"fluoroscopy": "Fluoroscopy", "sterile_implant": "Sterile implant room",
             "sedation": "Sedation", "active": "In use"},
    "physician": {"credentials": "Credentials", "npi": "NPI", "user_id": "Sign-in account"},
    "physician_schedule": {"starts": "Starts", "ends": "Ends", "effective_from": "From",
                           "effective_until": "Until"},
    "physician_leave": {"first_day": "First day", "last_day": "Last day"},
    "procedure_type": {
        "code": "Code", "category": "Category", "cpt_codes": "CPT codes",
        "duration_minutes": "Duration (minutes)", "turnover_minutes": "Room turnover (minutes)",
        "needs_fluoroscopy": "Needs fluoroscopy", "needs_sterile_implant": "Needs a sterile implant room",
        "needs_sedation": "Needs sedation", "asks_region": "Asks the region", "asks_side": "Asks the side",
        "asks_levels": "Asks the levels", "max_levels": "Most levels",
        "prior_authorization": "Prior authorization", "frequency_group": "Frequency group",
        "max_per_year": "Most per year", "min_interval": "Fewest between",
        "min_interval_unit": "Fewest between, in",
        "interval_scope": "Interval counted per", "follow_ups": "Follow-ups",
        "kind": "Clinical kind",
    },
    "clinical_settings": {
        "mbb_relief_percent": "MBB relief (%)", "mbb_relief_hours": "MBB relief (hours)",
        "blocks_for_rfa": "Blocks before RFA",
        "rfa_repeat_relief_percent": "Relief before a repeat RFA (%)",
        "rfa_repeat_relief_months": "Relief months before a repeat RFA",
        "epidural_repeat_relief_percent": "Relief before a repeat epidural (%)",
        "epidural_repeat_relief_months": "Relief months before a repeat epidural",
        "facet_repeat_relief_percent": "Relief before a repeat facet injection (%)",
        "facet_repeat_relief_months": "Relief months before a repeat facet injection",
        "scs_trial_relief_percent": "SCS trial relief (%)", "soon_days": "Due soon (days)",
    },
    "patient": {
        # "payer" and "member_id": columns until migration 0030 (coverage took them), named in older rows.
        "date_of_birth": "Date of birth", "preferred_office_id": "Preferred office", "payer": "Payer",
        "member_id": "Member ID", "last_name_key": "Last name (for search)",
        "first_name_key": "First name (for search)", "phone_digits": "Phone (for search)",
        "sex": "Sex", "emergency_contact_name": "Emergency contact",
        "emergency_contact_relationship": "Emergency contact's relationship",
        "emergency_contact_phone": "Emergency contact's phone", "referring_name": "Referring physician",
        "referring_practice": "Referring practice", "referring_phone": "Referring physician's phone",
        "referring_fax": "Referring physician's fax", "primary_care_name": "Primary care physician",
        "primary_care_practice": "Primary care practice", "primary_care_phone": "Primary care physician's phone",
        "primary_care_fax": "Primary care physician's fax",
    },
    "appointment": {
        "procedure_type_id": "Procedure", "room_id": "Room", "starts_at": "Starts", "ends_at": "Ends",
        "blocked_until": "Room turned over by", "region": "Region", "side": "Side",
        "levels_count": "Number of levels", "levels": "Levels", "status_changed_at": "Status changed",
        "cancel_reason": "Cancellation reason", "cancel_note": "Cancellation note",
        "replaces_id": "Reschedules appointment", "override_reason": "Override reason",
        "prior_auth_ref": "Prior authorization number", "created_by_id": "Booked by",
        "refused": "Refused because",
    },
    "follow_up": {"delay": "Delay", "due_at": "Due", "closed_reason": "Closed because"},
    "outcome": {
        "follow_up_id": "Follow-up", "recorded_on": "Recorded on", "contact": "Contact",
        "post_nrs": "Pain after (0–10)", "percent_relief": "Relief (%)", "relief_amount": "Relief lasted",
        "relief_unit": "Relief lasted (unit)", "relief_hours": "Relief (hours)",
        "relief_ongoing": "Relief ongoing", "function_change": "Function", "odi_answers": "ODI answers",
        "odi_score": "ODI score", "complications": "Complications", "decision_note": "Decision note",
        "scheduling_request_id": "Scheduling request",
    },
    "scheduling_request": {
        "procedure_type_id": "Procedure", "region": "Region", "side": "Side", "levels_count": "Number of levels",
        "levels": "Levels", "earliest_on": "Earliest day", "priority": "Priority", "note": "Note",
        "needs_override": "Needs an override", "cancel_reason": "Cancellation reason",
        "open_key": "Open for (patient, procedure, region, side)", "created_by_id": "Asked by",
    },
    "psych_evaluation": {"evaluated_on": "Evaluated on", "cleared": "Cleared", "evaluator": "Evaluator"},
    "outside_procedure": {
        "procedure_type_id": "Procedure", "performed_on": "Done on", "region": "Region", "side": "Side",
        "levels_count": "Number of levels", "levels": "Levels", "facility": "Where", "performed_by": "By whom",
        "percent_relief": "Relief (%)", "relief_amount": "Relief lasted", "relief_unit": "Relief lasted (unit)",
    },
    "device_model": {"active": "In the catalog"},
    "payer": {"name_key": "Name (for uniqueness)", "prior_auth_phone": "Prior authorization phone",
              "prior_auth_fax": "Prior authorization fax", "active": "Offered for new coverage"},
    "coverage": {
        "rank": "Rank", "payer_id": "Payer", "plan_name": "Plan", "member_id": "Member ID",
        "group_number": "Group number", "relationship_to_subscriber": "Relationship to the subscriber",
        "subscriber_name": "Subscriber", "effective_on": "Effective from", "ends_on": "Ends on",
    },
    "device": {
        "device_model_id": "Catalog model", "lot": "Lot", "serial": "Serial number", "expiry": "Expiry",
        "manufactured": "Manufactured", "implanted_on": "Implanted on", "trial_id": "SCS trial",
        "site": "Site", "explanted_on": "Explanted on", "explant_reason": "Explant reason",
        "successor_id": "Replaced by", "eri_on": "ERI on", "replacement_due_on": "Replacement due",
        "next_refill_on": "Next refill due",
    },
    "device_status_change": {"from_status": "From", "to_status": "To", "changed_on": "Changed on",
                             "changed_by_id": "Changed by"},
    "pump_refill": {
        "refilled_on": "Refilled on", "daily_ml": "Daily volume (mL)",
        "expected_residual_ml": "Expected residual (mL)", "withdrawn_ml": "Withdrawn (mL)",
        "added_ml": "Added (mL)", "alarm_ml": "Alarm volume (mL)", "stability_days": "Drug stability (days)",
        "margin_days": "Margin (days)", "mismatch": "Residual mismatch", "next_due_on": "Next refill due",
        "alarm_note": "Alarm date note",
    },
    "scs_trial": {
        "started_on": "Started on", "planned_end_on": "Planned end", "appointment_id": "Trial appointment",
        "pain_reduction_percent": "Pain reduction (%)", "analgesic_reduction_percent": "Analgesic reduction (%)",
        "ended_on": "Trial ended on", "result_source": "Result entered on", "decided_on": "Decided on",
        "implant_appointment_id": "Implant appointment",
    },
    "device_recall": {"query": "Searched for", "devices": "Devices found"},
    "audit_event": {"patient_mrn": "Patient MRN", "events": "Events"},
}


def record_label(entity_type: str) -> str:
    """"pump refill", "staff account": the kind of record an event is about."""
    return RECORDS.get(entity_type, entity_type.replace("_", " "))


def has_label(entity_type: str, key: str) -> bool:
    return key in BY_TABLE.get(entity_type, {}) or key in COMMON


def field_label(entity_type: str, key: str) -> str:
    """The label of a recorded field; a key nobody labelled yet reads as words, not as a column."""
    found = BY_TABLE.get(entity_type, {}).get(key) or COMMON.get(key)
    if found:
        return found
    words = key.removesuffix("_id").replace("_", " ")
    return words[:1].upper() + words[1:]
