"""Plain helpers the test modules share: the test app's configuration, signing in, counting rows,
and driving the plan editor and the weekly log form the way a browser does.

Test modules import helpers from here (or take fixtures from conftest.py), never from one another.
The record factories themselves are fixtures in conftest.py (`make_plan`, `issue_plan`, ...),
built on the operations layer; the helpers here that post forms (`new_plan`, `issue`) are for
tests of those views.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from prescriptions import PROJECT_ROOT
from prescriptions.extensions import db
from prescriptions.models import Plan

PASSWORD = "correct horse battery staple"
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "")

#: The alembic scripts, for tests that upgrade or downgrade a database.
MIGRATIONS = str(PROJECT_ROOT / "migrations")

#: The databases a backup is restored into: SQLite always, PostgreSQL when the run has one.
BACKUP_TARGETS = ["sqlite"] + (["postgresql"] if SERVER_URL.startswith("postgresql") else [])


#: Text that only the `other_clinic` fixture's records hold: no page or export of the signed-in
#: clinic may contain any of it.
FOREIGN_TEXT = (
    "Elsewhere Clinic",
    "Foreign Therapist",
    "Secret",
    "Foreigner",
    "FX-9931",
    "Xylophone patient note",
    "zebulon@foreign.example",
    "Ulrike",
    "Outlander",
    "FX-9932",
    "Marmoset assessment note",
    "Okapi programme",
    "Narwhal item note",
    "Quokka log note",
    "quetzal laugh",
)


def app_config(url: str, **overrides: Any) -> dict[str, Any]:
    """The configuration every test app starts from, on the given database."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "AUTO_MIGRATE": False,
        "SERVER_NAME": None,
        **overrides,
    }


def empty_server_database() -> None:
    """Empty every table of the PostgreSQL test database (inside an app context)."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@contextmanager
def committing(app: Flask) -> Iterator[None]:
    """Run writes in an app context and commit them, as a view would."""
    with app.app_context():
        yield
        db.session.commit()


def count(model: type, app: Flask, **filters: Any) -> int:
    """Rows of a model matching the filters, read in a fresh context."""
    from prescriptions.database import count_rows

    with app.app_context():
        return count_rows(model, **filters)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the real form."""
    return client.post("/login", data={"email": email, "password": password})


def table_rows(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with app.app_context():
        return {
            table.name: [
                tuple(row)
                for row in db.session.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in db.metadata.sorted_tables
        }


#: The first-run setup form, complete, as the browser sends it.
SETUP = {
    "clinic_name": "Harbour Physio",
    "clinic_phone": "+44 20 7946 0123",
    "paper": "a4",
    "name": "Ada Admin",
    "email": "ada@harbour.test",
    "password": PASSWORD,
    "confirm": PASSWORD,
}


# --- patients through the form --------------------------------------------------------------

#: A complete new-patient form, as the browser sends it.
NEW_PATIENT = {
    "given_name": "Łucja",
    "family_name": "Wiśniewska",
    "preferred_name": "Lucy",
    "date_of_birth": "1968-03-09",
    "chart_number": "HP-0042",
    "cue_set": "female",
    "diagnoses": ["stress_ui", "prolapse"],
    "precautions": [],
    "phone": "07700 900123",
    "email": "lucja@example.org",
    "address": "3 Mill Lane",
    "notes": "Prefers morning visits.",
    "once": "t-1",
}


# --- plans through the views --------------------------------------------------------------------


def new_plan(
    client: FlaskClient,
    patient_id: int,
    template: str = "strengthening",
    once: str = "p-1",
    start: str = "2026-11-30",
    **extra: str,
) -> int:
    """Start a draft through the new-plan form (`extra`: more fields); returns its id.

    A programme the patient has running is stopped, as the form offers, unless `extra` says
    otherwise (end_running="" leaves the choice unmade).
    """
    ending = {"end_running": "stop", "end_reason": "A separate programme was started."}
    response = client.post(
        f"/patients/{patient_id}/plans/new",
        data={"template": template, "start_date": start, "once": once, **ending, **extra},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/plans/(\d+)/edit", response.location).group(1))


def editor_from_html(page: str) -> dict[str, str]:
    """The values an editor page holds (inputs with a value, and each select's choice)."""
    data = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        data[name] = value
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', body) or re.search(
            r'<option value="([^"]*)"', body
        )
        data[name] = chosen.group(1)
    data.pop("action", None)
    return data


def editor_data(client: FlaskClient, plan_id: int) -> dict[str, str]:
    """The editor's form as the browser would send it back (empty text inputs included)."""
    page = client.get(f"/plans/{plan_id}/edit").get_data(as_text=True)
    data = editor_from_html(page)
    for name in re.findall(r'<input[^>]*type="text"[^>]*name="([^"]+)"(?![^>]*value=)', page):
        data.setdefault(name, "")
    return data


def acknowledgements(client: FlaskClient, plan_id: int) -> list[str]:
    """The warning keys the plan page offers to tick before issuing."""
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    return re.findall(r'name="acknowledge" value="([^"]+)"', page)


def issue_version(page: str) -> str:
    """The plan version the issue form carries (what the clinician reviewed)."""
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


def issue(client: FlaskClient, plan_id: int) -> None:
    """Issue a draft through the plan page, ticking every warning it shows."""
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    keys = re.findall(r'name="acknowledge" value="([^"]+)"', page)
    data = {"acknowledge": keys, "version": issue_version(page)}
    assert client.post(f"/plans/{plan_id}/issue", data=data).status_code == 302


# --- the weekly log form --------------------------------------------------------------------------

LOG_FORM_FIELDS = (
    "version",
    "sessions_done",
    "longest_hold_s",
    "leaks",
    "leak_trigger",
    "urgency",
    "pain",
    "note",
)


def whole_week(filled: dict[str, str]) -> dict[str, str]:
    """A week as the browser sends it: every field of every day, the unfilled ones empty."""
    return {f"days-{n}-{f}": "" for n in range(7) for f in LOG_FORM_FIELDS} | filled


#: A start date a month in the past, so every day of the first weeks can be logged.
LOGGED_START = date(2026, 10, 5)


def prescribed(app: Flask, plan_id: int, week: int) -> int:
    """The most sessions a day any item of the plan prescribes in that week."""
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        return max(i.sessions_per_day for i in plan.items if i.week == week)


def log_form(client: FlaskClient, plan_id: int, week: int) -> dict[str, str]:
    """The per-day version fields the week's log form carries (what the browser sends back)."""
    page = client.get(f"/plans/{plan_id}/weeks/{week}/log").get_data(as_text=True)
    return {n: v for n, v in re.findall(r'name="(days-\d+-version)"[^>]*value="([^"]*)"', page)}
