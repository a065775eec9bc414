"""Issue 15, app side: the clinic's emergency numbers (settings, country defaults, snapshot and
print), the download name, and the snapshot fields the renderer tailors the handout with."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from prescriptions.domain.emergency import COUNTRIES, default_numbers
from prescriptions.domain.vocab import PlanStatus
from prescriptions.exercises.queries import fetch_catalogue
from prescriptions.extensions import db
from prescriptions.mapping.handouts import ascii_name, download_name, handout_snapshot
from prescriptions.models import Clinic, Plan
from tests.factories import new_plan


def _settings(client, **extra):
    page = client.get("/admin/clinic").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    data = {"name": "Harbour", "address": "", "phone": "0123", "email": "", "paper": "a4",
            "footer_text": "", "version": version}  # fmt: skip
    return client.post("/admin/clinic", data={**data, **extra}, content_type="multipart/form-data")


def _clinic(app, admin) -> Clinic:
    with app.app_context():
        clinic = db.session.get(Clinic, admin.clinic_id)
        db.session.expunge(clinic)
        return clinic


def test_a_country_fills_in_its_numbers_when_left_empty(app, admin_client, admin):
    assert _settings(admin_client, country="GB").status_code == 302
    clinic = _clinic(app, admin)
    assert (clinic.country, clinic.emergency_number, clinic.out_of_hours_number) == (
        "GB",
        "999",
        "NHS 111",
    )
    page = admin_client.get("/admin/clinic").get_data(as_text=True)
    assert 'value="999"' in page  # shown back, so the clinic sees and confirms what prints


def test_typed_numbers_win_over_the_country_defaults(app, admin_client, admin):
    response = _settings(
        admin_client, country="US", emergency_number="911", out_of_hours_number="555 0100"
    )
    assert response.status_code == 302
    clinic = _clinic(app, admin)
    assert (clinic.emergency_number, clinic.out_of_hours_number) == ("911", "555 0100")


def test_somewhere_else_fills_in_nothing(app, admin_client, admin):
    assert _settings(admin_client, country="XX").status_code == 302
    clinic = _clinic(app, admin)
    assert (clinic.emergency_number, clinic.out_of_hours_number) == ("", "")


@pytest.mark.parametrize("number", ["call nine", "<b>999</b>", "+", "9" * 21])
def test_a_number_that_cannot_be_dialled_is_refused_beside_the_field(
    app, admin_client, admin, number
):
    response = _settings(admin_client, country="GB", emergency_number=number)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "digits" in page or "characters" in page
    assert _clinic(app, admin).emergency_number == ""


def test_every_country_default_has_an_emergency_number() -> None:
    for code, numbers in COUNTRIES.items():
        assert re.search(r"\d{3}", numbers.emergency), code
    assert default_numbers("GB").out_of_hours == "NHS 111"
    assert default_numbers("ZZ") is None


def test_the_handout_prints_the_clinics_numbers(app, admin_client, admin, make_patient):
    _settings(admin_client, country="GB")
    patient = make_patient(admin.clinic_id, chart_number="Ü-1", cue_set="male")
    plan_id = new_plan(admin_client, patient)
    response = admin_client.get(f"/plans/{plan_id}/handout.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Call 999 now, or go to the emergency department." in text
    assert "When we are closed, call NHS 111 for advice." in text
    assert "vagina" not in text  # a male cue set gets no vaginal-bleeding line
    assert 'filename="handout-U-1-' in response.headers["Content-Disposition"]
    assert "-v1-DRAFT.pdf" in response.headers["Content-Disposition"]
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        snap = handout_snapshot(
            plan, db.session.get(Clinic, admin.clinic_id), fetch_catalogue(admin.clinic_id)
        )
    assert snap.clinic.emergency_number == "999"
    assert snap.approach == "strengthening" and snap.cue_set == "male"
    assert snap.when_to_stop == ()
    doses = [d for w in snap.weeks for d in w.doses]
    assert doses and all(d.kind and d.position_code for d in doses)
    assert all(g.kind for g in snap.exercises)


def test_download_names_transliterate_and_carry_the_revision() -> None:
    assert ascii_name("Ü Łódź Straße Ærø") == "U Lodz Strasse AEro"

    def plan(chart: str, revision: int, status: str) -> SimpleNamespace:
        from datetime import date

        return SimpleNamespace(
            patient=SimpleNamespace(chart_number=chart),
            start_date=date(2026, 11, 30),
            revision=revision,
            status=status,
        )

    assert download_name(plan("HP/Ü7", 3, PlanStatus.ISSUED)) == "handout-HP-U7-2026-11-30-v3.pdf"
    assert download_name(plan("", 1, PlanStatus.DRAFT)) == "handout-plan-2026-11-30-v1-DRAFT.pdf"
    assert download_name(plan("日本", 2, PlanStatus.ISSUED)) == "handout-plan-2026-11-30-v2.pdf"
