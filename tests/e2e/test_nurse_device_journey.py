"""The nurse's device journey in a real browser: a new pump from its scanned UDI barcode, then its
first refill and the next refill date; a raw scan, group separators and all, saved as it is."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from .test_sign_in import sign_in

pytestmark = pytest.mark.browser

UDI = "(01)00643169001763(17)280131(10)LOT123(21)SN456"
GS = "\x1d"   # the group separator a scanner sends after a variable-length field
RAW_SCAN = f"]d201006431690017631728013110LOT123{GS}21SN456"


def open_new_device_form(page, last_name: str, mrn: str) -> None:
    page.get_by_label("Find a patient").fill(mrn)
    page.get_by_label("Find a patient").press("Enter")
    page.get_by_role("link", name=re.compile(last_name)).first.click()
    page.wait_for_url(re.compile(r".*/patients/\d+$"))
    page.get_by_role("link", name="Add device").click()


def test_a_nurse_pastes_a_udi_records_the_pump_then_a_refill_and_sees_the_next_due_date(page, first_patient):
    last_name, mrn = first_patient
    page.goto("/patients")
    sign_in(page, "nurse")
    page.wait_for_url("**/patients")
    page.get_by_label("Find a patient").fill(mrn)
    page.get_by_label("Find a patient").press("Enter")
    page.get_by_role("link", name=re.compile(last_name)).first.click()
    page.wait_for_url(re.compile(r".*/patients/\d+$"))
    page.get_by_role("link", name="Add device").click()

    page.get_by_label("Scan or paste the UDI barcode").fill(UDI)
    page.get_by_label("Scan or paste the UDI barcode").press("Enter")   # as a scanner ends its string
    assert page.get_by_text("Read from the barcode: check the fields, then save.").is_visible()
    assert page.get_by_label("GTIN").input_value() == "00643169001763"
    assert page.get_by_label("Lot").input_value() == "LOT123"
    assert page.get_by_label("Serial number").input_value() == "SN456"
    assert page.get_by_label("Expiry").input_value() == "2028-01-31"
    assert page.get_by_label("Model", exact=True).input_value() == "SynchroMed II 40 mL"   # from the catalog
    assert page.get_by_label("Reservoir (mL, pumps)").input_value() == "40.00"
    page.get_by_label("Site").fill("Right lower abdomen")
    page.get_by_role("button", name="Save device").click()
    page.wait_for_url(re.compile(r".*/devices/\d+$"))
    assert page.get_by_text("Intrathecal pump recorded").is_visible()

    page.get_by_role("link", name="Record refill").click()
    page.get_by_role("combobox", name=re.compile(r"^Drug")).fill("Morphine")
    page.get_by_label("Concentration (mg/mL)").fill("2")
    page.get_by_label("Daily dose (mg/day)").fill("1")     # 0.5 mL a day
    page.get_by_label("Withdrawn (mL)").fill("0")
    assert page.get_by_label("Added (mL)").input_value() == "40.00"
    page.get_by_role("button", name="Record refill").click()
    page.wait_for_url(re.compile(r".*/devices/\d+$"))
    # (40 - 2 mL alarm) / 0.5 mL a day = 76 days, under the 90-day stability; less the 7-day margin.
    due = (date.today() + timedelta(days=69)).strftime("%m/%d/%Y")
    assert page.get_by_text(f"Next refill due {due}").is_visible()
    assert page.get_by_role("definition").filter(has_text=due).is_visible()
    assert page.console_errors == []


def test_a_raw_gs1_scan_fills_the_form_and_saves_with_the_group_separator_still_in_the_box(page, first_patient):
    last_name, mrn = first_patient
    page.goto("/patients")
    sign_in(page, "nurse")
    page.wait_for_url("**/patients")
    open_new_device_form(page, last_name, mrn)

    barcode = page.get_by_label("Scan or paste the UDI barcode")
    barcode.focus()
    page.keyboard.type(RAW_SCAN)          # as a keyboard-wedge scanner types it, the GS character included
    barcode.press("Enter")                # the scanner's suffix: waits for the page it submits to
    assert page.get_by_text("Read from the barcode: check the fields, then save.").is_visible()
    assert barcode.input_value() == RAW_SCAN
    assert page.get_by_label("Lot").input_value() == "LOT123"
    page.get_by_label("Site").fill("Right lower abdomen")
    page.get_by_role("button", name="Save device").click()     # nothing cleared by hand
    page.wait_for_url(re.compile(r".*/devices/\d+$"))
    assert page.get_by_text("Intrathecal pump recorded").is_visible()
    details = page.locator("dl").first.inner_text()
    for shown in ("00643169001763", "LOT123", "SN456", "01/31/2028"):
        assert shown in details
    assert page.console_errors == []
