from __future__ import annotations

from datetime import date

import pytest

from backoffice.core.phones import format_phone, parse_phone, search_digits
from backoffice.patients import rules


@pytest.mark.parametrize("raw, key", [
    ("Smith", "smith"),
    ("O'Brien", "obrien"),
    ("Smith-Jones", "smithjones"),
    ("Núñez", "nunez"),
    ("  van der Berg ", "vanderberg"),
    ("<script>", "script"),
    ("ß" * 60, "ss" * 30),  # folding lengthens a name; the key still fits its column
])
def test_names_compare_without_case_accents_or_punctuation(raw, key):
    assert rules.name_key(raw) == key


@pytest.mark.parametrize("raw, tokens", [
    ("Smith", ("smith",)),
    ("O'Brien", ("obrien",)),                                   # an apostrophe keeps the word whole
    ("D’Angelo", ("dangelo",)),                                 # typographic apostrophe too
    ("O'Brien-Nguyen", ("obriennguyen", "obrien", "nguyen")),
    ("Garcia Lopez", ("garcialopez", "garcia", "lopez")),
    ("  van der  Berg ", ("vanderberg", "van", "der", "berg")),
    ("Núñez-GARCÍA", ("nunezgarcia", "nunez", "garcia")),      # accents folded, case ignored
    ("McDonald", ("mcdonald",)),                                # mixed case is one word
    ("St. John", ("stjohn", "st", "john")),
    ("Jean–Luc", ("jeanluc", "jean", "luc")),                   # an en dash typed for a hyphen
    ("Smith-Smith", ("smithsmith", "smith")),                   # no token twice
    ("Mary-", ("mary",)),
    ("-", ()),
])
def test_a_name_is_found_by_each_of_its_words_and_by_the_whole(raw, tokens):
    assert rules.name_tokens(raw) == tokens


def test_a_patient_is_found_by_the_tokens_of_each_part_of_the_name():
    assert rules.patient_name_tokens("Mary Ann", "O'Brien") == [
        (rules.NamePart.GIVEN, "maryann"), (rules.NamePart.GIVEN, "mary"), (rules.NamePart.GIVEN, "ann"),
        (rules.NamePart.FAMILY, "obrien")]


@pytest.mark.parametrize("text, parts", [
    ("nguyen", (("nguyen", None),)),
    ("john smith", (("john", None), ("smith", None))),
    ("Smith, Jo", (("smith", "family"), ("jo", "given"))),
    ("lopez garcia, maria jose", (("lopez", "family"), ("garcia", "family"), ("maria", "given"))),
    ("O'Brien-Nguyen, Linh", (("obriennguyen", "family"), ("linh", "given"))),
    ("smith,", (("smith", "family"),)),
    (", ann", (("ann", "given"),)),
    ("smith 1950-11-24, john", (("smith", "family"), ("john", "given"))),
])
def test_a_comma_says_which_names_are_family_names(text, parts):
    assert rules.parse_search(text).name_parts() == parts


@pytest.mark.parametrize("text, names, last_first, dob, digits", [
    ("smith", ("smith",), False, None, None),
    ("Smith, Jo", ("smith", "jo"), True, None, None),
    ("jo smith", ("jo", "smith"), False, None, None),
    ("11/24/1950", (), False, date(1950, 11, 24), None),
    ("1950-11-24", (), False, date(1950, 11, 24), None),
    ("smith 3/4/1961", ("smith",), False, date(1961, 3, 4), None),
    ("1234567", (), False, None, "1234567"),
    ("(410) 555-0123", (), False, None, "4105550123"),
    ("+1 410 555 0123", (), False, None, "4105550123"),
    ("", (), False, None, None),
])
def test_search_text_is_split_into_names_dates_and_digits(text, names, last_first, dob, digits):
    terms = rules.parse_search(text)
    assert (terms.names, terms.last_name_first, terms.date_of_birth, terms.digits) == \
        (names, last_first, dob, digits)


@pytest.mark.parametrize("text, problem", [
    ("13/45/2000", "not a date"),
    ("12", "at least 3 digits"),
])
def test_search_explains_what_it_cannot_read(text, problem):
    terms = rules.parse_search(text)
    assert terms.is_empty
    assert problem in terms.problems[0]


def test_search_text_is_capped():
    assert len("".join(rules.parse_search("a" * 5000).names)) <= 100


@pytest.mark.parametrize("number", [1_000_000, 4_567_891, 9_999_999])
def test_mrns_carry_a_check_digit(number):
    mrn = rules.mrn_from_number(number)
    assert len(mrn) == 8 and rules.is_valid_mrn(mrn)
    mistyped = mrn[:-2] + str((int(mrn[-2]) + 1) % 10) + mrn[-1]
    assert not rules.is_valid_mrn(mistyped)


@pytest.mark.parametrize("prefix, bound", [("smi", "smj"), ("a", "b"), ("410", "411"), ("az", "a{")])
def test_prefix_upper_bound_closes_the_index_range(prefix, bound):
    assert rules.prefix_upper_bound(prefix) == bound
    assert prefix + "zzzz" < bound


@pytest.mark.parametrize("raw, e164, shown", [
    ("410-555-0123", "+14105550123", "(410) 555-0123"),
    ("(443) 555 0100", "+14435550100", "(443) 555-0100"),
    ("555-0123", None, ""),
    ("phone me", None, ""),
])
def test_phone_numbers_are_parsed_and_shown_the_us_way(raw, e164, shown):
    assert parse_phone(raw) == e164
    assert format_phone(e164) == shown


def test_phone_search_uses_national_digits():
    assert search_digits("+14105550123") == "4105550123"
    assert search_digits(None) is None


@pytest.mark.parametrize("raw, stored, shown", [
    ("410-555-0100 x22", "+14105550100;ext=22", "(410) 555-0100 ext. 22"),
    ("(410) 555-0100 ext. 1234", "+14105550100;ext=1234", "(410) 555-0100 ext. 1234"),
    ("410-555-0100 x12345678", None, ""),
])
def test_phone_extensions_are_kept(raw, stored, shown):
    assert parse_phone(raw) == stored
    assert format_phone(stored) == shown


def test_text_that_is_not_a_number_is_shown_as_it_is():
    assert format_phone("+not a number") == "+not a number"
