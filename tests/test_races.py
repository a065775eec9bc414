"""Double submissions at the same moment through real gunicorn workers (issue 12, item 1).

Every state change is answered like a repeat when a twin request wins the race: a redirect to
what the first one made, or to the record as it stands with a flash; never a 500, never a second
draft or a second current plan. Each race runs over several records so that requests really meet
on PostgreSQL (on SQLite the writes queue and the later ones are plain repeats).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

import pytest
import sqlalchemy as sa
from flask import Flask

from prescriptions import PROJECT_ROOT, create_app
from prescriptions.audit import Actor
from prescriptions.domain.progression import BUILTIN_TEMPLATES, propose_items
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, Patient, Plan, User
from prescriptions.patients.operations import create_patient
from prescriptions.plans.operations import _draft_from, create_plan, issue_plan, revise_plan
from tests.factories import PASSWORD, SERVER_URL, empty_server_database
from tests.factories import app_config as _config
from tests.live import Browser, create_user, gunicorn, needs_gunicorn, together

pytestmark = needs_gunicorn

ROUNDS = 4  #: records raced on per test
TWINS = 3  #: identical requests per record, one per gunicorn worker
EMAIL = "race@clinic.test"


@dataclass
class Live:
    base: str
    app: Flask


@pytest.fixture(scope="module")
def live(tmp_path_factory, server_schema) -> Iterator[Live]:
    """gunicorn with three workers on the test database, a clinician, and an app to seed with."""
    tmp_path = tmp_path_factory.mktemp("races")
    url = SERVER_URL or f"sqlite:///{tmp_path / 'races.sqlite'}"
    secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "FLOORPLAN_INSTANCE_PATH": str(tmp_path),
        "FLOORPLAN_SQLALCHEMY_DATABASE_URI": url,
        "FLOORPLAN_SECRET_KEY": secret,
        "FLOORPLAN_NEW_PASSWORD": PASSWORD,
    }
    create_user(env, EMAIL, "Race Clinic")  # on SQLite this also runs the migrations
    app = create_app(_config(url, SECRET_KEY=secret))
    try:
        with gunicorn(env, "-w", str(TWINS)) as base:
            yield Live(base, app)
    finally:
        with app.app_context():
            db.session.remove()
            if SERVER_URL:
                empty_server_database()
            db.engine.dispose()


class Clerk(Browser):
    """A signed-in browser that can send repeated fields (the warnings to acknowledge)."""

    def post(self, path: str, data: dict[str, object]) -> tuple[int, str, str]:
        return self.request(path, data)

    def token(self, path: str) -> str:
        return self.form(path)["csrf_token"]

    def flashes(self, path: str) -> str:
        status, page, _ = self.request(path)
        assert status == 200, (path, status)
        return " ".join(re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', page, re.S))


def _clerks(live: Live) -> list[Clerk]:
    clerks = [Clerk(live.base) for _ in range(TWINS)]
    for clerk in clerks:
        clerk.login(EMAIL)
    return clerks


def _user(app: Flask) -> User:
    return db.session.scalar(sa.select(User).where(User.email == EMAIL))


def _patient(app: Flask, chart: str) -> Patient:
    user = _user(app)
    return create_patient(
        user.clinic_id, Actor(user), given_name="Rosa", family_name="Race", chart_number=chart,
        cue_set="female", diagnoses=["stress_ui"], precautions=[],
    )  # fmt: skip


def _seed_plans(live: Live, tag: str, status: str) -> list[int]:
    """ROUNDS plans of new patients, each a draft or issued."""
    ids = []
    with live.app.app_context():
        user = _user(live.app)
        template = BUILTIN_TEMPLATES["strengthening"]
        for n in range(ROUNDS):
            patient = _patient(live.app, f"{tag}-{n}")
            plan = create_plan(
                patient, template, propose_items(template, None), Actor(user), start=date.today()
            )
            if status == "issued":
                issue_plan(plan, Actor(user), [])
            ids.append(plan.id)
        db.session.commit()
    return ids


def _plans(live: Live, **where: object) -> list[Plan]:
    with live.app.app_context():
        stmt = sa.select(Plan).order_by(Plan.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Plan, key) == value)
        plans = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return list(plans)


def _events(live: Live, action: str, record_id: int) -> int:
    with live.app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.record_id == record_id)
        )


def _one_current_plan_per_lineage(live: Live) -> None:
    """No plan has two open revisions, and no chain of revisions has two issued plans."""
    plans = {p.id: p for p in _plans(live)}

    def root(plan: Plan) -> int:
        while plan.revises_id is not None:
            plan = plans[plan.revises_id]
        return plan.id

    issued: dict[int, list[int]] = {}
    open_children: dict[int, list[int]] = {}
    for plan in plans.values():
        if plan.status == "issued":
            issued.setdefault(root(plan), []).append(plan.id)
        if plan.revises_id is not None and plan.status in ("draft", "issued"):
            open_children.setdefault(plan.revises_id, []).append(plan.id)
    assert all(len(ids) == 1 for ids in issued.values()), issued
    assert all(len(ids) == 1 for ids in open_children.values()), open_children


def _race(clerks: list[Clerk], path: str, data: dict[str, object]) -> list[tuple[int, str]]:
    tokens = [clerk.token("/patients/new") for clerk in clerks]
    calls = [
        (lambda c=clerk, t=token: c.post(path, {"csrf_token": t, **data}))
        for clerk, token in zip(clerks, tokens, strict=True)
    ]
    return [(status, location) for status, _, location in together(*calls)]


def test_revise_at_once_makes_one_draft(live):
    clerks = _clerks(live)
    for plan_id in _seed_plans(live, "REV", "issued"):
        answers = _race(clerks, f"/plans/{plan_id}/revise", {})
        drafts = _plans(live, revises_id=plan_id)
        assert len(drafts) == 1, answers
        target = f"/plans/{drafts[0].id}/edit"
        assert answers == [(302, target)] * TWINS
        assert _events(live, "plan.revise", drafts[0].id) == 1
    _one_current_plan_per_lineage(live)


def _version(page: str) -> str:
    """The plan version the issue form carries (what the clinician reviewed)."""
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


def test_issue_at_once_issues_once(live):
    clerks = _clerks(live)
    for plan_id in _seed_plans(live, "ISS", "draft"):
        page = clerks[0].request(f"/plans/{plan_id}")[1]
        warnings = re.findall(r'name="acknowledge" value="([^"]+)"', page)
        data = {"acknowledge": warnings, "version": _version(page)}
        answers = _race(clerks, f"/plans/{plan_id}/issue", data)
        assert answers == [(302, f"/plans/{plan_id}")] * TWINS
        (plan,) = _plans(live, id=plan_id)
        assert plan.status == "issued" and _events(live, "plan.issue", plan_id) == 1
    assert "already issued" in clerks[0].flashes(f"/plans/{plan_id}") + clerks[1].flashes(
        f"/plans/{plan_id}"
    ) + clerks[2].flashes(f"/plans/{plan_id}")


@pytest.mark.parametrize(
    ("action", "data", "status"),
    [("complete", {}, "completed"), ("cancel", {"reason": "Moved away"}, "cancelled")],
)
def test_close_at_once_closes_once(live, action, data, status):
    clerks = _clerks(live)
    for plan_id in _seed_plans(live, f"CL{action[:2]}", "issued"):
        answers = _race(clerks, f"/plans/{plan_id}/{action}", data)
        assert answers == [(302, f"/plans/{plan_id}")] * TWINS
        (plan,) = _plans(live, id=plan_id)
        assert plan.status == status and _events(live, f"plan.{action}", plan_id) == 1


def test_issuing_two_revisions_of_one_plan_at_once_keeps_one_current(live):
    """A revision issued while its plan is being completed: one of the two wins, cleanly."""
    clerks = _clerks(live)
    for plan_id in _seed_plans(live, "TWO", "issued"):
        with live.app.app_context():
            revision = revise_plan(db.session.get(Plan, plan_id), Actor(_user(live.app))).id
            db.session.commit()
        page = clerks[0].request(f"/plans/{revision}")[1]
        warnings = re.findall(r'name="acknowledge" value="([^"]+)"', page)
        tokens = [clerk.token("/patients/new") for clerk in clerks]
        answers = together(
            partial(
                clerks[0].post,
                f"/plans/{revision}/issue",
                {"csrf_token": tokens[0], "acknowledge": warnings, "version": _version(page)},
            ),
            partial(clerks[1].post, f"/plans/{plan_id}/complete", {"csrf_token": tokens[1]}),
            partial(clerks[2].post, f"/plans/{plan_id}/revise", {"csrf_token": tokens[2]}),
        )
        assert [status for status, _, _ in answers] == [302] * 3
    _one_current_plan_per_lineage(live)


def test_a_stale_revision_of_a_replaced_plan_is_not_issued(live):
    """A draft left behind by a lost race can't become a second current plan."""
    (plan_id,) = _seed_plans(live, "STALE", "issued")[:1]
    with live.app.app_context():
        user = Actor(_user(live.app))
        first = revise_plan(db.session.get(Plan, plan_id), user)
        issue_plan(first, user, [])
        second = revise_plan(first, user)
        issue_plan(second, user, [])
        original = db.session.get(Plan, plan_id)
        stale = _draft_from(original, user.user, revision=2, revises_id=plan_id).id
        db.session.commit()
    (clerk,) = _clerks(live)[:1]
    page = clerk.request(f"/plans/{stale}")[1]
    warnings = re.findall(r'name="acknowledge" value="([^"]+)"', page)
    status, _, location = clerk.post(
        f"/plans/{stale}/issue",
        {
            "csrf_token": clerk.token("/patients/new"),
            "acknowledge": warnings,
            "version": _version(page),
        },
    )
    assert (status, location) == (302, f"/plans/{stale}")
    assert "already replaced" in clerk.flashes(location)
    assert _plans(live, id=stale)[0].status == "draft"
    _one_current_plan_per_lineage(live)


@pytest.mark.parametrize("action", ["archive", "restore"])
def test_archive_and_restore_at_once_change_once(live, action):
    clerks = _clerks(live)
    with live.app.app_context():
        patients = [_patient(live.app, f"AR{action[:2]}-{n}") for n in range(ROUNDS)]
        if action == "restore":
            for patient in patients:
                patient.archived_at = patient.created_at
        db.session.commit()
        ids = [p.id for p in patients]
    for patient_id in ids:
        answers = _race(clerks, f"/patients/{patient_id}/{action}", {})
        assert answers == [(302, f"/patients/{patient_id}")] * TWINS
        assert _events(live, f"patient.{action}", patient_id) == 1


def test_two_patients_with_one_chart_number_at_once(live):
    """Different forms, same chart number: one patient; the others hear the number is taken."""
    clerks = _clerks(live)
    for n in range(ROUNDS):
        chart = f"SAME-{n}"
        forms = [clerk.form("/patients/new") for clerk in clerks]
        calls = [
            partial(
                clerk.post,
                "/patients/new",
                {
                    "csrf_token": form["csrf_token"],
                    "once": form["once"],
                    # different people: the same person sent twice is shown, not refused
                    "given_name": f"Sam{k}",
                    "family_name": "Same",
                    "chart_number": chart,
                    "cue_set": "neutral",
                },
            )  # fmt: skip
            for k, (clerk, form) in enumerate(zip(clerks, forms, strict=True))
        ]
        answers = together(*calls)
        statuses = sorted(status for status, _, _ in answers)
        assert statuses == [302] + [400] * (TWINS - 1), statuses
        for status, page, _ in answers:
            if status == 400:
                assert "already has this chart number" in page
        with live.app.app_context():
            assert (
                db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Patient)
                    .where(Patient.chart_number == chart)
                )
                == 1
            )


def test_the_upgrade_closes_duplicate_revisions_left_by_old_races(tmp_path, capsys):
    """Plans doubled by the old race: the upgrade keeps one open revision and says what it did."""
    from flask_migrate import upgrade

    app = create_app(_config(f"sqlite:///{tmp_path / 'old.sqlite'}"))
    migrations = str(PROJECT_ROOT / "migrations")
    with app.app_context():
        upgrade(directory=migrations, revision="46334d7eb385")
        connection = db.session.connection()
        # The tables as that revision had them: today's models carry columns added since.
        old_schema = sa.MetaData()
        old_schema.reflect(connection)
        tables = old_schema.tables
        now = datetime(2026, 1, 1)
        clinic = connection.execute(
            tables["clinic"].insert().values(
                name="Old", address="", phone="", email="", paper="a4", footer_text="",
                created_at=now, version=1,
            )
        ).inserted_primary_key[0]  # fmt: skip
        user = connection.execute(
            tables["user_account"].insert().values(
                clinic_id=clinic, email="o@x.test", name="O", password_hash="x", role="clinician",
                active=True, session_version=0, created_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
        patient = connection.execute(
            tables["patient"].insert().values(
                clinic_id=clinic, given_name="A", family_name="B", chart_number="1",
                preferred_name="", cue_set="neutral", diagnoses=[], precautions=[], phone="",
                email="", address="", notes="", created_at=now, updated_at=now, version=1,
            )
        ).inserted_primary_key[0]  # fmt: skip

        def plan(status: str, revises: int | None = None) -> int:
            values = dict(
                clinic_id=clinic, patient_id=patient, author_id=user, template_code="t",
                title="t", approach="a", start_date=date(2026, 1, 1), end_date=date(2026, 1, 28),
                status=status, revises_id=revises, revision=2 if revises else 1,
            )  # fmt: skip
            values.update(
                notes_to_patient="", large_print=False, status_reason="", purpose="", created_at=now,
                updated_at=now, version=1,
            )  # fmt: skip
            return connection.execute(
                tables["plan"].insert().values(**values)
            ).inserted_primary_key[0]

        drafted, issued = plan("issued"), plan("superseded")
        drafts = [plan("draft", drafted), plan("draft", drafted)]
        twins = [plan("issued", issued), plan("issued", issued), plan("draft", issued)]
        db.session.commit()
        upgrade(directory=migrations)
        status = dict(db.session.execute(sa.select(Plan.id, Plan.status)).all())
        db.engine.dispose()
    assert [status[i] for i in drafts] == ["draft", "cancelled"]
    assert [status[i] for i in twins] == ["superseded", "issued", "cancelled"]
    assert f"plan {drafts[1]} (draft) duplicated plan {drafts[0]}" in capsys.readouterr().out


def test_a_patients_tap_sent_three_times_at_once_counts_once(live):
    """The companion's idempotency key, across workers (issue 16): one tap, one session."""
    from prescriptions.companion.operations import issue_link
    from prescriptions.companion.tokens import link_key, token_for
    from prescriptions.models import LogEntry

    plan_ids = _seed_plans(live, "TAP", "issued")
    key = link_key(live.app.config["SECRET_KEY"])
    with live.app.app_context():
        tokens = []
        for plan_id in plan_ids:
            patient = db.session.get(Plan, plan_id).patient
            link = issue_link(patient, key, Actor(_user(live.app)), None)
            tokens.append(token_for(key, link.nonce))
        db.session.commit()
    phone = Browser(live.base)
    for token in tokens:
        form_key = phone.form(f"/p/{token}")["form_key"]
        data = {"form_key": form_key, "key": secrets.token_hex(16)}
        post = partial(Browser(live.base).request, f"/p/{token}/tap", data)
        answers = together(*([post] * TWINS))
        assert [status for status, _, _ in answers] == [303] * TWINS
    with live.app.app_context():
        days = db.session.scalars(sa.select(LogEntry).where(LogEntry.plan_id.in_(plan_ids))).all()
        assert sorted(d.plan_id for d in days) == sorted(plan_ids)
        assert all(d.sessions_done == 1 and d.patient_entry == {"sessions_done": 1} for d in days)
        audited = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "companion.session")
        )
        assert audited == ROUNDS


def test_two_new_plans_at_once_start_one_programme(live):
    """Separate new-plan forms for one patient sent at once: one programme, one draft; the
    others are told a programme was started meanwhile (or that one is running), never a 500."""
    from prescriptions.models import Programme

    clerks = _clerks(live)
    with live.app.app_context():
        ids = [_patient(live.app, f"PRG-{n}").id for n in range(ROUNDS)]
        db.session.commit()
    for patient_id in ids:
        path = f"/patients/{patient_id}/plans/new"
        forms = [clerk.form(path) for clerk in clerks]
        calls = [
            partial(clerk.post, path, {"csrf_token": form["csrf_token"], "once": form["once"],
                                       "template": "strengthening",
                                       "start_date": date.today().isoformat()})
            for clerk, form in zip(clerks, forms, strict=True)
        ]  # fmt: skip
        answers = together(*calls)
        made = [location for status, _, location in answers if "/edit" in location]
        assert len(made) == 1, answers
        for status, _, location in answers:
            assert status == 400 or location in (made[0], path), (status, location)
        with live.app.app_context():
            programmes = db.session.scalars(
                sa.select(Programme.status).where(Programme.patient_id == patient_id)
            ).all()
            assert programmes == ["running"]
            assert len(_plans(live, patient_id=patient_id)) == 1
