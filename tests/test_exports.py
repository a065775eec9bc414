"""Exports: a patient's record as JSON, the clinic's CSV files, a plan as a FHIR R4 bundle."""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan

from prescriptions.exports.fhir import (
    VALID_CAREPLAN_INTENT,
    VALID_CAREPLAN_STATUS,
    VALID_PERIOD_UNITS,
    code_problems,
)
from prescriptions.exports.tables import csv_cell
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, Patient, Plan, PlanItem
from tests.factories import FOREIGN_TEXT, count, issue, new_plan


@pytest.fixture
def patient_id(clinician, make_patient, make_assessment):
    pid = make_patient(
        clinician.clinic_id,
        given_name="Łucja",
        family_name="Wiśniewska",
        chart_number="=HYPERLINK(1)",
        notes="@risky note",
    )
    make_assessment(pid, clinician.id, endurance_s=4, assessed_on=date(2026, 10, 1))
    make_assessment(pid, clinician.id, endurance_s=6, assessed_on=date(2026, 11, 2))
    return pid


@pytest.fixture
def issued_plan(signed_in, patient_id, make_plan, issue_plan, log_week):
    """An issued plan with an acknowledged warning and two logged days."""
    plan_id = make_plan(
        patient_id,
        # a warning to acknowledge when issuing, and a note a spreadsheet would take for a formula
        first_item={"hold_s": 12, "rest_s": 12, "note": "-5 if it hurts"},
    )
    issue_plan(plan_id)
    log_week(
        plan_id,
        1,
        days={
            0: {"sessions_done": 2, "leaks": 1, "leak_trigger": "+cough"},
            1: {"sessions_done": 2, "leaks": 1, "leak_trigger": "lifting"},
        },
    )
    return plan_id


def _prescribed(app, plan_id, week):
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        return max(i.sessions_per_day for i in plan.items if i.week == week)


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


def _attachment_name(response):
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    return re.search(r'filename="([^"]+)"', disposition).group(1)


# --- the patient's record as JSON -------------------------------------------------------------


def test_patient_record_json(app, signed_in, patient_id, issued_plan, clinician):
    response = signed_in.get(f"/patients/{patient_id}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert _attachment_name(response) == "patient-HYPERLINK-1-record.json"
    record = json.loads(response.get_data(as_text=True))
    assert record["format"] == "floorplan-patient-record" and record["version"] == 1
    assert record["patient"]["family_name"] == "Wiśniewska"
    assert record["patient"]["date_of_birth"] == "1970-05-17"
    assert [a["assessed_on"] for a in record["assessments"]] == ["2026-10-01", "2026-11-02"]
    assert record["assessments"][1]["endurance_s"] == 6
    assert record["assessments"][0]["clinician"] == {"id": clinician.id, "name": clinician.name}

    (plan,) = record["plans"]
    assert plan["id"] == issued_plan and plan["status"] == "issued"
    with app.app_context():
        stored = db.session.scalars(sa.select(PlanItem).where(PlanItem.plan_id == issued_plan))
        assert len(plan["items"]) == len(stored.all())
    assert {item["week"] for item in plan["items"]} == {1, 2, 3, 4}
    first = plan["items"][0]
    assert first["hold_s"] == 12 and first["exercise"] == "Slow hold"
    assert plan["acknowledged_warnings"]
    assert plan["acknowledged_warnings"][0]["acknowledged_by"]["id"] == clinician.id
    assert [e["leak_trigger"] for e in plan["log_entries"]] == ["+cough", "lifting"]

    (event,) = _audit(app, "export.patient_json")
    assert event.record_type == "patient" and event.record_id == patient_id
    assert event.user_id == clinician.id


def test_patient_record_of_another_clinic_is_a_404(app, signed_in, other_clinic):
    response = signed_in.get(f"/patients/{other_clinic['patient']}/export.json")
    assert response.status_code == 404
    assert "Foreigner" not in response.get_data(as_text=True)
    assert not _audit(app, "export.patient_json")


# --- the clinic's CSV files -------------------------------------------------------------------


def _csv(response):
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_plans_items_and_logs_csv(
    admin_client, app, signed_in, issued_plan, other_clinic, clinician
):
    items = count(PlanItem, app, plan_id=issued_plan)
    plans = admin_client.get("/exports/plans.csv")
    assert plans.status_code == 200 and plans.mimetype == "text/csv"
    assert plans.headers["Cache-Control"] == "no-store"
    assert _attachment_name(plans).endswith("-plans.csv")
    (row,) = _csv(plans)
    assert row["plan_id"] == str(issued_plan) and row["status"] == "issued"
    assert row["family_name"] == "Wiśniewska" and row["author"] == clinician.name
    # Formula injection is neutralised: the cell starts with a quote, not with "=".
    assert row["chart_number"] == "'=HYPERLINK(1)"

    item_rows = _csv(admin_client.get("/exports/items.csv"))
    assert len(item_rows) == items
    assert item_rows[0]["exercise"] == "Slow hold" and item_rows[0]["note"] == "'-5 if it hurts"
    assert [r["week"] for r in item_rows] == sorted(r["week"] for r in item_rows)

    log_rows = _csv(admin_client.get("/exports/logs.csv"))
    assert [r["leak_trigger"] for r in log_rows] == ["'+cough", "lifting"]
    assert log_rows[0]["sessions_prescribed"] == str(_prescribed(app, issued_plan, 1))

    for kind in ("plans", "items", "logs"):
        (event,) = _audit(app, f"export.{kind}_csv")
        assert event.record_type == "clinic" and event.record_id == clinician.clinic_id


def test_csv_pages_through_many_plans(admin_client, app, signed_in, patient_id, monkeypatch):
    from prescriptions.exports import views

    plan_ids = [new_plan(signed_in, patient_id, once=f"p-{n}") for n in range(5)]
    small_pages = {
        kind: (columns, functools.partial(fetch, limit=2))
        for kind, (columns, fetch) in views.CSV_EXPORTS.items()
    }
    monkeypatch.setattr(views, "CSV_EXPORTS", small_pages)
    rows = _csv(admin_client.get("/exports/plans.csv"))
    assert [int(r["plan_id"]) for r in rows] == plan_ids
    items = _csv(admin_client.get("/exports/items.csv"))
    assert len(items) == count(PlanItem, app)
    assert [int(r["plan_id"]) for r in items] == sorted(int(r["plan_id"]) for r in items)
    assert sorted({int(r["plan_id"]) for r in items}) == plan_ids


def test_csv_never_shows_another_clinic(admin_client, signed_in, other_clinic, make_user, app):
    rows = _csv(admin_client.get("/exports/plans.csv"))
    assert rows == []
    text = admin_client.get("/exports/items.csv").get_data(as_text=True)
    assert "Foreigner" not in text


#: What only the signed-in clinic's records (the fixtures above) hold.
OWN_TEXT = ("Wiśniewska", "HYPERLINK(1)", "@risky note", "-5 if it hurts", "+cough")


def _exports(client, patient_ids, plan_ids):
    """Every export a clinic's user can download, as text: the CSVs, JSON records, FHIR."""
    texts = {
        f"{kind}.csv": client.get(f"/exports/{kind}.csv").get_data(as_text=True)
        for kind in ("plans", "items", "logs")
    }
    for pid in patient_ids:
        texts[f"patient {pid}"] = client.get(f"/patients/{pid}/export.json").get_data(as_text=True)
    for plan_id in plan_ids:
        texts[f"plan {plan_id}"] = client.get(f"/plans/{plan_id}/fhir.json").get_data(as_text=True)
    return texts


def _exported_ids(texts):
    """(patient ids, plan ids) named by the CSVs' id columns and the JSON records."""
    patients, plans = set(), set()
    for kind in ("plans", "items", "logs"):
        for row in csv.DictReader(io.StringIO(texts[f"{kind}.csv"].lstrip("\ufeff"))):
            plans.add(int(row["plan_id"]))
            if "patient_id" in row:
                patients.add(int(row["patient_id"]))
    for name, text in texts.items():
        if name.startswith("patient "):
            record = json.loads(text)
            patients.add(record["patient"]["id"])
            plans.update(p["id"] for p in record["plans"])
    return patients, plans


def test_no_export_of_one_clinic_holds_a_byte_of_the_others(
    app,
    admin_client,
    admin,
    clinician,
    issued_plan,
    patient_id,
    other_clinic,
    make_user,
    make_plan,
    issue_plan,
    log_week,
    sign_in_as,
):
    """Both clinics have issued plans with items and logs, their ids interleaved; each clinic's
    CSV, JSON and FHIR exports hold all of its own records and nothing of the other's."""
    foreign_plan = issue_plan(make_plan(other_clinic["patient"], title="Okapi programme"))
    log_week(foreign_plan, 2, days={3: {"sessions_done": 1, "note": "Quokka log note"}})
    own_plan = issue_plan(make_plan(patient_id))
    log_week(own_plan, 1, days={0: {"sessions_done": 1, "leak_trigger": "+cough"}})
    own_plans = {issued_plan, own_plan}
    foreign_plans = {*other_clinic["plans"], foreign_plan}
    with app.app_context():
        foreign_patients = set(
            db.session.scalars(
                sa.select(Patient.id).where(Patient.clinic_id == other_clinic["clinic"])
            )
        )
    assert len(foreign_patients) == 2
    # interleaved ids: a filter on id ranges alone would take some of the other clinic's rows
    assert min(foreign_plans) < max(own_plans) and min(own_plans) < max(foreign_plans)

    own = _exports(admin_client, [patient_id], own_plans)
    for name, text in own.items():
        leaked = [marker for marker in FOREIGN_TEXT if marker in text]
        assert not leaked, (name, leaked)
    assert all(any(marker in text for text in own.values()) for marker in OWN_TEXT)
    assert _exported_ids(own) == ({patient_id}, own_plans)

    foreign_client = sign_in_as(make_user(other_clinic["clinic"], role="admin", name="Olga Admin"))
    theirs = _exports(foreign_client, foreign_patients, foreign_plans)
    for name, text in theirs.items():
        leaked = [marker for marker in (*OWN_TEXT, admin.name, clinician.name) if marker in text]
        assert not leaked, (name, leaked)
    assert all(any(marker in text for text in theirs.values()) for marker in FOREIGN_TEXT)
    assert _exported_ids(theirs) == (foreign_patients, foreign_plans)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("", ""),
        (None, ""),
        (-2, -2),
        (date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


# --- FHIR -------------------------------------------------------------------------------------


def test_plan_as_fhir_bundle(app, signed_in, issued_plan, patient_id, clinician):
    response = signed_in.get(f"/plans/{issued_plan}/fhir.json")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    assert _attachment_name(response) == f"plan-{issued_plan}-r1-fhir.json"
    text = response.get_data(as_text=True)
    bundle = Bundle.model_validate_json(text)  # the library validates every resource
    assert bundle.type == "collection"
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds == ["Patient", "Practitioner", "Organization", "Goal", "CarePlan"]
    urls = {entry.fullUrl for entry in bundle.entry}

    care_plan = bundle.entry[-1].resource
    assert isinstance(care_plan, CarePlan)
    assert care_plan.status == "active" and care_plan.intent == "plan"
    assert care_plan.status in VALID_CAREPLAN_STATUS and care_plan.intent in VALID_CAREPLAN_INTENT
    assert care_plan.subject.reference in urls and care_plan.author.reference in urls
    assert care_plan.goal[0].reference in urls

    with app.app_context():
        plan = db.session.get(Plan, issued_plan)
        expected = [(i.week, i.exercise_code, i.sessions_per_day) for i in plan.items]
        start = plan.start_date
    # One activity per exercise per week, scheduled within its week at its sessions a day.
    assert len(care_plan.activity) == len(expected)
    for activity, (week, code, sessions) in zip(care_plan.activity, expected, strict=True):
        detail = activity.detail
        assert detail.code.coding[0].code == code
        repeat = detail.scheduledTiming.repeat
        assert repeat.boundsPeriod.start == start + timedelta(days=7 * (week - 1))
        assert repeat.boundsPeriod.end == start + timedelta(days=7 * week - 1)
        assert (repeat.frequency, repeat.period, repeat.periodUnit) == (sessions, 1, "d")
        assert repeat.periodUnit in VALID_PERIOD_UNITS
        assert detail.description.startswith(f"Week {week}: ")
        assert "reps" in detail.description
    weeks = {(a.detail.description.split(":")[0], a.detail.code.text) for a in care_plan.activity}
    assert len(weeks) == len(expected)

    patient = bundle.entry[0].resource
    assert patient.name[0].family == "Wiśniewska"
    assert patient.identifier[0].value == "=HYPERLINK(1)"
    assert code_problems(json.loads(text)) == []

    (event,) = _audit(app, "export.plan_fhir")
    assert event.record_type == "plan" and event.record_id == issued_plan


@pytest.mark.parametrize(
    ("action", "status"), [(None, "draft"), ("cancel", "revoked"), ("complete", "completed")]
)
def test_fhir_status_follows_the_plan(signed_in, patient_id, action, status):
    plan_id = new_plan(signed_in, patient_id)
    if action:
        issue(signed_in, plan_id)
        data = {"reason": "Moved away"} if action == "cancel" else {}
        assert signed_in.post(f"/plans/{plan_id}/{action}", data=data).status_code == 302
    bundle = json.loads(signed_in.get(f"/plans/{plan_id}/fhir.json").get_data(as_text=True))
    care_plan = bundle["entry"][-1]["resource"]
    assert care_plan["status"] == status
    assert code_problems(bundle) == []


def test_code_problems_catches_bad_codes():
    bundle = {
        "entry": [
            {
                "resource": {
                    "resourceType": "CarePlan",
                    "status": "cancelled",
                    "intent": "care",
                    "activity": [
                        {
                            "detail": {
                                "status": "issued",
                                "scheduledTiming": {"repeat": {"periodUnit": "day"}},
                            }
                        }
                    ],
                }
            },
            {"resource": {"resourceType": "Goal", "lifecycleStatus": "draft"}},
        ]
    }
    assert len(code_problems(bundle)) == 5


def test_fhir_of_another_clinics_plan_is_a_404(app, signed_in, other_clinic):
    response = signed_in.get(f"/plans/{other_clinic['plan']}/fhir.json")
    assert response.status_code == 404
    assert "Foreigner" not in response.get_data(as_text=True)
    assert not _audit(app, "export.plan_fhir")


# --- the exports page and access --------------------------------------------------------------


def test_exports_page(signed_in, admin_client):
    response = admin_client.get("/exports")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for path in ("/exports/plans.csv", "/exports/items.csv", "/exports/logs.csv"):
        assert f'href="{path}"' in page
    assert "FHIR" in page and "JSON" in page
    # the whole clinic at once is for administrators; clinicians export patient by patient
    clinician_page = signed_in.get("/exports").get_data(as_text=True)
    assert "/exports/plans.csv" not in clinician_page and "JSON" in clinician_page
    assert signed_in.get("/exports/plans.csv").status_code == 403


@pytest.mark.parametrize(
    "path",
    ["/exports", "/exports/plans.csv", "/patients/1/export.json", "/plans/1/fhir.json"],
)
def test_exports_need_a_signed_in_user(client, clinician, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.location


def test_unknown_csv_is_a_404(admin_client):
    assert admin_client.get("/exports/users.csv").status_code == 404
