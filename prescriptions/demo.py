"""The demo clinic: bulk-inserted so ten thousand patients take seconds, not minutes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from . import operations as ops
from . import queries
from .domain.vocab import CueSet, Diagnosis, Relaxation, Role
from .extensions import db
from .models import Assessment, Clinic, Patient, User, utcnow

DEMO_CLINIC = "FloorPlan Demo Clinic"
DEMO_EMAIL = "demo@floorplan.test"

GIVEN_FEMALE = [
    "Łucja", "Hoa", "Σοφία", "Анна", "Margaret", "Aisha", "Chloe", "Ingrid", "Priya", "Maria",
    "Siobhan", "Yuki", "Fatima", "Olivia", "Zofia", "Grace", "Amara", "Lena", "Rosa", "Ewa",
]  # fmt: skip
GIVEN_MALE = [
    "Tomasz", "Minh", "Dmitri", "George", "Omar", "Liam", "Henrik", "Raj", "José", "Kwame",
]  # fmt: skip
FAMILY = [
    "Wiśniewska", "Nguyễn", "Παπαδοπούλου", "Иванова", "O'Brien", "Khan", "Smith", "Larsen",
    "Patel", "García", "Murphy", "Tanaka", "Haddad", "Brown", "Kowalski", "Mensah", "Müller",
    "Rossi", "Dubois", "Nowak", "Jones", "Okafor", "Schmidt", "Silva", "Walsh",
]  # fmt: skip

FEMALE_DIAGNOSES = [
    [Diagnosis.STRESS_UI],
    [Diagnosis.MIXED_UI],
    [Diagnosis.URGE_UI],
    [Diagnosis.POSTPARTUM, Diagnosis.STRESS_UI],
    [Diagnosis.PELVIC_PAIN],
    [Diagnosis.PROLAPSE, Diagnosis.STRESS_UI],
]
MALE_DIAGNOSES = [[Diagnosis.POST_PROSTATECTOMY], [Diagnosis.URGE_UI], [Diagnosis.PELVIC_PAIN]]


@dataclass(frozen=True)
class DemoResult:
    clinic_id: int
    clinician_id: int
    email: str
    password: str
    patients: int
    created_user: bool


def seed_demo(patients: int, password: str, *, seed: int = 7) -> DemoResult:
    """Create (or extend) the demo clinic with a clinician and `patients` patients."""
    rng = random.Random(seed)  # noqa: S311 - repeatable demo data, not secrets
    clinic = queries.fetch_clinic_by_name(DEMO_CLINIC)
    if clinic is None:
        clinic = ops.create_clinic(
            DEMO_CLINIC,
            address="12 Harbour Street, Riverton",
            phone="+44 20 7946 0000",
            email="hello@floorplan.test",
            footer_text="Open Monday to Friday, 8am to 6pm.",
        )
    user = queries.fetch_user_by_email(DEMO_EMAIL)
    created_user = user is None
    if user is None:
        user = ops.create_user(
            clinic, email=DEMO_EMAIL, name="Dr Jo Demo", role=Role.CLINICIAN, password=password
        )
    start = queries.count_rows(Patient, clinic_id=clinic.id)
    _insert_patients(clinic, user, rng, start, patients)
    ops.record_event(ops.SYSTEM, "demo.seed", clinic, f"{patients} patients", clinic_id=clinic.id)
    return DemoResult(clinic.id, user.id, DEMO_EMAIL, password, patients, created_user)


def _insert_patients(clinic: Clinic, user: User, rng: random.Random, start: int, n: int) -> None:
    now = utcnow()
    today = date.today()
    rows = []
    for i in range(start, start + n):
        male = rng.random() < 0.25
        given = rng.choice(GIVEN_MALE if male else GIVEN_FEMALE)
        diagnoses = rng.choice(MALE_DIAGNOSES if male else FEMALE_DIAGNOSES)
        rows.append(
            {
                "clinic_id": clinic.id,
                "given_name": given,
                "family_name": rng.choice(FAMILY),
                "preferred_name": "",
                "date_of_birth": today - timedelta(days=rng.randint(25 * 365, 85 * 365)),
                "chart_number": f"D{i + 1:06d}",
                "cue_set": (CueSet.MALE if male else CueSet.FEMALE).value,
                "diagnoses": [d.value for d in diagnoses],
                "precautions": [],
                "phone": f"07700 9{rng.randint(0, 99999):05d}",
                "email": "",
                "address": "",
                "notes": "",
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
    for chunk in _chunks(rows, 2000):
        db.session.execute(sa.insert(Patient), chunk)
    ids = db.session.scalars(
        sa.select(Patient.id)
        .where(Patient.clinic_id == clinic.id, Patient.chart_number >= f"D{start + 1:06d}")
        .order_by(Patient.id)
    ).all()
    assessments = []
    for patient_id in ids:
        for visit in range(rng.choice((1, 1, 2))):
            grade = rng.randint(1, 4) + visit
            assessments.append(
                {
                    "clinic_id": clinic.id,
                    "patient_id": patient_id,
                    "clinician_id": user.id,
                    "assessed_on": today - timedelta(days=rng.randint(20, 40) - 28 * visit),
                    "oxford_grade": min(grade, 5),
                    "endurance_s": rng.randint(2, 6) + 2 * visit,
                    "repetitions": rng.randint(3, 8) + visit,
                    "fast_contractions": rng.randint(3, 9),
                    "relaxation": rng.choice(list(Relaxation)).value,
                    "pain": rng.randint(0, 5),
                    "leaks_per_week": rng.randint(0, 14),
                    "pads_per_day": rng.randint(0, 3),
                    "technique_confirmed": rng.random() < 0.85,
                    "iciq_total": rng.randint(3, 18),
                    "notes": "",
                    "created_at": now,
                }
            )
    for chunk in _chunks(assessments, 2000):
        db.session.execute(sa.insert(Assessment), chunk)


def _chunks(rows: list[dict[str, object]], size: int) -> list[list[dict[str, object]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]
