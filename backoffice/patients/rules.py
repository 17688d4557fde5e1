"""Patient search and identifiers. Pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from stdnum import luhn

MRN_LENGTH = 8
MAX_RESULTS = 50
DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y", "%m/%d/%y")


def name_key(raw: str) -> str:
    """What names are compared by: lower case, accents, spaces and punctuation removed
    ("O'Brien-Núñez" -> "obriennunez")."""
    decomposed = unicodedata.normalize("NFKD", raw.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def mrn_from_number(number: int) -> str:
    """An MRN: seven digits and a Luhn check digit, so a mistyped MRN is caught."""
    body = f"{number:07d}"
    return body + luhn.calc_check_digit(body)


def is_valid_mrn(mrn: str) -> bool:
    return len(mrn) == MRN_LENGTH and mrn.isdigit() and luhn.is_valid(mrn)


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string above every string starting with `prefix`, for index range scans:
    key >= prefix AND key < prefix_upper_bound(prefix)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass(frozen=True)
class SearchTerms:
    """A search box's text split into what it can mean."""

    names: tuple[str, ...] = ()
    last_name_first: bool = False
    date_of_birth: date | None = None
    digits: str | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not (self.names or self.date_of_birth or self.digits)


def parse_date(token: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(token, fmt).date()
        except ValueError:
            continue
        return parsed
    return None


def parse_search(text: str) -> SearchTerms:
    """Names ("smith", "john smi", "smith, john"), a date of birth (11/24/1950 or 1950-11-24),
    an MRN or a phone number (digits, at least 3; dashes and brackets ignored)."""
    text = text.strip()[:100]
    last_name_first = "," in text
    names: list[str] = []
    date_of_birth: date | None = None
    digits: str | None = None
    problems: list[str] = []
    for token in re.split(r"[\s,]+", text):
        if not token:
            continue
        if any(ch.isdigit() for ch in token) and not any(ch.isalpha() for ch in token):
            as_date = parse_date(token)
            if as_date is not None:
                date_of_birth = as_date
                continue
            only_digits = re.sub(r"\D", "", token)
            if "/" in token:
                problems.append(f"{token} is not a date; write it as MM/DD/YYYY.")
            elif len(only_digits) < 3:
                problems.append("Type at least 3 digits of an MRN or phone number.")
            else:
                digits = (digits or "") + only_digits
            continue
        key = name_key(token)
        if key:
            names.append(key)
    if digits and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return SearchTerms(tuple(names[:3]), last_name_first, date_of_birth, digits, tuple(problems))
