"""Date arithmetic the record shows (pure functions)."""

from __future__ import annotations

from datetime import date


def age_on(born: date, on: date) -> int:
    """Whole years of age on a day (a 29 February birthday counts from 1 March in other years)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
