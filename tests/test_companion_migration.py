"""Migration d9a4c7e2f1b6 (the companion): existing log days keep their values and their staff
author; the upgrade adds the link tables; the downgrade goes back, and refuses while a day
logged only from a phone would be lost."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from prescriptions import PROJECT_ROOT, create_app
from prescriptions.extensions import db
from tests.factories import app_config

MIGRATIONS = str(PROJECT_ROOT / "migrations")
BEFORE, AFTER = "c5e8f1a2b3d4", "d9a4c7e2f1b6"

OLD_ROWS = [
    "INSERT INTO clinic (id, name, address, phone, email, paper, footer_text, created_at, version)"
    " VALUES (1, 'C', '', '', '', 'a4', '', CURRENT_TIMESTAMP, 1)",
    "INSERT INTO user_account (id, clinic_id, email, name, role, password_hash, active,"
    " session_version, created_at) VALUES (1, 1, 'a@c.test', 'A', 'clinician', 'x', 1, 1,"
    " CURRENT_TIMESTAMP)",
    "INSERT INTO patient (id, clinic_id, given_name, family_name, preferred_name, chart_number,"
    " chart_key, cue_set, diagnoses, precautions, phone, email, address, notes, created_at,"
    " updated_at, version) VALUES (1, 1, 'P', 'Q', '', 'X1', 'x1', 'female', '[]', '[]', '', '',"
    " '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
    "INSERT INTO plan (id, clinic_id, patient_id, author_id, template_code, title, approach,"
    " purpose, start_date, end_date, status, status_reason, revision, notes_to_patient,"
    " large_print, created_at, updated_at, version) VALUES (1, 1, 1, 1, 'strengthening', 'T',"
    " 'strengthening', '', '2026-11-02', '2026-11-29', 'issued', '', 1, '', 0,"
    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
    "INSERT INTO log_entry (id, clinic_id, plan_id, programme_id, day, sessions_done,"
    " sessions_prescribed, leaks, leak_trigger, pain, note, entered_by_id, created_at,"
    " updated_at, version) VALUES (1, 1, 1, 1, '2026-11-03', 2, 3, 1, 'cough', 2, 'ok', 1,"
    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
]


def test_upgrade_keeps_every_logged_day_and_downgrade_goes_back(tmp_path):
    app = create_app(app_config(f"sqlite:///{tmp_path / 'old.sqlite'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=BEFORE)
        for statement in OLD_ROWS:
            db.session.execute(sa.text(statement))
        db.session.commit()
        upgrade(directory=MIGRATIONS, revision=AFTER)
        row = db.session.execute(
            sa.text(
                "SELECT sessions_done, leaks, leak_trigger, pain, note, entered_by_id,"
                " entered_by_link_id, patient_entry FROM log_entry WHERE id = 1"
            )
        ).one()
        assert tuple(row) == (2, 1, "cough", 2, "ok", 1, None, None)
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"patient_link", "patient_tap", "patient_question"} <= tables
        # a day logged only from a phone (no staff author) is now possible (the programme
        # column is left out: another branch renames it, and the test must not care)
        db.session.execute(
            sa.text(
                "INSERT INTO log_entry (clinic_id, plan_id, day, sessions_done,"
                " sessions_prescribed, leak_trigger, note, created_at, updated_at, version)"
                " VALUES (1, 1, '2026-11-04', 1, 3, '', '', CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP, 1)"
            )
        )
        db.session.commit()
        # the downgrade never deletes a day the patient logged: it refuses, changing nothing
        with pytest.raises(SystemExit):  # flask-migrate reports the RuntimeError and exits
            downgrade(directory=MIGRATIONS, revision=BEFORE)
        db.session.rollback()
        count = db.session.execute(sa.text("SELECT COUNT(*) FROM log_entry")).scalar_one()
        assert count == 2
        db.session.execute(sa.text("UPDATE log_entry SET entered_by_id = 1 WHERE id = 2"))
        db.session.commit()
        downgrade(directory=MIGRATIONS, revision=BEFORE)
        kept = db.session.execute(sa.text("SELECT id, entered_by_id FROM log_entry")).all()
        assert sorted(tuple(r) for r in kept) == [(1, 1), (2, 1)]
        db.engine.dispose()
