"""US phone numbers: parsed and formatted by the `phonenumbers` library. Pure."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

REGION = "US"
MAX_EXTENSION_DIGITS = 7


def parse_phone(raw: str) -> str | None:
    """The number in E.164 form (+14105550123), with an extension as RFC 3966 writes it
    (+14105550123;ext=22); None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if number.extension and len(number.extension) > MAX_EXTENSION_DIGITS:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{e164};ext={number.extension}" if number.extension else e164


@lru_cache(maxsize=8192)  # parsing is slow and a worklist shows a hundred numbers
def format_phone(e164: str | None) -> str:
    """(410) 555-0123 (ext. 22) for US numbers, the international form otherwise; anything that
    is not a number comes back as it is."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, REGION)
    except phonenumbers.NumberParseException:
        return e164
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 1
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


def search_digits(e164: str | None) -> str | None:
    """The national digits people type when they search (4105550123)."""
    if not e164:
        return None
    number = phonenumbers.parse(e164, REGION)
    return str(number.national_number)
