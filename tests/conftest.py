"""Fixtures in the flaskr style: app, client, runner, signed-in clients and record factories.

The suite runs on a fresh SQLite file per test, or on PostgreSQL when TEST_DATABASE_URL is set
(tables created once, emptied after every test).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from prescriptions import create_app
from prescriptions.accounts.operations import create_clinic, create_user
from prescriptions.assessments.operations import add_assessment
from prescriptions.audit import SYSTEM, Actor
from prescriptions.extensions import db
from prescriptions.models import Assessment, Clinic, Patient, User
from prescriptions.patients.operations import create_patient

PASSWORD = "correct horse battery staple"
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def server_schema() -> Iterator[None]:
    """On PostgreSQL, build the schema once per run."""
    if SERVER_URL:
        app = create_app(_config(SERVER_URL))
        with app.app_context():
            db.drop_all()
            db.create_all()
            db.session.commit()
    yield


def _config(url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "AUTO_MIGRATE": False,
        "SERVER_NAME": None,
        **overrides,
    }


@pytest.fixture
def database_url(tmp_path: Any) -> str:
    return SERVER_URL or f"sqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
def app_factory(
    database_url: str, tmp_path: Any, server_schema: None
) -> Iterator[Callable[..., Flask]]:
    """Build an app on the test database with extra config; the schema exists, and is emptied."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = create_app(_config(database_url, **overrides))
        if not built:
            with app.app_context():
                if not SERVER_URL:
                    db.create_all()
                db.session.commit()
        built.append(app)
        return app

    yield build
    if built:
        with built[0].app_context():
            db.session.remove()
            if SERVER_URL:
                empty_server_database()
            db.session.remove()
            db.engine.dispose()


def empty_server_database() -> None:
    """Empty every table of the PostgreSQL test database (inside an app context)."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    return app_factory()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@contextmanager
def committing(app: Flask) -> Iterator[None]:
    """Run writes in an app context and commit them, as a view would."""
    with app.app_context():
        yield
        db.session.commit()


# --- factories through the real write path ------------------------------------------------


@pytest.fixture
def make_clinic(app: Flask) -> Callable[..., int]:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> int:
        fields = {"name": f"Clinic {next(counter)}", "phone": "+44 20 7946 0001", **overrides}
        with committing(app):
            clinic = create_clinic(fields.pop("name"), **fields)
            return clinic.id

    return make


@pytest.fixture
def make_user(app: Flask, make_clinic: Callable[..., int]) -> Callable[..., int]:
    counter = iter(range(1, 10_000))

    def make(clinic_id: int | None = None, **overrides: Any) -> int:
        clinic_id = clinic_id or make_clinic()
        n = next(counter)
        fields = {
            "email": f"user{n}@clinic{clinic_id}.test",
            "name": f"Therapist {n}",
            "role": "clinician",
            "password": PASSWORD,
            **overrides,
        }
        with committing(app):
            clinic = db.session.get(Clinic, clinic_id)
            return create_user(clinic, **fields).id

    return make


@pytest.fixture
def make_patient(app: Flask) -> Callable[..., int]:
    counter = iter(range(1, 100_000))

    def make(clinic_id: int, **overrides: Any) -> int:
        n = next(counter)
        fields: dict[str, Any] = {
            "given_name": "Maria",
            "family_name": f"Example{n}",
            "preferred_name": "",
            "date_of_birth": date(1970, 5, 17),
            "chart_number": f"C{n:05d}",
            "cue_set": "female",
            "diagnoses": ["stress_ui"],
            "precautions": [],
            "phone": "",
            "email": "",
            "address": "",
            "notes": "",
            **overrides,
        }
        with committing(app):
            return create_patient(clinic_id, SYSTEM, **fields).id

    return make


@pytest.fixture
def make_assessment(app: Flask) -> Callable[..., int]:
    def make(patient_id: int, user_id: int, **overrides: Any) -> int:
        fields: dict[str, Any] = {
            "assessed_on": date(2026, 11, 2),
            "oxford_grade": 3,
            "endurance_s": 4,
            "repetitions": 6,
            "fast_contractions": 5,
            "relaxation": "full",
            "pain": 1,
            "leaks_per_week": 5,
            "pads_per_day": 1,
            "technique_confirmed": True,
            "iciq_total": 9,
            "notes": "",
            **overrides,
        }
        with committing(app):
            patient = db.session.get(Patient, patient_id)
            user = db.session.get(User, user_id)
            return add_assessment(patient, Actor(user), **fields).id

    return make


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the real form."""
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def clinician(app: Flask, make_user: Callable[..., int]) -> User:
    """A clinician in their own clinic (detached: read ids and plain fields only)."""
    user_id = make_user()
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


@pytest.fixture
def signed_in(client: FlaskClient, clinician: User) -> FlaskClient:
    """A test client signed in as `clinician`."""
    response = login(client, clinician.email)
    assert response.status_code == 302, response.data
    return client


@pytest.fixture
def admin(app: Flask, make_user: Callable[..., int], clinician: User) -> User:
    """An administrator in the clinician's clinic."""
    user_id = make_user(clinician.clinic_id, role="admin", name="Ada Admin")
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


@pytest.fixture
def admin_client(app: Flask, admin: User) -> FlaskClient:
    client = app.test_client()
    assert login(client, admin.email).status_code == 302
    return client


@pytest.fixture
def other_clinic(
    make_clinic: Callable[..., int],
    make_user: Callable[..., int],
    make_patient: Callable[..., int],
    make_assessment: Callable[..., int],
) -> dict[str, int]:
    """Records in a second clinic that the signed-in clinician must never see."""
    clinic_id = make_clinic(name="Elsewhere Clinic")
    user_id = make_user(clinic_id, name="Foreign Therapist")
    patient_id = make_patient(clinic_id, given_name="Secret", family_name="Foreigner")
    assessment_id = make_assessment(patient_id, user_id)
    return {
        "clinic": clinic_id,
        "user": user_id,
        "patient": patient_id,
        "assessment": assessment_id,
    }


# --- query counting -----------------------------------------------------------------------


class QueryCounter:
    """Counts the SQL statements an engine runs while active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)", statement, re.I):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """A context manager counting the statements run inside it."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)

    return counting


def count(model: type, app: Flask, **filters: Any) -> int:
    """Rows of a model matching the filters, read in a fresh context."""
    from prescriptions.database import count_rows

    with app.app_context():
        return count_rows(model, **filters)


__all__ = ["Assessment", "PASSWORD", "committing", "count", "login"]
