"""Templates carry no week counts, status literals or ad-hoc formats: one date and one percentage
filter, and the vocabulary from the domain."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from prescriptions.domain.vocab import PlanStatus
from prescriptions.web import format_date, format_share

TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "templates").rglob("*.html"))

FORBIDDEN = {
    "a hard-coded week count": re.compile(r"range\(1,\s*5\)|week\s*[<>]=?\s*4\b"),
    "a status literal": re.compile("['\"](?:" + "|".join(s.value for s in PlanStatus) + ")['\"]"),
    "a date formatted in place": re.compile(r"\.strftime\(|\.isoformat\("),
    "a percentage computed in place": re.compile(r"\*\s*100\b"),
}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_templates_use_the_shared_vocabulary_and_filters(path):
    text = path.read_text(encoding="utf-8")
    found = [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert not found, found


def test_one_date_filter_in_every_house_style():
    day = date(2026, 12, 7)
    assert format_date(day) == "Mon 07 Dec"
    assert format_date(day, "full") == "Mon 07 Dec 2026"
    assert format_date(day, "long") == "Monday 07 December 2026"
    assert format_date(day, "iso") == "2026-12-07"
    assert format_date(datetime(2026, 12, 7, 9, 5), "stamp") == "2026-12-07 09:05 UTC"
    assert format_date(None) == ""
    with pytest.raises(KeyError):
        format_date(day, "american")


def test_one_percentage_filter():
    assert format_share(0.5) == "50%"
    assert format_share(2 / 3) == "67%"
    assert format_share(0) == "0%"
    assert format_share(None) == "–"


def test_the_filters_are_what_templates_get(app):
    assert app.jinja_env.filters["date"] is format_date
    assert app.jinja_env.filters["pct"] is format_share
    assert list(app.jinja_env.globals["WEEKS"]) == [1, 2, 3, 4]
