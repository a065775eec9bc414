"""Emergency and out-of-hours numbers a clinic starts from, per country, before it confirms them.

Kept deliberately short: the numbers everyone in the country can call. A clinic elsewhere, or
with a local urgent-care line, types its own; the handout prints what the clinic saved.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CountryNumbers:
    """A country's emergency number and its national out-of-hours advice line, if any."""

    label: str
    emergency: str
    out_of_hours: str = ""  #: "" where there is no one national line (the clinic adds its own)


COUNTRIES: dict[str, CountryNumbers] = {
    "GB": CountryNumbers("United Kingdom", "999", "NHS 111"),
    "IE": CountryNumbers("Ireland", "112 or 999"),
    "US": CountryNumbers("United States", "911"),
    "EU": CountryNumbers("Elsewhere in the European Union", "112"),
}


def default_numbers(country: str) -> CountryNumbers | None:
    """The starting numbers for a country code, or None when we know none."""
    return COUNTRIES.get(country)
