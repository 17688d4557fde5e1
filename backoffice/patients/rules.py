"""Patient search, identifiers and the values a patient record holds. Pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from stdnum import luhn

MRN_LENGTH = 8
MAX_RESULTS = 50
DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y", "%m/%d/%y")
KEY_LENGTH = 60  # of the stored search keys; folding can lengthen a name ("ß" -> "ss")
# Where a name splits into the words it is found by: spaces, hyphens and dashes, periods. An
# apostrophe keeps its word whole ("O'Brien" is found as "obrien", not "brien").
WORD_BREAKS = re.compile(r"[\s.\-\u2010-\u2015]+")


class Sex(StrEnum):
    """Administrative sex as US practice systems record it (HL7 administrative sex F, M, O, U);
    the pregnancy checks will read it."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class NamePart(StrEnum):
    GIVEN = "given"
    FAMILY = "family"


def name_key(raw: str) -> str:
    """What names are compared by: lower case, accents, spaces and punctuation removed
    ("O'Brien-Núñez" -> "obriennunez"), at most KEY_LENGTH characters."""
    decomposed = unicodedata.normalize("NFKD", raw.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))[:KEY_LENGTH]


def name_tokens(name: str) -> tuple[str, ...]:
    """The keys a name is found by: the whole name's, then each word's when it has several
    ("O'Brien-Núñez" -> "obriennunez", "obrien", "nunez"; "Garcia Lopez" -> "garcialopez",
    "garcia", "lopez"), none twice."""
    keys = [name_key(name)] + [name_key(word) for word in WORD_BREAKS.split(name)]
    return tuple(dict.fromkeys(key for key in keys if key))


def patient_name_tokens(first_name: str, last_name: str) -> list[tuple[NamePart, str]]:
    """What a patient is found by: each token of the given name and of the family name."""
    return ([(NamePart.GIVEN, token) for token in name_tokens(first_name)]
            + [(NamePart.FAMILY, token) for token in name_tokens(last_name)])


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
    family_names: int = 0  # with last_name_first: how many of `names` came before the comma
    date_of_birth: date | None = None
    digits: str | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not (self.names or self.date_of_birth or self.digits)

    def name_parts(self) -> tuple[tuple[str, NamePart | None], ...]:
        """Each name typed, with the part of the patient's name one of whose words it must begin:
        in "last, first" the names before the comma are family names and those after it given
        names; otherwise either part (None)."""
        if not self.last_name_first:
            return tuple((name, None) for name in self.names)
        return tuple((name, NamePart.FAMILY if index < self.family_names else NamePart.GIVEN)
                     for index, name in enumerate(self.names))


def parse_date(token: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(token, fmt).date()
        except ValueError:
            continue
        return parsed
    return None


def _is_number(token: str) -> bool:
    return any(ch.isdigit() for ch in token) and not any(ch.isalpha() for ch in token)


def _names_in(text: str) -> list[str]:
    return [key for token in re.split(r"[\s,]+", text) if not _is_number(token) and (key := name_key(token))]


def parse_search(text: str) -> SearchTerms:
    """Names ("smith", "john smi", "smith, john", "lopez garcia, maria"), a date of birth
    (11/24/1950 or 1950-11-24), an MRN or a phone number (digits, at least 3; dashes and brackets
    ignored)."""
    text = text.strip()[:100]
    last_name_first = "," in text
    date_of_birth: date | None = None
    digits: str | None = None
    problems: list[str] = []
    for token in filter(_is_number, re.split(r"[\s,]+", text)):
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
    if digits and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    names = tuple(_names_in(text)[:3])
    family_names = min(len(_names_in(text.partition(",")[0])), len(names)) if last_name_first else 0
    return SearchTerms(names, last_name_first, family_names, date_of_birth, digits, tuple(problems))
