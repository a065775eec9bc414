"""The demo seed: batched inserts (issue 12, item 11) and a clinic that looks like a real week."""

from __future__ import annotations

import re
from collections import Counter

from prescriptions.commands.demo import seed_demo
from prescriptions.extensions import db
from prescriptions.models import LogEntry, Patient, Plan, PlanItem
from tests.conftest import PASSWORD, count

BULK = ("patient", "assessment", "plan", "plan_item", "log_entry")


def _inserts(statements: list[str]) -> Counter[str]:
    tables = (re.match(r'\s*INSERT INTO "?(\w+)', s) for s in statements)
    return Counter(m.group(1) for m in tables if m)


def test_every_bulk_insert_of_the_seed_is_batched(app, count_queries):
    """However many patients, each table takes a handful of statements, never one a row."""
    seen = []
    for patients in (10, 40):
        with count_queries() as counter, app.app_context():
            seed_demo(patients, PASSWORD)
            db.session.commit()
            dialect = db.engine.dialect.name
        seen.append(_inserts(counter.statements))
    assert count(Patient, app) == 50 and count(PlanItem, app) > 200 and count(LogEntry, app) > 50
    for inserts in seen:
        for table in BULK:
            # PostgreSQL loads them with COPY, which is no INSERT at all
            assert inserts[table] <= (0 if dialect == "postgresql" else 3), (table, inserts)
    assert [{t: s[t] for t in BULK} for s in seen] == [{t: seen[0][t] for t in BULK}] * 2
    assert count(Plan, app) > 50
