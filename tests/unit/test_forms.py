from __future__ import annotations

import pytest

from backoffice.forms import tidy_name


@pytest.mark.parametrize("typed, kept", [
    ("maria", "Maria"), ("GONZALEZ", "Gonzalez"), ("o'brien", "O'Brien"), ("smith-jones", "Smith-Jones"),
    ("McDonald", "McDonald"), ("van der Berg", "van der Berg"), ("DeShawn", "DeShawn"),
])
def test_names_typed_in_one_case_get_capitals_and_others_are_kept(typed, kept):
    assert tidy_name(typed) == kept
