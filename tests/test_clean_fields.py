"""The shared text fields: both trim and refuse control characters; only the multi-line one
keeps line breaks."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form

from prescriptions.web.forms import CleanString, CleanText


class _Sample(Form):
    name = CleanString()
    notes = CleanText()


def _checked(**data: str) -> _Sample:
    form = _Sample(MultiDict(data))
    form.validate()
    return form


def test_both_trim_and_a_missing_one_line_value_is_empty_text():
    form = _checked(notes="  Prefers mornings.  ")
    assert (form.name.data, form.notes.data, form.errors) == ("", "Prefers mornings.", {})


def test_line_breaks_are_kept_in_the_multi_line_field_only():
    form = _checked(name="Maria\nAnna", notes="First line\r\nSecond line\tand a tab")
    assert form.notes.data == "First line\r\nSecond line\tand a tab"
    assert form.errors == {"name": ["Remove the control characters from this field."]}


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f"])
def test_control_characters_are_refused_in_both(character):
    form = _checked(name=f"Ma{character}ria", notes=f"Note{character}")
    assert set(form.errors) == {"name", "notes"}
