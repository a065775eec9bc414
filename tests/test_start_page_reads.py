"""The start page's reads of log_entry use the indexes made for them (SQLite's query plans).

At 10,000 patients the clinic has 193,000 logged days: the read of the days logged from
patients' phones walked all of them through ix_log_clinic_day (250 ms of the page), and the
week's sums per lineage read 26,000 rows from the table. The plans are asked of the database
(EXPLAIN QUERY PLAN of the statement each fetch runs), not timed; SQLite plans by the schema
alone, PostgreSQL by its statistics, so these run on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from prescriptions.companion.queries import fetch_patient_alerts
from prescriptions.extensions import db
from prescriptions.logs.queries import fetch_low_adherence
from prescriptions.models import utcnow


def _log_entry_plan(app: Flask, fetch: Callable[[], Any]) -> list[str]:
    """SQLite's plan, step by step, for the statement reading log_entry that `fetch` runs."""
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's query plan; PostgreSQL plans by its statistics")
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            fetch()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        (statement, parameters), *_ = [s for s in statements if "FROM log_entry" in s[0]]
        rows = db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters
        )
        return [row[-1] for row in rows]


def test_the_phone_logged_days_are_read_from_their_own_index(app, make_clinic):
    clinic = make_clinic()
    steps = _log_entry_plan(app, lambda: fetch_patient_alerts(clinic, utcnow() - timedelta(14), 6))
    assert "SEARCH log_entry USING INDEX ix_log_clinic_phone_updated " in "\n".join(steps), steps
    assert not any("FOR ORDER BY" in step for step in steps), steps  # latest first already


def test_the_weeks_sums_per_lineage_are_read_from_the_index_alone(app, make_clinic):
    clinic = make_clinic()
    today = date.today()
    steps = _log_entry_plan(
        app, lambda: fetch_low_adherence(clinic, today - timedelta(7), today - timedelta(1))
    )
    assert "SEARCH log_entry USING COVERING INDEX ix_log_clinic_day " in "\n".join(steps), steps
