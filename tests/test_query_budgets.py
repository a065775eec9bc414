"""Query budgets: every main page runs at most 10 SQL statements, whatever the data size.

Two clinics are built through the real write paths, one with 5 and one with 50 of everything:
patients, clinicians, clinic exercises; for one patient, assessments and plans (a revision lineage
among them); for the plan, items, acknowledged warnings and logged days; and, for the start page,
plans ending this week, drafts and last week's logs. Each page is fetched in both clinics and must
run the same number of statements, at most the budget, so a page that queries per row (N+1) fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from prescriptions.accounts import operations as accounts_ops
from prescriptions.accounts.operations import create_clinic, create_user
from prescriptions.assessments.operations import add_assessment
from prescriptions.assessments.queries import fetch_assessments
from prescriptions.audit import Actor
from prescriptions.database import count_rows
from prescriptions.domain.progression import BUILTIN_TEMPLATES, Item, propose_items
from prescriptions.exercises.operations import add_clinic_exercise
from prescriptions.exercises.queries import fetch_clinic_exercises
from prescriptions.logs.operations import DayEntry, save_week_log
from prescriptions.logs.queries import fetch_logs
from prescriptions.models import LogEntry, Patient, Plan, User
from prescriptions.patients.operations import create_patient
from prescriptions.plans.operations import complete_plan, create_plan, issue_plan, revise_plan
from prescriptions.plans.queries import fetch_patient_plans, fetch_plan
from tests.factories import PASSWORD, committing, login

BUDGET = 10
SMALL, LARGE = 5, 50
TEMPLATE = BUILTIN_TEMPLATES["strengthening"]

#: each new plan here starts a separate programme, finishing the one running (one at a time)
ENDING = {"end_running": "finish", "end_reason": "A separate programme was started."}


@dataclass(frozen=True)
class World:
    """One clinic's records, sized `n`, and a client signed in as its lead clinician."""

    n: int
    client: FlaskClient
    patient_id: int  #: n assessments and n plans, by n different clinicians
    issued_id: int  #: that patient's current plan: n items, n acknowledged warnings, logged days
    draft_id: int  #: the open draft revising it, n items
    programme_id: int = 0  #: the programme the issued plan is a block of (n - 2 programmes)
    scan_id: int = 0  #: one of n scanned sheets waiting, of the issued plan's week 3


def _items(n: int, custom: list[str]) -> list[Item]:
    """n items spread over the four weeks, built-in and clinic exercises mixed."""
    base = propose_items(TEMPLATE, None)
    items = []
    for i in range(n):
        item = base[i % len(base)]
        exercise = custom[i % len(custom)] if i % 3 == 2 else item.exercise
        items.append(replace(item, week=i % 4 + 1, order=i // 4 + 1, exercise=exercise))
    return items


def _log_week(plan: Plan, week: int, by: Actor, done: int) -> None:
    """A returned sheet for one week of an issued plan, every day filled."""
    first = plan.start_date + timedelta(days=7 * (week - 1))
    entries = [
        DayEntry(first + timedelta(days=d), None, {"sessions_done": done, "leaks": 1})
        for d in range(7)
    ]
    save_week_log(plan, entries, {}, 3, by)


def _scans(clinic_id: int, plan: Plan, user_id: int, n: int) -> list[int]:
    """n scanned sheets of week 3 waiting to be confirmed, each with a week of marks and crops.

    Written as rows: a real reading needs a rendered, photographed sheet (tests/sheets does that).
    """
    import base64
    import json

    from prescriptions.extensions import db
    from prescriptions.models import SheetScan

    first = plan.start_date + timedelta(days=14)
    png = base64.b64encode(b"\x89PNG not drawn here").decode()
    reading = {
        "page": 0,
        "days": [
            {"date": (first + timedelta(days=d)).isoformat(), "sessions": [True, False, True],
             "pain": 2, "urgency": None, "leaks": 1, "unsure": ["urgency"]}
            for d in range(7)
        ],
        "crops": {f"{(first + timedelta(days=d)).isoformat()}/{cell}": png
                  for d in range(7) for cell in ("hold", "trigger")},
    }  # fmt: skip
    rows = [
        SheetScan(clinic_id=clinic_id, plan_id=plan.id, week=3, batch=f"b{k % 3}",
                  reading=json.dumps(reading), created_by_id=user_id)
        for k in range(n)
    ]  # fmt: skip
    db.session.add_all(rows)
    db.session.flush()
    return [r.id for r in rows]


def build_world(app: Flask, n: int, monkeypatch: pytest.MonkeyPatch) -> World:
    """A clinic with n of everything, through the operations layer."""
    today = date.today()
    with committing(app):
        clinic = create_clinic(f"Clinic of {n}", phone="+44 20 7946 0001")
        lead = create_user(
            clinic, email=f"lead{n}@budget.test", name="Lead", role="clinician", password=PASSWORD
        )
        with monkeypatch.context() as cheap:
            # Colleagues never sign in; a one-round hash keeps a hundred accounts fast to create.
            cheap.setattr(
                accounts_ops,
                "hash_password",
                lambda p: generate_password_hash(p, "pbkdf2:sha256:1"),
            )
            colleagues = [
                create_user(
                    clinic, email=f"c{k}.{n}@budget.test", name=f"Colleague {k}",
                    role="clinician", password=PASSWORD,
                )
                for k in range(2 * n)
            ]  # fmt: skip
        # Different people assess and write plans, so no page gets its authors for free from
        # users another list already loaded.
        assessors = [Actor(user) for user in colleagues[:n]]
        actors = [Actor(user) for user in colleagues[n:]]
        me = Actor(lead)
        custom = [
            add_clinic_exercise(
                clinic.id, me, code=f"c_bridge_{k}", name=f"Bridge {k}", kind="contract",
                params=["hold_s", "reps", "sets", "sessions_per_day"], summary="Lift the hips.",
                steps="Lie on your back.\nLift.", breathing="Breathe out.", feel="A lift.",
                mistakes="Holding your breath.",
            ).code
            for k in range(n)
        ]  # fmt: skip
        patients = [
            create_patient(
                clinic.id, me, given_name="Maria", family_name=f"Budget{k:03d}",
                preferred_name="", date_of_birth=date(1970, 5, 17), chart_number=f"B{k:05d}",
                cue_set="female", diagnoses=["stress_ui"], precautions=[], phone="", email="",
                address="", notes="",
            )
            for k in range(n)
        ]  # fmt: skip
        focus = patients[0]
        for k in range(n):
            add_assessment(
                focus, assessors[k], assessed_on=today - timedelta(days=7 * k), oxford_grade=3,
                endurance_s=4, repetitions=6, fast_contractions=5, relaxation="full", pain=1,
                leaks_per_week=5, pads_per_day=1, technique_confirmed=True, iciq_total=9, notes="",
            )  # fmt: skip
        # The focus patient's n plans: n - 3 completed ones, then a lineage of three revisions.
        for k in range(n - 3):
            old = create_plan(
                focus,
                TEMPLATE,
                _items(4, custom),
                actors[k],
                start=today - timedelta(days=300),
                **ENDING,
            )
            issue_plan(old, actors[k], [])
            complete_plan(old, actors[k])
        first = create_plan(
            focus,
            TEMPLATE,
            _items(n, custom),
            actors[-1],
            start=today - timedelta(days=14),
            **ENDING,
        )
        issue_plan(first, actors[-1], [])
        issued = revise_plan(first, actors[-2])
        warnings = [(f"rule_{k}:{k}", f"Warning {k} was considered.") for k in range(n)]
        issue_plan(issued, actors[-2], warnings)
        for week in (1, 2):
            _log_week(issued, week, me, done=1)
        draft = revise_plan(issued, me)
        # Every other patient: an issued plan ending this week, logged poorly last week, and a
        # draft of the lead's, so the start page's three lists fill up too.
        for patient in patients[1:]:
            ending = create_plan(
                patient, TEMPLATE, _items(4, custom), me, start=today - timedelta(days=21), **ENDING
            )
            issue_plan(ending, me, [])
            _log_week(ending, 3, me, done=0)
            create_plan(patient, TEMPLATE, _items(4, custom), me, start=today, **ENDING)
        scans = _scans(clinic.id, issued, lead.id, n)
        ids = (focus.id, issued.id, draft.id, issued.programme_id, scans[0])
        email = lead.email
    client = app.test_client()
    assert login(client, email).status_code == 302
    world = World(n, client, *ids)
    _check(app, world)
    return world


def _check(app: Flask, world: World) -> None:
    """Guard the fixture: the world really holds n of each thing the pages show."""
    n = world.n
    with app.app_context():
        issued = fetch_plan(None, world.issued_id)
        clinic_id = issued.clinic_id
        assert len(issued.items) == n and len(issued.acknowledgements) == n
        assert issued.status == "issued" and issued.revision == 2
        assert len(fetch_logs(clinic_id, issued.id)) == 14
        assert len(fetch_plan(None, world.draft_id).items) == n
        assert len(fetch_patient_plans(clinic_id, world.patient_id)) == n
        assert len(fetch_assessments(clinic_id, world.patient_id)) == n
        assert len(fetch_clinic_exercises(clinic_id)) == n
        assert count_rows(Patient, clinic_id=clinic_id) == n
        assert count_rows(User, clinic_id=clinic_id) == 2 * n + 1
        assert count_rows(LogEntry, clinic_id=clinic_id) == 14 + 7 * (n - 1)


@pytest.fixture
def worlds(app: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[int, World]:
    """The small and the large clinic."""
    return {n: build_world(app, n, monkeypatch) for n in (SMALL, LARGE)}


PAGES: dict[str, Callable[[World], str]] = {
    "patient list": lambda w: "/patients",
    "patient search": lambda w: "/patients?q=budget00",
    "patient list, newest first": lambda w: "/patients?sort=recent",
    "patient record": lambda w: f"/patients/{w.patient_id}",
    "plan page": lambda w: f"/plans/{w.issued_id}",
    "plan page of a draft": lambda w: f"/plans/{w.draft_id}",
    "plan editor": lambda w: f"/plans/{w.draft_id}/edit",
    "programme page": lambda w: f"/programmes/{w.programme_id}",
    "clinic outcomes": lambda w: "/outcomes",
    "clinic outcomes CSV": lambda w: "/outcomes.csv",
    "handout": lambda w: f"/plans/{w.issued_id}/handout.pdf",
    "scanned sheets": lambda w: "/scans",
    "a scanned sheet to confirm": lambda w: f"/scans/{w.scan_id}",
}


def _statements(world: World, url: str, count_queries: Callable[[], Any]) -> list[str]:
    world.client.get(url)  # warm: once-per-process checks (setup done) are not the page's cost
    with count_queries() as counter:
        response = world.client.get(url, follow_redirects=True)
    assert response.status_code == 200, (url, response.status_code)
    return counter.statements


def _verdict(name: str, small: list[str], large: list[str]) -> str | None:
    """Why a page fails its budget, or None."""
    if len(large) <= BUDGET and len(small) == len(large):
        return None
    listing = "\n    ".join(" ".join(s.split())[:160] for s in large)
    return f"{name}: {len(small)} statements with {SMALL} rows, {len(large)} with {LARGE}:\n    {listing}"


def test_pages_run_a_fixed_number_of_queries(
    worlds: dict[int, World], count_queries: Callable[[], Any]
) -> None:
    """Lists, record, plan, editor and handout: within budget, and the same at 5 and at 50."""
    failures = []
    for name, url in PAGES.items():
        small = _statements(worlds[SMALL], url(worlds[SMALL]), count_queries)
        large = _statements(worlds[LARGE], url(worlds[LARGE]), count_queries)
        failures.append(_verdict(name, small, large))
    assert not any(failures), "\n".join(f for f in failures if f)


def test_start_page_runs_a_fixed_number_of_queries(
    worlds: dict[int, World], count_queries: Callable[[], Any]
) -> None:
    """Whatever `/` shows a signed-in clinician (redirects followed) stays within the budget."""
    small = _statements(worlds[SMALL], "/", count_queries)
    large = _statements(worlds[LARGE], "/", count_queries)
    verdict = _verdict("start page", small, large)
    assert verdict is None, verdict
