"""The clinic's plans, items and logs as CSV, streamed in pages."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ..domain.adherence import LOG_FIELDS
from ..domain.progression import DOSE_FIELDS
from .record import _iso

PLAN_COLUMNS = (
    "plan_id", "patient_id", "chart_number", "given_name", "family_name", "title",
    "template_code", "approach", "status", "status_reason", "revision", "revises_id",
    "start_date", "end_date", "author", "issued_at", "issued_by", "closed_at", "created_at",
    "updated_at",
)  # fmt: skip


ITEM_COLUMNS = (
    "plan_id", "chart_number", "plan_status", "week", "order", "exercise_code", "exercise",
    *DOSE_FIELDS,
)  # fmt: skip


LOG_COLUMNS = (
    "plan_id", "chart_number", "day", "sessions_prescribed", *LOG_FIELDS, "entered_by",
    "created_at", "updated_at",
)  # fmt: skip


#: A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: A formula start after anything a spreadsheet may split cells or rows on (many European
#: spreadsheets split on ";"), even behind spaces or a quote: `Smith;=1+1`, `a| "=1"`.
_FORMULA_AFTER_SEPARATOR = re.compile(r"""([,;|\t\r\n][ "]*)([=+\-@])""")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell; text a spreadsheet could run as a formula gets a ' in front."""
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return _iso(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        value = _FORMULA_AFTER_SEPARATOR.sub(r"\1'\2", value)
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return value


def item_records(
    rows: Iterable[Mapping[str, Any]], exercise_names: Mapping[str, str]
) -> Iterator[dict[str, Any]]:
    """Plan item rows with the exercise's name beside its code."""
    for row in rows:
        record = dict(row)
        record["order"] = record.pop("seq")
        record["exercise"] = exercise_names.get(record["exercise_code"], record["exercise_code"])
        yield record


def csv_chunks(
    columns: Sequence[str], pages: Iterable[Iterable[Mapping[str, Any]]]
) -> Iterator[str]:
    """CSV text, one chunk for the header and one per page of rows (ready to stream)."""
    buffer = io.StringIO()
    # Every text cell in quotes, so a spreadsheet splitting on another separator keeps it whole.
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(columns)
    # A byte-order mark so spreadsheet programs read names like Łucja as UTF-8.
    yield "\ufeff" + _drain(buffer)
    for page in pages:
        for row in page:
            writer.writerow([csv_cell(row[name]) for name in columns])
        chunk = _drain(buffer)
        if chunk:
            yield chunk


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
