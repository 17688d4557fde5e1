from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.validators import NumberRange, Optional

from backoffice.core.db import MAX_ID
from backoffice.core.forms import (
    FiniteDecimalField,
    _snapshot,
    id_field,
    link_args,
    local_path,
    page_args,
    page_number,
    parse_int,
    query_int,
    text,
    tidy_name,
)


@pytest.mark.parametrize("typed, kept", [
    ("maria", "Maria"), ("GONZALEZ", "Gonzalez"), ("o'brien", "O'Brien"), ("smith-jones", "Smith-Jones"),
    ("McDonald", "McDonald"), ("van der Berg", "van der Berg"), ("DeShawn", "DeShawn"),
])
def test_names_typed_in_one_case_get_capitals_and_others_are_kept(typed, kept):
    assert tidy_name(typed) == kept


@pytest.mark.parametrize("raw, parsed", [
    ("1", 1), ("007", 7), (str(MAX_ID), MAX_ID), ("²", None), ("٣", None), ("", None), (None, None), ("0", None),
    ("-1", None), ("+1", None), (" 1", None), ("1e3", None), ("1_000", None), (str(MAX_ID + 1), None),
    ("99999999999999999999", None), ("9" * 10_000, None), ("1\x00", None), (["1"], None),
])
def test_ids_are_ascii_digits_the_database_can_hold(raw, parsed):
    assert parse_int(raw) == parsed


def test_a_whole_number_is_read_within_its_own_bounds():
    args = MultiDict({"days": "30", "page": "10001"})
    assert query_int(args, "days", low=7, high=30) == 30
    assert query_int(args, "days", low=1, high=14) is None
    assert page_number(args, "page") == 1 and page_number(args, "missing") == 1


class Amounts(Form):
    volume = FiniteDecimalField(validators=[Optional(), NumberRange(0, 100)])
    record_id = id_field()


@pytest.mark.parametrize("typed", ["NaN", "sNaN", "-sNaN", "Infinity", "-Infinity", "inf", "nan"])
def test_an_amount_that_is_not_a_number_gets_a_message_rather_than_an_error(typed):
    form = Amounts(MultiDict({"volume": typed}))
    assert not form.validate()
    assert form.volume.errors[0] == "Give a number."


def test_a_finite_amount_is_read_and_range_checked():
    assert Amounts(MultiDict({"volume": "40.5"})).validate()
    assert not Amounts(MultiDict({"volume": "1e30"})).validate()


@pytest.mark.parametrize("typed", ["0", "-1", str(MAX_ID + 1), "99999999999999999999"])
def test_an_id_out_of_the_database_range_gets_a_message(typed):
    form = Amounts(MultiDict({"record_id": typed}))
    assert not form.validate()
    assert form.record_id.errors == ["This is not one of the records on offer."]


def test_links_keep_only_what_the_page_parsed():
    assert link_args({"office": 2, "who": "all", "days": None, "horizon": ""}) == {"office": "2", "who": "all"}
    assert page_args({"overdue": 50, "today": 0}, 25) == {"overdue_page": 3}


@pytest.mark.parametrize("original", ['["first_name"]', '"x"', "7", "null", '{"first_name": "Ada"}',
                                      '{"first_name": [1]}', '{"first_name": [["Ada"]]}', "[" * 100_000, "{"])
def test_a_snapshot_that_is_not_what_the_form_wrote_counts_as_none(original):
    assert _snapshot(original) == {}


def test_the_snapshot_the_form_wrote_is_read_back():
    assert _snapshot('{"first_name": ["Ada"], "roles": []}') == {"first_name": ["Ada"], "roles": []}


@pytest.mark.parametrize("back", ["/offices/annapolis/board\r\nSet-Cookie: x=1", "/offices/a%0d%0ab",
                                  "//evil.example", "https://evil.example/", "/offices/a\x00", "offices/a"])
def test_a_path_to_go_back_to_refuses_anything_but_a_plain_local_path(back):
    assert local_path(back) is None


class Notes(Form):
    note = text("Note", 200, required=False)
    barcode = text("Barcode", 200, required=False, allowed_controls="\x1d")


@pytest.mark.parametrize("note, barcode, refused", [
    ("pain < 3", "0100643169001763\x1d21SN1", set()),
    ("a\x1db", "", {"note"}),                      # a group separator only where it is allowed
    ("", "01006431690017631\x07", {"barcode"}),     # and no other control character there
    ("", "<b>0100643169001763", {"barcode"}),       # nor markup
])
def test_text_refuses_control_characters_but_those_a_field_allows(note, barcode, refused):
    form = Notes(MultiDict({"note": note, "barcode": barcode}))
    form.validate()
    assert set(form.errors) == refused
