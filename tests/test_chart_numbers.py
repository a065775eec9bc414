"""Chart numbers are unique in a clinic regardless of case and surrounding space."""

from __future__ import annotations

import sqlalchemy as sa

from prescriptions.extensions import db
from prescriptions.models import Patient
from tests.factories import NEW_PATIENT as NEW
from tests.factories import count


def test_the_same_chart_number_in_another_case_is_refused(app, signed_in, clinician):
    first = {**NEW, "chart_number": "rph-1001", "once": "c-1"}
    assert signed_in.post("/patients/new", data=first).status_code == 302
    for typed in ("RPH-1001", "  Rph-1001  "):
        second = {**NEW, "given_name": "Other", "chart_number": typed, "once": f"c-{typed}"}
        response = signed_in.post("/patients/new", data=second)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "Another patient already has this chart number." in page
    assert count(Patient, app) == 1


def test_editing_into_a_clash_is_refused_but_keeping_ones_own_is_fine(
    app, signed_in, clinician, make_patient
):
    make_patient(clinician.clinic_id, chart_number="AB-1")
    pid = make_patient(clinician.clinic_id, chart_number="AB-2")
    page = signed_in.get(f"/patients/{pid}/edit").get_data(as_text=True)
    import re

    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    data = {**NEW, "version": version, "chart_number": "ab-1"}
    assert signed_in.post(f"/patients/{pid}/edit", data=data).status_code == 400
    data["chart_number"] = "ab-2"  # its own, in another case
    assert signed_in.post(f"/patients/{pid}/edit", data=data).status_code == 302


def test_the_database_refuses_a_clash_too(app, clinician, make_patient):
    make_patient(clinician.clinic_id, chart_number="X-1")
    with app.app_context():
        db.session.add(
            Patient(
                clinic_id=clinician.clinic_id, given_name="A", family_name="B", chart_number="x-1 "
            )  # fmt: skip
        )
        try:
            db.session.flush()
        except sa.exc.IntegrityError:
            db.session.rollback()
        else:
            raise AssertionError("a second x-1 was stored")


def test_the_migration_reports_existing_clashes(tmp_path, capsys):
    from flask_migrate import upgrade

    from prescriptions import create_app
    from tests.factories import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUTO_MIGRATE": False, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="a7c3e9d1f2b4")
        with db.engine.begin() as c:
            c.execute(sa.text("INSERT INTO clinic (id, name, address, phone, email, paper, "
                              "footer_text, created_at, version) VALUES "
                              "(1, 'C', '', '', '', 'a4', '', '2026-01-01', 1), "
                              "(2, 'D', '', '', '', 'a4', '', '2026-01-01', 1)"))  # fmt: skip
            for pid, clinic, chart in ((1, 1, "rph-1001"), (2, 1, "RPH-1001"), (3, 2, "RPH-1001"),
                                       (4, 1, "RPH-1002")):  # fmt: skip
                c.execute(
                    sa.text(
                        "INSERT INTO patient (id, clinic_id, given_name, family_name, "
                        "preferred_name, chart_number, cue_set, diagnoses, precautions, phone, "
                        "email, address, notes, created_at, updated_at, version) VALUES (:id, "
                        ":clinic, 'P', 'Q', '', :chart, 'neutral', '[]', '[]', '', '', '', '', "
                        "'2026-01-01', '2026-01-01', 1)"
                    ),
                    {"id": pid, "clinic": clinic, "chart": chart},
                )
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as c:
            keys = dict(c.execute(sa.text("SELECT id, chart_key FROM patient")).all())
        db.engine.dispose()
    assert keys == {1: "rph-1001", 2: "rph-1001#2", 3: "rph-1001", 4: "rph-1002"}
    out = capsys.readouterr().out
    assert "patient 2 (clinic 1): chart number 'RPH-1001' clashes with patient 1" in out


def test_a_clashing_patient_is_told_to_take_a_new_number(app, signed_in, clinician, make_patient):
    pid = make_patient(clinician.clinic_id, chart_number="Q-1")
    with app.app_context():
        db.session.get(Patient, pid).chart_key = f"q-1#{pid}"  # as the migration leaves a clash
        db.session.commit()
    page = signed_in.get(f"/patients/{pid}").get_data(as_text=True)
    assert "Give this patient a chart number of their own" in page
