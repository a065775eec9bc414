"""The demo seed: batched inserts (issue 12, item 11) and a clinic that looks like a real week."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import sqlalchemy as sa

from prescriptions.commands.demo import seed_demo
from prescriptions.extensions import db
from prescriptions.models import LogEntry, Patient, Plan, PlanItem
from tests.factories import PASSWORD, count, login

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


def test_the_demo_has_an_administrator_and_prints_both_logins(app, runner, client):
    result = runner.invoke(args=["seed-demo", "--patients", "3", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert f"demo@floorplan.test with the password {PASSWORD}" in result.output
    assert f"admin@floorplan.test with the password {PASSWORD}" in result.output
    admin = app.test_client()
    assert login(admin, "admin@floorplan.test").status_code == 302
    assert admin.get("/admin/audit").status_code == 200
    assert login(client, "demo@floorplan.test").status_code == 302
    again = runner.invoke(args=["seed-demo", "--patients", "1"])
    assert "admin@floorplan.test (its password is unchanged)" in again.output


def test_the_demo_looks_like_a_week_of_a_clinic(app, client):
    """Most patients on a programme, a draft or two, some finished: not twelve drafts."""
    with app.app_context():
        seed_demo(12, PASSWORD)
        db.session.commit()
        statuses = Counter(db.session.scalars(sa.select(Plan.status)))
        today = date.today()
        days = db.session.scalars(sa.select(LogEntry.day)).all()
    assert statuses["draft"] <= 2 and statuses["issued"] >= 6
    assert statuses["completed"] >= 2 and statuses["superseded"] >= 1
    assert statuses["cancelled"] >= 1
    assert days and max(days) < today  # sheets come back for days gone by
    assert login(client, "demo@floorplan.test").status_code == 302
    page = client.get("/").get_data(as_text=True)
    drafts = page[page.index("drafts") :]
    assert page.count("/edit") <= 2, drafts[:500]
    assert "ends " in page  # a plan or two ending this week


def test_the_demo_seeds_programmes_at_every_stage(app):
    """Block 1 running, block 2 proposed from block 1's sheets, finished and stopped ones."""
    from prescriptions.models import Programme

    with app.app_context():
        seed_demo(20, PASSWORD)
        db.session.commit()
        statuses = Counter(db.session.scalars(sa.select(Programme.status)))
        blocks = Counter(db.session.execute(sa.select(Plan.block_number, Plan.status)).all())
        reasons = db.session.scalars(
            sa.select(PlanItem.reason)
            .join(Plan)
            .where(Plan.block_number > 1, PlanItem.reason != "")
        ).all()
        orphans = db.session.scalar(sa.select(sa.func.count()).where(Plan.programme_id.is_(None)))
    assert statuses["running"] >= 10 and statuses["finished"] >= 2 and statuses["stopped"] >= 1
    assert blocks[(2, "issued")] >= 2 and blocks[(3, "completed")] >= 2
    assert reasons and any("logged days" in r for r in reasons)
    assert orphans == 0
