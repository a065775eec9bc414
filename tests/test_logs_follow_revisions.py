"""Logs follow revisions: the lineage's days are on every revision, a replaced one is read-only."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from prescriptions.extensions import db
from prescriptions.models import LogEntry, Plan
from tests.factories import (
    LOGGED_START,
    editor_data,
    issue,
    log_form,
    new_plan,
    prescribed,
    whole_week,
)


@pytest.fixture
def first_revision(signed_in, clinician, make_patient, make_assessment):
    pid = make_patient(clinician.clinic_id, given_name="Ada", family_name="Okafor")
    make_assessment(pid, clinician.id)
    plan_id = new_plan(signed_in, pid, start=LOGGED_START)
    issue(signed_in, plan_id)
    return plan_id


def revise(client, plan_id, sessions_week1=None):
    """Revise an issued plan (optionally changing week 1's sessions a day) and issue it."""
    response = client.post(f"/plans/{plan_id}/revise")
    revision_id = int(re.search(r"/plans/(\d+)/edit", response.location).group(1))
    data = editor_data(client, revision_id)
    if sessions_week1 is not None:
        for key, value in list(data.items()):
            if key.endswith("-week") and value == "1":
                data[key.removesuffix("week") + "sessions_per_day"] = str(sessions_week1)
    saved = client.post(f"/plans/{revision_id}/edit", data={**data, "action": "save"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    issue(client, revision_id)
    return revision_id


def log_day0(client, plan_id, sessions, **extra):
    data = whole_week(
        {"days-0-sessions_done": str(sessions), **extra} | log_form(client, plan_id, 1)
    )
    return client.post(f"/plans/{plan_id}/weeks/1/log", data=data)


def test_a_revision_carries_the_logged_days(app, signed_in, first_revision):
    per_day = prescribed(app, first_revision, 1)
    assert log_day0(signed_in, first_revision, per_day, **{"days-0-leaks": "2"}).status_code == 302
    revision_id = revise(signed_in, first_revision)

    page = signed_in.get(f"/plans/{revision_id}").get_data(as_text=True)
    assert "No log entered yet" not in page
    assert "Overall 100% of prescribed sessions" in page
    assert f"/plans/{revision_id}/weeks/1/log" in page
    form = signed_in.get(f"/plans/{revision_id}/weeks/1/log").get_data(as_text=True)
    assert 'name="days-0-sessions_done" type="text"' in form or f'value="{per_day}"' in form
    assert re.search(r'name="days-0-leaks"[^>]*value="2"', form)


def test_a_superseded_revision_is_read_only_and_points_to_the_current(
    app, signed_in, first_revision
):
    revision_id = revise(signed_in, first_revision)
    page = signed_in.get(f"/plans/{first_revision}").get_data(as_text=True)
    assert "Enter week 1 log" not in page
    assert f'href="/plans/{revision_id}"' in page and "read-only" in page

    response = signed_in.get(f"/plans/{first_revision}/weeks/1/log")
    assert response.status_code == 302
    assert response.location.endswith(f"/plans/{revision_id}/weeks/1/log")
    follow = signed_in.get(response.location).get_data(as_text=True)
    assert "replaced by revision 2" in follow


def test_a_sheet_opened_on_the_old_revision_saves_to_the_lineage(app, signed_in, first_revision):
    opened = log_form(signed_in, first_revision, 1)
    revision_id = revise(signed_in, first_revision)
    data = whole_week({"days-0-sessions_done": "1"} | opened)
    response = signed_in.post(f"/plans/{first_revision}/weeks/1/log", data=data)
    assert response.status_code == 302
    assert response.location.endswith(f"/plans/{revision_id}#progress")
    with app.app_context():
        (entry,) = db.session.scalars(sa.select(LogEntry)).all()
        assert (entry.plan_id, entry.lineage_id) == (revision_id, first_revision)


def test_charts_and_adherence_read_across_the_chain(app, signed_in, first_revision):
    per_day = prescribed(app, first_revision, 1)
    log_day0(signed_in, first_revision, per_day)
    second = revise(signed_in, first_revision)
    data = whole_week({"days-1-sessions_done": "0"} | log_form(signed_in, second, 1))
    assert signed_in.post(f"/plans/{second}/weeks/1/log", data=data).status_code == 302
    third = revise(signed_in, second)
    for plan_id in (first_revision, second, third):
        page = signed_in.get(f"/plans/{plan_id}").get_data(as_text=True)
        assert "Overall 50% of prescribed sessions" in page, plan_id
        assert "2 of 7" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LogEntry)) == 2


def test_a_logged_day_keeps_what_was_prescribed_that_day(app, signed_in, first_revision):
    per_day = prescribed(app, first_revision, 1)
    assert per_day >= 2
    log_day0(signed_in, first_revision, per_day)
    revision_id = revise(signed_in, first_revision, sessions_week1=1)
    assert prescribed(app, revision_id, 1) == 1

    page = signed_in.get(f"/plans/{revision_id}").get_data(as_text=True)
    assert "Overall 100% of prescribed sessions" in page
    form = signed_in.get(f"/plans/{revision_id}/weeks/1/log").get_data(as_text=True)
    assert f"{per_day} a day prescribed then" in form
    # editing that day on the new revision still allows what was prescribed that day
    data = whole_week(
        {"days-0-sessions_done": str(per_day), "days-0-note": "typed later"}
        | log_form(signed_in, revision_id, 1)
    )
    assert signed_in.post(f"/plans/{revision_id}/weeks/1/log", data=data).status_code == 302
    with app.app_context():
        (entry,) = db.session.scalars(sa.select(LogEntry)).all()
        assert (entry.sessions_prescribed, entry.plan_id, entry.note) == (
            per_day,
            first_revision,
            "typed later",
        )
    # a new day on the new revision is held to the new dose
    data = whole_week({"days-1-sessions_done": "2"} | log_form(signed_in, revision_id, 1))
    response = signed_in.post(f"/plans/{revision_id}/weeks/1/log", data=data)
    assert response.status_code == 400
    assert "At most 1 a day" in response.get_data(as_text=True)


def test_the_start_page_reads_adherence_across_the_chain(app, signed_in, first_revision):
    log_day0(signed_in, first_revision, 0)
    revision_id = revise(signed_in, first_revision)
    with app.app_context():
        start = db.session.get(Plan, revision_id).start_date
    from prescriptions.logs.queries import fetch_low_adherence

    with app.app_context():
        plan = db.session.get(Plan, revision_id)
        low = fetch_low_adherence(plan.clinic_id, start, date(2026, 12, 31))
        assert [row.plan.id for row in low] == [revision_id]


def test_the_migration_moves_existing_logs_to_their_lineage(tmp_path, capsys):
    from flask_migrate import upgrade

    from prescriptions import create_app
    from tests.factories import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUTO_MIGRATE": False, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="46334d7eb385")
        now = "2026-11-30 09:00:00"
        with db.engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO clinic (id, name, address, phone, email, paper, "
                    "footer_text, created_at, version) VALUES "
                    "(1, 'C', '', '', '', 'a4', '', :now, 1)"
                ),
                {"now": now},
            )
            c.execute(
                sa.text(
                    "INSERT INTO user_account (id, clinic_id, email, name, role, "
                    "password_hash, active, session_version, created_at) VALUES "
                    "(1, 1, 'a@b.c', 'A', 'clinician', 'x', 1, 1, :now)"
                ),
                {"now": now},
            )
            c.execute(
                sa.text(
                    "INSERT INTO patient (id, clinic_id, given_name, family_name, "
                    "preferred_name, chart_number, cue_set, diagnoses, precautions, "
                    "phone, email, address, notes, created_at, updated_at, version) "
                    "VALUES (1, 1, 'P', 'Q', '', 'C1', 'neutral', '[]', '[]', '', '', "
                    "'', '', :now, :now, 1)"
                ),
                {"now": now},
            )
            for plan_id, revises, status in (
                (1, None, "superseded"),
                (2, 1, "superseded"),
                (3, 2, "issued"),
                (4, None, "issued"),
            ):
                c.execute(
                    sa.text(
                        "INSERT INTO plan (id, clinic_id, patient_id, author_id, template_code, "
                        "title, approach, purpose, start_date, end_date, status, status_reason, "
                        "revision, revises_id, notes_to_patient, large_print, created_at, "
                        "updated_at, version) VALUES (:id, 1, 1, 1, 't', 'T', 'a', '', "
                        "'2026-11-02', '2026-11-29', :status, '', :rev, :revises, '', 0, :now, "
                        ":now, 1)"
                    ),
                    {
                        "id": plan_id,
                        "status": status,
                        "rev": plan_id,
                        "revises": revises,
                        "now": now,
                    },
                )
            for log_id, plan_id, day, updated in (
                (1, 1, "2026-11-02", "2026-11-03 10:00:00"),
                (2, 2, "2026-11-03", "2026-11-04 10:00:00"),
                (3, 1, "2026-11-04", "2026-11-05 10:00:00"),  # logged twice: the later wins
                (4, 3, "2026-11-04", "2026-11-06 10:00:00"),
                (5, 4, "2026-11-04", "2026-11-06 10:00:00"),  # another lineage
            ):
                c.execute(
                    sa.text(
                        "INSERT INTO log_entry (id, clinic_id, plan_id, day, sessions_done, "
                        "sessions_prescribed, leak_trigger, note, entered_by_id, created_at, "
                        "updated_at, version) VALUES (:id, 1, :plan, :day, 1, 3, '', '', 1, :u, "
                        ":u, 1)"
                    ),
                    {"id": log_id, "plan": plan_id, "day": day, "u": updated},
                )
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as c:
            plans = dict(c.execute(sa.text("SELECT id, lineage_id FROM plan")).all())
            logs = dict(c.execute(sa.text("SELECT id, lineage_id FROM log_entry")).all())
        db.engine.dispose()
    assert plans == {1: None, 2: 1, 3: 1, 4: None}
    assert logs == {1: 1, 2: 1, 3: None, 4: 1, 5: 4}
    assert "log_entry 3 (plan 1, 2026-11-04)" in capsys.readouterr().out
