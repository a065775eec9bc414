"""The demo clinic: bulk-inserted so ten thousand patients take seconds, not minutes."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..accounts.operations import create_clinic, create_user
from ..accounts.queries import fetch_clinic_by_name, fetch_user_by_email
from ..audit import SYSTEM, record_event
from ..database import count_rows
from ..domain.progression import BUILTIN_TEMPLATES, AssessmentFacts, Item, propose_items
from ..domain.vocab import CueSet, Diagnosis, PlanStatus, Relaxation, Role
from ..extensions import db
from ..models import Assessment, Clinic, LogEntry, Patient, Plan, PlanItem, User, utcnow
from ..plans.operations import PLAN_LENGTH_DAYS

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
    # Repeatable demo data, not secrets.
    rng = random.Random(seed)  # noqa: S311  # nosec B311
    clinic = fetch_clinic_by_name(DEMO_CLINIC)
    if clinic is None:
        clinic = create_clinic(
            DEMO_CLINIC,
            address="12 Harbour Street, Riverton",
            phone="+44 20 7946 0000",
            email="hello@floorplan.test",
            footer_text="Open Monday to Friday, 8am to 6pm.",
        )
    user = fetch_user_by_email(DEMO_EMAIL)
    created_user = user is None
    if user is None:
        user = create_user(
            clinic, email=DEMO_EMAIL, name="Dr Jo Demo", role=Role.CLINICIAN, password=password
        )
    start = count_rows(Patient, clinic_id=clinic.id)
    patient_rows = _insert_patients(clinic, user, rng, start, patients)
    _insert_plans(clinic.id, user.id, rng, patient_rows)
    record_event(SYSTEM, "demo.seed", clinic, f"{patients} patients", clinic_id=clinic.id)
    return DemoResult(clinic.id, user.id, DEMO_EMAIL, password, patients, created_user)


def _insert_patients(
    clinic: Clinic, user: User, rng: random.Random, start: int, n: int
) -> list[tuple[int, list[str], AssessmentFacts]]:
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
    _insert(Patient, rows)
    ids = db.session.scalars(
        sa.select(Patient.id)
        .where(Patient.clinic_id == clinic.id, Patient.chart_number >= f"D{start + 1:06d}")
        .order_by(Patient.id)
    ).all()
    assessments = []
    seeded = []
    for patient_id, row in zip(ids, rows, strict=True):
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
        latest = assessments[-1]
        facts = AssessmentFacts(
            oxford_grade=latest["oxford_grade"],
            endurance_s=latest["endurance_s"],
            repetitions=latest["repetitions"],
            fast_contractions=latest["fast_contractions"],
            relaxation=Relaxation(latest["relaxation"]),
            pain=latest["pain"],
            technique_confirmed=latest["technique_confirmed"],
        )
        seeded.append((patient_id, row["diagnoses"], facts))
    _insert(Assessment, assessments)
    return seeded


#: (template of the current plan, template of the earlier completed plan)
_PLAN_MIX = {
    "pelvic_pain": ("down_training", "down_training"),
    "post_prostatectomy": ("post_prostatectomy", "strengthening"),
    "postpartum": ("postpartum", "postpartum"),
    "mixed_ui": ("balanced", "strengthening"),
    "urge_ui": ("balanced", "down_training"),
}
_DEFAULT_MIX = ("strengthening", "balanced")


def _insert_plans(
    clinic_id: int,
    author_id: int,
    rng: random.Random,
    patients: list[tuple[int, list[str], AssessmentFacts]],
) -> None:
    """Four plans a patient: a completed one, an issued one and its revision, and a draft."""
    today = date.today()
    now = utcnow()
    proposals: dict[tuple[str, AssessmentFacts], tuple[Item, ...]] = {}

    def items_for(code: str, facts: AssessmentFacts) -> tuple[Item, ...]:
        key = (code, facts)
        if key not in proposals:
            proposals[key] = propose_items(BUILTIN_TEMPLATES[code], facts)
        return proposals[key]

    def plan_row(patient_id: int, code: str, start: date, status: str, **extra: object) -> dict:
        template = BUILTIN_TEMPLATES[code]
        issued = status != PlanStatus.DRAFT
        return {
            "clinic_id": clinic_id,
            "patient_id": patient_id,
            "author_id": author_id,
            "template_code": code,
            "title": template.name,
            "approach": template.approach,
            "purpose": template.purpose,
            "start_date": start,
            "end_date": start + timedelta(days=PLAN_LENGTH_DAYS),
            "status": status,
            "status_reason": "",
            "revision": 1,
            "revises_id": None,
            "notes_to_patient": "",
            "paper": None,
            "large_print": False,
            "cue_set": None,
            "issued_at": now if issued else None,
            "issued_by_id": author_id if issued else None,
            "closed_at": None,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            **extra,
        }

    firsts, drafts, plan_items = [], [], []
    for patient_id, diagnoses, facts in patients:
        mix = next((_PLAN_MIX[d] for d in diagnoses if d in _PLAN_MIX), _DEFAULT_MIX)
        current, earlier = mix
        # the draft is the next four-week block, being prepared from the current template
        draft = current
        started = today - timedelta(days=rng.randint(8, 20))
        firsts.append(
            (
                plan_row(patient_id, earlier, started - timedelta(days=35), PlanStatus.COMPLETED),
                earlier,
                facts,
            )
        )
        firsts.append(
            (
                plan_row(
                    patient_id,
                    current,
                    started,
                    PlanStatus.SUPERSEDED,
                    status_reason="Replaced by revision 2",
                ),
                current,
                facts,
            )
        )
        drafts.append((plan_row(patient_id, draft, today, PlanStatus.DRAFT), draft, facts))
    first_ids = _insert_returning_ids([row for row, _, _ in firsts])
    revisions = []
    for plan_id, (row, code, facts) in zip(first_ids, firsts, strict=True):
        plan_items.extend(_item_rows(plan_id, items_for(code, facts)))
        if row["status"] == PlanStatus.SUPERSEDED:
            revised = [_step_down(i) for i in items_for(code, facts)]
            revisions.append(
                (
                    {
                        **row,
                        "status": PlanStatus.ISSUED.value,
                        "status_reason": "",
                        "revision": 2,
                        "revises_id": plan_id,
                    },
                    revised,
                )
            )
    revision_ids = _insert_returning_ids([row for row, _ in revisions])
    for plan_id, (_, items) in zip(revision_ids, revisions, strict=True):
        plan_items.extend(_item_rows(plan_id, items))
    draft_ids = _insert_returning_ids([row for row, _, _ in drafts])
    for plan_id, (_, code, facts) in zip(draft_ids, drafts, strict=True):
        plan_items.extend(_item_rows(plan_id, items_for(code, facts)))
    _insert(PlanItem, plan_items)
    _insert_logs(clinic_id, author_id, rng, revision_ids, revisions, today, now)


def _step_down(item: Item) -> Item:
    """The revision eases week 2 a little, as after a review of the first week."""
    if item.week == 2 and item.reps > 4:
        return replace(item, reps=item.reps - 1)
    return item


#: Rows per executemany: large enough to amortise each round trip, small enough for memory.
CHUNK = 5000


def _insert(model: type[db.Model], rows: list[dict]) -> None:
    """Insert rows in batches: COPY on PostgreSQL, one executemany a chunk elsewhere.

    Through the table, not the ORM: the ORM's bulk insert leaves out the keys whose value is
    None, so rows with and without a hold or a leak count fell into different groups and most
    went one statement a row."""
    if not rows:
        return
    table = model.__table__
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        _copy(table, rows, connection.connection.driver_connection)
        return
    for chunk in _chunks(rows, CHUNK):
        db.session.execute(sa.insert(table), chunk)


def _copy(table: sa.Table, rows: list[dict], driver_connection: Any) -> None:
    """Stream rows into a PostgreSQL table with COPY, in the session's transaction."""
    names = list(rows[0])
    unset = [c.name for c in table.columns if c.default is not None and c.name not in names]
    if unset:
        raise ValueError(f"demo rows for {table.name} leave out {unset}")
    as_json = {n for n in names if isinstance(table.columns[n].type, sa.JSON)}
    columns = ", ".join(f'"{n}"' for n in names)
    statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[n]) if n in as_json else row[n] for n in names])


def _insert_returning_ids(rows: list[dict]) -> list[int]:
    """Insert plan rows in batches; their new ids in the order of the rows.

    Read back by (patient, revision, start), unique among a seed's plans: SQLite answers an
    insert with RETURNING in parameter order only one row at a time."""
    if not rows:
        return []
    if len({(r["patient_id"], r["revision"], r["start_date"]) for r in rows}) < len(rows):
        raise ValueError("two demo plans of one patient share a revision and a start date")
    _insert(Plan, rows)
    first = min(row["patient_id"] for row in rows)
    found = db.session.execute(
        sa.select(Plan.patient_id, Plan.revision, Plan.start_date, Plan.id).where(
            Plan.clinic_id == rows[0]["clinic_id"], Plan.patient_id >= first
        )
    )
    ids = {(patient, revision, start): plan_id for patient, revision, start, plan_id in found}
    return [ids[row["patient_id"], row["revision"], row["start_date"]] for row in rows]


def _item_rows(plan_id: int, items: Iterable[Item]) -> list[dict]:
    return [
        {
            "plan_id": plan_id,
            "week": item.week,
            "seq": item.order,
            "exercise_code": item.exercise,
            "position": item.position.value,
            "hold_s": item.hold_s,
            "rest_s": item.rest_s,
            "reps": item.reps,
            "sets": item.sets,
            "sessions_per_day": item.sessions_per_day,
            "effort_pct": item.effort_pct,
            "note": item.note,
        }
        for item in items
    ]


_TRIGGERS = ("cough", "sneeze", "lifting", "running", "laughing", "on the way to the toilet")


def _insert_logs(
    clinic_id: int,
    author_id: int,
    rng: random.Random,
    plan_ids: list[int],
    plans: list[tuple[dict, list[Item]]],
    today: date,
    now: datetime,
) -> None:
    """Returned logging sheets for the issued plans, up to yesterday."""
    rows = []
    for plan_id, (plan, items) in zip(plan_ids, plans, strict=True):
        start: date = plan["start_date"]
        keen = rng.random()  # some patients keep up, some struggle
        for offset in range(min((today - start).days, 28)):
            week = offset // 7 + 1
            prescribed = max((i.sessions_per_day for i in items if i.week == week), default=0)
            done = sum(rng.random() < keen + 0.15 for _ in range(prescribed))
            leaks = max(0, int(rng.gauss(2.5 - week * 0.4, 1.2)))
            rows.append(
                {
                    "clinic_id": clinic_id,
                    "plan_id": plan_id,
                    "day": start + timedelta(days=offset),
                    "sessions_done": done,
                    "sessions_prescribed": prescribed,
                    "longest_hold_s": rng.randint(3, 4 + 2 * week) if done else None,
                    "leaks": leaks,
                    "leak_trigger": rng.choice(_TRIGGERS) if leaks else "",
                    "urgency": rng.randint(0, 2),
                    "pain": rng.randint(0, 3),
                    "note": "",
                    "entered_by_id": author_id,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
    _insert(LogEntry, rows)


def _chunks(rows: list[dict], size: int) -> list[list[dict]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]
