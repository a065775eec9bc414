"""Fixtures in the flaskr style: app, client, runner, signed-in clients and record factories.

The suite runs on a fresh SQLite file per test, or on PostgreSQL when TEST_DATABASE_URL is set
(tables created once, emptied after every test).

Record factories go through the real write path (the operations in prescriptions/<entity>/
operations.py), take keyword defaults and return ids: `make_clinic`, `make_user`, `make_patient`,
`make_assessment`, `make_plan`, `issue_plan`, `revise_plan`, `complete_plan`, `cancel_plan`,
`log_week`; `other_clinic` fills a second clinic with all of them, and `sign_in_as(user_id)`
gives a client signed in as anyone. Plain helpers (signing in, counting rows, posting the plan
and log forms) are in tests/factories.py: test modules import from there, never from one
another. The fuzz harness's fixtures come from tests/fuzzing.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from prescriptions import create_app
from prescriptions.accounts.operations import create_clinic, create_user
from prescriptions.assessments.operations import add_assessment
from prescriptions.assessments.queries import fetch_latest_assessment
from prescriptions.audit import SYSTEM, Actor
from prescriptions.domain.adherence import prescribed_per_day, week_days
from prescriptions.domain.progression import BUILTIN_TEMPLATES, Item, propose_items
from prescriptions.domain.rules import Severity, blocking_issue, blocking_save
from prescriptions.exercises.queries import fetch_catalogue
from prescriptions.extensions import db
from prescriptions.logs import operations as log_ops
from prescriptions.logs.queries import fetch_logs
from prescriptions.mapping.plans import assessment_facts, findings_for, plan_items, warning_key
from prescriptions.models import Clinic, Patient, Plan, User
from prescriptions.patients.operations import create_patient
from prescriptions.plans import operations as plan_ops
from tests.factories import (
    PASSWORD,
    SERVER_URL,
    app_config,
    committing,
    empty_server_database,
    login,
)
from tests.fuzzing import cheap_password_hashing, world  # noqa: F401 - the fuzz modules' fixtures


@pytest.fixture(scope="session")
def server_schema() -> Iterator[None]:
    """On PostgreSQL, build the schema once per run."""
    if SERVER_URL:
        app = create_app(app_config(SERVER_URL))
        with app.app_context():
            db.drop_all()
            db.create_all()
            db.session.commit()
    yield


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
        app = create_app(app_config(database_url, **overrides))
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


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    return app_factory()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


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
def sign_in_as(app: Flask) -> Callable[[int], FlaskClient]:
    """A new test client signed in, through the real form, as the user with this id."""

    def sign_in(user_id: int) -> FlaskClient:
        with app.app_context():
            email = db.session.get(User, user_id).email
        client = app.test_client()
        response = login(client, email)
        assert response.status_code == 302, response.data
        return client

    return sign_in


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


# --- plans and logs through the operations layer ------------------------------------------------
#
# Each takes and returns ids; `by` is the acting user's id (default: the clinic's first user).


def _acting(clinic_id: int, by: int | None) -> Actor:
    if by is not None:
        return Actor(db.session.get(User, by))
    user = db.session.scalar(sa.select(User).where(User.clinic_id == clinic_id).order_by(User.id))
    assert user is not None, "the clinic needs a user to act for it (make_user first)"
    return Actor(user)


@pytest.fixture
def make_plan(app: Flask) -> Callable[..., int]:
    """A draft from a built-in template, progressed from the latest assessment as the view does.

    `first_item` overrides fields of the first item (e.g. a hold to warn about) and `title` the
    title; either is saved through `update_plan`, the editor's write, and, as in the editor, only
    when the rules find nothing that blocks a save.
    """

    def make(
        patient_id: int,
        *,
        by: int | None = None,
        template: str = "strengthening",
        start: date = date(2026, 11, 30),
        title: str | None = None,
        first_item: dict[str, Any] | None = None,
        end_running: str = "stop",
    ) -> int:
        # a patient's running programme is stopped by a separate one (tests make several)
        with committing(app):
            patient = db.session.get(Patient, patient_id)
            actor = _acting(patient.clinic_id, by)
            chosen = BUILTIN_TEMPLATES[template]
            latest = fetch_latest_assessment(patient.clinic_id, patient.id)
            items = propose_items(chosen, assessment_facts(latest))
            plan = plan_ops.create_plan(
                patient, chosen, items, actor, start=start, end_running=end_running,
                end_reason="A separate programme was started.",
            )  # fmt: skip
            if first_item or title:
                edited: list[Item] = list(plan_items(plan.items))
                edited[0] = replace(edited[0], **(first_item or {}))
                # what the editor would refuse to save, a factory refuses to make
                catalogue = fetch_catalogue(patient.clinic_id)
                assert not blocking_save(findings_for(plan, edited, catalogue)), edited[0]
                plan_ops.update_plan(plan, edited, actor, title=title or plan.title)
            return plan.id

    return make


@pytest.fixture
def issue_plan(app: Flask) -> Callable[..., int]:
    """Issue a draft, acknowledging every warning it has (as ticking them all on the page)."""

    def issue(plan_id: int, *, by: int | None = None) -> int:
        with committing(app):
            plan = db.session.get(Plan, plan_id)
            findings = findings_for(plan, plan_items(plan.items), fetch_catalogue(plan.clinic_id))
            assert not blocking_issue(findings), findings
            warnings = [
                (warning_key(f), f.message) for f in findings if f.severity == Severity.WARNING
            ]
            plan_ops.issue_plan(plan, _acting(plan.clinic_id, by), warnings)
            return plan.id

    return issue


@pytest.fixture
def revise_plan(app: Flask) -> Callable[..., int]:
    """A draft revision of an issued plan; returns the revision's id."""

    def revise(plan_id: int, *, by: int | None = None) -> int:
        with committing(app):
            plan = db.session.get(Plan, plan_id)
            return plan_ops.revise_plan(plan, _acting(plan.clinic_id, by)).id

    return revise


@pytest.fixture
def complete_plan(app: Flask) -> Callable[..., int]:
    def complete(plan_id: int, *, by: int | None = None) -> int:
        with committing(app):
            plan = db.session.get(Plan, plan_id)
            return plan_ops.complete_plan(plan, _acting(plan.clinic_id, by)).id

    return complete


@pytest.fixture
def cancel_plan(app: Flask) -> Callable[..., int]:
    def cancel(plan_id: int, *, reason: str = "Patient moved away", by: int | None = None) -> int:
        with committing(app):
            plan = db.session.get(Plan, plan_id)
            return plan_ops.cancel_plan(plan, reason, _acting(plan.clinic_id, by)).id

    return cancel


@pytest.fixture
def log_week(app: Flask) -> Callable[..., int]:
    """Save one week of an issued plan's log as the weekly log form does; returns days changed.

    `days` maps a day of the week (0-6) to its values; by default every day has one session.
    A day already logged is updated (at its current version).
    """

    def log(
        plan_id: int,
        week: int = 1,
        *,
        days: dict[int, dict[str, Any]] | None = None,
        by: int | None = None,
    ) -> int:
        if days is None:
            days = {n: {"sessions_done": 1} for n in range(7)}
        with committing(app):
            plan = db.session.get(Plan, plan_id)
            dates = week_days(plan.start_date, week)
            existing = {e.day: e for e in fetch_logs(plan.clinic_id, plan.id, dates[0], dates[-1])}
            entries = [
                log_ops.DayEntry(
                    dates[n],
                    existing[dates[n]].version if dates[n] in existing else None,
                    values,
                )
                for n, values in sorted(days.items())
            ]
            prescribed = prescribed_per_day(plan_items(plan.items), week)
            return log_ops.save_week_log(
                plan, entries, existing, prescribed, _acting(plan.clinic_id, by)
            )

    return log


# --- the other clinic ---------------------------------------------------------------------------


@pytest.fixture
def other_clinic(
    app: Flask,
    make_clinic: Callable[..., int],
    make_user: Callable[..., int],
    make_patient: Callable[..., int],
    make_assessment: Callable[..., int],
    make_plan: Callable[..., int],
    issue_plan: Callable[..., int],
    revise_plan: Callable[..., int],
    log_week: Callable[..., int],
) -> dict[str, Any]:
    """A second clinic the signed-in clinician must never see a byte of (see FOREIGN_TEXT).

    Two patients, each with an issued plan with items and a logged week; the first plan also has
    an open draft revision. `plans` lists every plan id of the clinic.
    """
    clinic_id = make_clinic(name="Elsewhere Clinic", address="9 Far Road")
    user_id = make_user(clinic_id, name="Foreign Therapist")
    patient_id = make_patient(
        clinic_id,
        given_name="Secret",
        family_name="Foreigner",
        chart_number="FX-9931",
        notes="Xylophone patient note",
        email="zebulon@foreign.example",
    )
    second_patient = make_patient(
        clinic_id, given_name="Ulrike", family_name="Outlander", chart_number="FX-9932"
    )
    assessment_id = make_assessment(patient_id, user_id, notes="Marmoset assessment note")
    make_assessment(second_patient, user_id)
    plans = []
    for pid in (patient_id, second_patient):
        plan = make_plan(
            pid,
            title="Okapi programme",
            first_item={"hold_s": 5, "rest_s": 10, "note": "Narwhal item note"},
        )
        issue_plan(plan)
        log_week(
            plan,
            1,
            days={
                0: {"sessions_done": 1, "leaks": 2, "leak_trigger": "quetzal laugh"},
                1: {"sessions_done": 2, "note": "Quokka log note"},
            },
        )
        plans.append(plan)
    plans.append(revise_plan(plans[0]))
    with app.app_context():
        programme_id = db.session.get(Plan, plans[0]).programme_id
    return {
        "clinic": clinic_id,
        "user": user_id,
        "patient": patient_id,
        "assessment": assessment_id,
        "plan": plans[0],
        "plans": plans,
        "programme": programme_id,
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


# --- an empty database to restore into -------------------------------------------------------


@pytest.fixture
def fresh_database(tmp_path: Any) -> Iterator[Callable[[str], Flask]]:
    """Build an app on a new, empty database: an SQLite file, or a new PostgreSQL schema."""
    cleanups: list[Callable[[], None]] = []

    def build(kind: str) -> Flask:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:6]}.sqlite'}"
        else:
            schema = f"restore_{uuid.uuid4().hex[:8]}"
            engine = sa.create_engine(SERVER_URL)
            with engine.begin() as connection:
                connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

            def drop() -> None:
                with engine.begin() as connection:
                    connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                engine.dispose()

            cleanups.append(drop)
            separator = "&" if "?" in SERVER_URL else "?"
            url = f"{SERVER_URL}{separator}options=-csearch_path%3D{schema}"
        app = create_app(app_config(url))
        with app.app_context():
            db.create_all()
            db.session.commit()

        def dispose() -> None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()

        cleanups.insert(0, dispose)
        return app

    yield build
    for cleanup in cleanups:
        cleanup()
