"""The week log's day row and the phone's day sheet: one set of bounds, one urgency scale, each
form in its own words."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from prescriptions.companion.forms import DaySheetForm
from prescriptions.logs.forms import DayForm

KEY = "k" * 16


def _day(**typed: str) -> DayForm:
    form = DayForm(MultiDict(typed))
    form.validate()
    return form


def _sheet(**typed: str) -> DaySheetForm:
    form = DaySheetForm(MultiDict({"form_key": KEY, "key": "i" * 16, **typed}), expected_key=KEY)
    form.validate()
    return form


@pytest.mark.parametrize(("field", "high"), [("leaks", 50), ("longest_hold_s", 120), ("pain", 10)])
def test_both_forms_take_a_day_up_to_the_same_bound(field, high):
    assert not _day(**{field: str(high)}).errors and not _sheet(**{field: str(high)}).errors
    assert _day(**{field: str(high + 1)}).errors[field] == [f"0 to {high}."]
    assert _sheet(**{field: str(high + 1)}).errors[field] == [f"A number from 0 to {high}."]


def test_sessions_done_stop_at_ten_on_the_week_form():
    assert not _day(sessions_done="10").errors
    assert _day(sessions_done="11").errors["sessions_done"] == ["0 to 10."]


def test_the_urgency_scale_reads_as_each_page_words_it():
    table = [(c[0], c[1]) for c in _day().urgency.iter_choices()]
    phone = [(c[0], c[1]) for c in _sheet().urgency.iter_choices()]
    assert [label for _, label in table] == ["–", "0 none", "1 mild", "2 moderate", "3 severe"]
    assert [label for _, label in phone] == [
        "Not filled in", "0: none", "1: mild", "2: moderate", "3: severe",
    ]  # fmt: skip
    assert (
        [value for value, _ in table] == [value for value, _ in phone] == ["", "0", "1", "2", "3"]
    )
    assert _day(urgency="2").urgency.data == 2 and _sheet(urgency="").urgency.data is None
    assert "urgency" in _sheet(urgency="4").errors
