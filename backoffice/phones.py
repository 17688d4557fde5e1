"""US phone numbers: parsed and formatted by the `phonenumbers` library. Pure."""

from __future__ import annotations

import phonenumbers

REGION = "US"


def parse_phone(raw: str) -> str | None:
    """The number in E.164 form (+14105550123), or None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """(410) 555-0123 for US numbers, the international form otherwise."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, REGION)
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 1
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


def search_digits(e164: str | None) -> str | None:
    """The national digits people type when they search (4105550123)."""
    if not e164:
        return None
    number = phonenumbers.parse(e164, REGION)
    return str(number.national_number)
