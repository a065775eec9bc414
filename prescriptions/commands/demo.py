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
from ..domain.blocks import DEFAULT_BLOCKS, LoggedDay, patient_reason, propose_next_block
from ..domain.catalogue import SLOW_HOLD
from ..domain.progression import BUILTIN_TEMPLATES, AssessmentFacts, Item, dose_of, propose_items
from ..domain.vocab import CueSet, Diagnosis, PlanStatus, ProgrammeStatus, Relaxation, Role
from ..extensions import db
from ..models import (
    Assessment,
    Clinic,
    LogEntry,
    Patient,
    Plan,
    PlanItem,
    Programme,
    User,
    chart_key,
)
from ..plans.operations import PLAN_LENGTH_DAYS
from ..programmes.operations import refresh_block_sums

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


ADMIN_EMAIL = "admin@floorplan.test"

#: What each patient of a run of twenty is going through this week, so any number of patients
#: looks like a clinic's caseload: most on a programme (some revised after a review, some on a
#: second block), one new patient with a draft being prepared, one just assessed, a few
#: finished, one who stopped.
WEEK = (
    "active", "revised", "active", "new_draft", "second", "active", "finished", "active",
    "cancelled", "active", "new", "active", "revised", "active", "second", "active",
    "finished", "active", "active", "active",
)  # fmt: skip

CANCEL_REASONS = (
    "Moved away; care continues at a clinic closer to home.",
    "Started a hospital programme instead.",
)


@dataclass(frozen=True)
class DemoResult:
    clinic_id: int
    clinician_id: int
    email: str
    password: str
    patients: int
    created_user: bool
    admin_email: str = ADMIN_EMAIL
    created_admin: bool = False


@dataclass(frozen=True)
class Seeded:
    """A patient just inserted: what the plans need to know about them."""

    patient_id: int
    diagnoses: list[str]
    facts: AssessmentFacts
    stage: str
    start: date  #: the first day of the patient's current (or last) plan


def seed_demo(patients: int, password: str, *, seed: int = 7) -> DemoResult:
    """Create (or extend) the demo clinic: a clinician, an administrator, `patients` patients."""
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
            country="GB",
            emergency_number="999",
            out_of_hours_number="NHS 111",
        )
    user = fetch_user_by_email(DEMO_EMAIL)
    created_user = user is None
    if user is None:
        user = create_user(
            clinic, email=DEMO_EMAIL, name="Dr Jo Demo", role=Role.CLINICIAN, password=password
        )
    created_admin = fetch_user_by_email(ADMIN_EMAIL) is None
    if created_admin:
        create_user(clinic, email=ADMIN_EMAIL, name="Sam Reyes", role=Role.ADMIN, password=password)
    start = count_rows(Patient, clinic_id=clinic.id)
    patient_rows = _insert_patients(clinic, user, rng, start, patients)
    _insert_plans(clinic.id, user.id, rng, patient_rows)
    refresh_block_sums(clinic.id)  # the bulk insert of logged days bypassed the flush events
    record_event(SYSTEM, "demo.seed", clinic, f"{patients} patients", clinic_id=clinic.id)
    return DemoResult(
        clinic.id, user.id, DEMO_EMAIL, password, patients, created_user,
        ADMIN_EMAIL, created_admin,
    )  # fmt: skip


def _first_start(stage: str, rng: random.Random, today: date) -> date:
    """The first day of the plan a patient in this stage is on (or last finished)."""
    if stage == "new_draft":
        return today + timedelta(days=rng.randint(0, 2))
    if stage == "new":
        return today
    if stage == "finished":
        return today - timedelta(days=PLAN_LENGTH_DAYS + rng.randint(5, 60))
    if stage == "revised":
        return today - timedelta(days=rng.randint(9, 26))
    return today - timedelta(days=rng.randint(1, 26))


def _visits(stage: str, start: date, rng: random.Random, today: date) -> list[date]:
    """The days the patient was assessed: before the plan, and at its reviews."""
    first = start - timedelta(days=rng.randint(1, 6))
    if stage == "new":
        return [today - timedelta(days=rng.randint(0, 1))]
    if stage == "second":
        return [first - timedelta(days=35), first]
    if stage == "revised":
        return [first, start + timedelta(days=7)]
    if stage == "finished":  # before block 1 (two blocks before this one) and after block 3
        return [
            first - timedelta(days=2 * BLOCK_DAYS),
            start + timedelta(days=PLAN_LENGTH_DAYS + 1),
        ]
    return [min(first, today)]


def _insert_patients(
    clinic: Clinic, user: User, rng: random.Random, start: int, n: int
) -> list[Seeded]:
    today = date.today()
    rows, plans = [], []
    for i in range(start, start + n):
        male = rng.random() < 0.25
        given = rng.choice(GIVEN_MALE if male else GIVEN_FEMALE)
        diagnoses = rng.choice(MALE_DIAGNOSES if male else FEMALE_DIAGNOSES)
        stage = WEEK[i % len(WEEK)]
        first_day = _first_start(stage, rng, today)
        visits = _visits(stage, first_day, rng, today)
        joined = datetime.combine(visits[0], datetime.min.time()) + timedelta(
            hours=rng.randint(8, 17), minutes=rng.randint(0, 59)
        )
        plans.append((stage, first_day, visits))
        rows.append(
            {
                "clinic_id": clinic.id,
                "given_name": given,
                "family_name": rng.choice(FAMILY),
                "preferred_name": "",
                "date_of_birth": today - timedelta(days=rng.randint(25 * 365, 85 * 365)),
                "chart_number": f"D{i + 1:06d}",
                "chart_key": chart_key(f"D{i + 1:06d}"),
                "cue_set": (CueSet.MALE if male else CueSet.FEMALE).value,
                "diagnoses": [d.value for d in diagnoses],
                "precautions": [],
                "phone": f"07700 9{rng.randint(0, 99999):05d}",
                "email": "",
                "address": "",
                "notes": "",
                "created_at": joined,
                "updated_at": joined,
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
    for patient_id, row, (stage, first_day, visits) in zip(ids, rows, plans, strict=True):
        for visit, day in enumerate(visits):
            grade = rng.randint(1, 4) + visit
            assessments.append(
                {
                    "clinic_id": clinic.id,
                    "patient_id": patient_id,
                    "clinician_id": user.id,
                    "assessed_on": day,
                    "oxford_grade": min(grade, 5),
                    "endurance_s": rng.randint(2, 6) + 2 * visit,
                    "repetitions": rng.randint(3, 8) + visit,
                    "fast_contractions": rng.randint(3, 9),
                    "relaxation": rng.choice(list(Relaxation)).value,
                    "pain": rng.randint(0, 5),
                    "leaks_per_week": max(0, rng.randint(0, 14) - 4 * visit),
                    "pads_per_day": rng.randint(0, 3),
                    "technique_confirmed": rng.random() < 0.85,
                    "iciq_total": max(0, rng.randint(3, 18) - 3 * visit),
                    "notes": "",
                    "void_reason": "",
                    "created_at": datetime.combine(day, datetime.min.time())
                    + timedelta(hours=rng.randint(8, 17)),
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
        seeded.append(Seeded(patient_id, row["diagnoses"], facts, stage, first_day))
    _insert(Assessment, assessments)
    return seeded


BLOCK_DAYS = PLAN_LENGTH_DAYS + 1  #: one four-week block

#: the programme's goal in the patient's words, by template
_GOALS = {
    "strengthening": "No more leaks when I cough, sneeze or lift.",
    "balanced": "Fewer dashes to the toilet and no leaks on the way.",
    "down_training": "Less pain, and able to relax the muscles.",
    "post_prostatectomy": "Dry again after the operation, day and night.",
    "postpartum": "Strong again after the baby; back to running without leaks.",
}

#: (template of the current plan, template of the earlier completed plan)
_PLAN_MIX = {
    "pelvic_pain": ("down_training", "down_training"),
    "post_prostatectomy": ("post_prostatectomy", "strengthening"),
    "postpartum": ("postpartum", "postpartum"),
    "mixed_ui": ("balanced", "strengthening"),
    "urge_ui": ("balanced", "down_training"),
}
_DEFAULT_MIX = ("strengthening", "balanced")


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)


def _insert_plans(
    clinic_id: int, author_id: int, rng: random.Random, patients: list[Seeded]
) -> None:
    """Each patient's plans as their stage of the week has them, with the sheets returned."""
    today = date.today()
    proposals: dict[tuple[str, AssessmentFacts], tuple[Item, ...]] = {}

    def items_for(code: str, facts: AssessmentFacts) -> tuple[Item, ...]:
        key = (code, facts)
        if key not in proposals:
            proposals[key] = propose_items(BUILTIN_TEMPLATES[code], facts)
        return proposals[key]

    def plan_row(patient_id: int, code: str, start: date, status: str, **extra: object) -> dict:
        template = BUILTIN_TEMPLATES[code]
        extra.setdefault("block_number", 1)
        issued = status != PlanStatus.DRAFT
        made = _at(min(start, today) - timedelta(days=1), 10)
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
            "lineage_id": None,
            "notes_to_patient": "",
            "paper": None,
            "large_print": False,
            "cue_set": None,
            "issued_at": made if issued else None,
            "issued_by_id": author_id if issued else None,
            "closed_at": None,
            "created_at": made,
            "updated_at": made,
            "version": 1,
            "programme_id": programme_ids[patient_id],
            **extra,
        }

    programme_ids = _insert_programmes(clinic_id, author_id, rng, patients, today)

    def next_block(
        code: str,
        block: int,
        start: date,
        items: tuple[Item, ...],
        days: list[dict],
        facts: AssessmentFacts,
    ) -> tuple[tuple[Item, ...], dict[str, tuple[str, str]]]:
        """Block `block` proposed from the last block's returned days, with the reasons."""
        logged = [
            LoggedDay(d["day"], (d["day"] - start).days // 7 + 1, d["sessions_done"],
                      d["sessions_prescribed"], d["longest_hold_s"], d["pain"])
            for d in days
        ]  # fmt: skip
        template = BUILTIN_TEMPLATES[code]
        proposal = propose_next_block(code, template.approach, block, items, logged, facts)
        reasons = {
            d.exercise: (" ".join(d.reasons), patient_reason(d, proposal.evidence))
            for d in proposal.decisions
        }
        return proposal.items, reasons

    # (row, items, returned days, reasons); revisions wait for the id of the plan they revise
    roots: list[tuple[dict, tuple[Item, ...], list[dict], dict[str, tuple[str, str]]]] = []
    revisions: list[tuple[int, dict, tuple[Item, ...], list[dict]]] = []

    def sheets(start: date, items: tuple[Item, ...], days: int, block: int = 1) -> list[dict]:
        return _log_days(rng, start, items, days, today, block)

    for patient in patients:
        mix = next((_PLAN_MIX[d] for d in patient.diagnoses if d in _PLAN_MIX), _DEFAULT_MIX)
        current, earlier = mix
        items = items_for(current, patient.facts)
        start, stage, pid = patient.start, patient.stage, patient.patient_id
        # sheets come back at the weekly visit: the days up to the last one, or a few days late
        returned = max(0, min(PLAN_LENGTH_DAYS + 1, (today - start).days - rng.randint(0, 6)))
        if stage == "new":
            continue
        if stage == "new_draft":
            roots.append((plan_row(pid, current, start, PlanStatus.DRAFT), items, [], {}))
            continue
        if stage == "second":
            # block 1 done; block 2, running now, was proposed from block 1's sheets
            first = start - timedelta(days=PLAN_LENGTH_DAYS + 8)
            done = plan_row(
                pid, current, first, PlanStatus.COMPLETED,
                closed_at=_at(first + timedelta(days=PLAN_LENGTH_DAYS + 1), 11),
            )  # fmt: skip
            days = sheets(first, items, BLOCK_DAYS)
            roots.append((done, items, days, {}))
            items, reasons = next_block(current, 2, first, items, days, patient.facts)
            row = plan_row(pid, current, start, PlanStatus.ISSUED, block_number=2)
            roots.append((row, items, sheets(start, items, returned, 2), reasons))
            continue
        if stage == "finished":
            # three blocks done, each proposed from the one before
            reasons: dict[str, tuple[str, str]] = {}
            for block in (1, 2, 3):
                begins = start - timedelta(days=BLOCK_DAYS * (3 - block))
                closed = _at(begins + timedelta(days=BLOCK_DAYS), 11)
                row = plan_row(
                    pid, current, begins, PlanStatus.COMPLETED, closed_at=closed,
                    block_number=block,
                )  # fmt: skip
                days = sheets(begins, items, BLOCK_DAYS - rng.randint(0, 3), block)
                roots.append((row, items, days, reasons))
                if block < 3:
                    items, reasons = next_block(
                        current, block + 1, begins, items, days, patient.facts
                    )
        elif stage == "cancelled":
            closed = _at(start + timedelta(days=min(6, (today - start).days)), 15)
            row = plan_row(
                pid, current, start, PlanStatus.CANCELLED,
                status_reason=rng.choice(CANCEL_REASONS), closed_at=closed,
            )  # fmt: skip
            roots.append((row, items, sheets(start, items, min(returned, 5)), {}))
        elif stage == "revised":
            reviewed = start + timedelta(days=7)
            row = plan_row(
                pid, current, start, PlanStatus.SUPERSEDED,
                status_reason="Replaced by revision 2", closed_at=_at(reviewed, 12),
            )  # fmt: skip
            roots.append((row, items, [], {}))
            revision = plan_row(
                pid, current, start, PlanStatus.ISSUED, revision=2,
                issued_at=_at(reviewed, 12), created_at=_at(reviewed, 11),
                updated_at=_at(reviewed, 12),
            )  # fmt: skip
            eased = tuple(map(_step_down, items))
            revisions.append((len(roots) - 1, revision, eased, sheets(start, eased, returned)))
        else:
            row = plan_row(pid, current, start, PlanStatus.ISSUED)
            roots.append((row, items, sheets(start, items, returned), {}))
    root_ids = _insert_returning_ids([row for row, _, _, _ in roots])
    for index, row, _, _ in revisions:
        row["revises_id"] = row["lineage_id"] = root_ids[index]
    revision_ids = _insert_returning_ids([row for _, row, _, _ in revisions])
    plan_items: list[dict] = []
    logs: list[dict] = []
    for plan_id, (_, items, days, reasons) in zip(root_ids, roots, strict=True):
        plan_items.extend(_item_rows(plan_id, items, reasons))
        logs.extend(d | {"plan_id": plan_id, "lineage_id": plan_id} for d in days)
    for plan_id, (_, row, items, days) in zip(revision_ids, revisions, strict=True):
        plan_items.extend(_item_rows(plan_id, items))
        logs.extend(d | {"plan_id": plan_id, "lineage_id": row["lineage_id"]} for d in days)
    _insert(PlanItem, plan_items)
    for d in logs:
        d["clinic_id"], d["entered_by_id"] = clinic_id, author_id
    _insert(LogEntry, logs)


def _insert_programmes(
    clinic_id: int, author_id: int, rng: random.Random, patients: list[Seeded], today: date
) -> dict[int, int]:
    """One programme per patient with plans, at the stage the week has them; patient -> id."""
    rows = []
    for patient in patients:
        if patient.stage == "new":
            continue
        code = next((_PLAN_MIX[d] for d in patient.diagnoses if d in _PLAN_MIX), _DEFAULT_MIX)[0]
        start = patient.start
        status, reason, ended = ProgrammeStatus.RUNNING.value, "", None
        if patient.stage == "second":
            start -= timedelta(days=PLAN_LENGTH_DAYS + 8)
        elif patient.stage == "finished":
            start -= timedelta(days=2 * BLOCK_DAYS)
            status, ended = ProgrammeStatus.FINISHED.value, patient.start + timedelta(BLOCK_DAYS)
        elif patient.stage == "cancelled":
            status, reason = ProgrammeStatus.STOPPED.value, rng.choice(CANCEL_REASONS)
            ended = min(today, patient.start + timedelta(days=6))
        made = _at(min(start, today) - timedelta(days=1), 10)
        rows.append(
            {
                "clinic_id": clinic_id, "patient_id": patient.patient_id, "template_code": code,
                "goal": _GOALS[code], "block_count": DEFAULT_BLOCKS, "status": status,
                "status_reason": reason, "started_on": start, "ended_on": ended,
                "created_by_id": author_id, "created_at": made, "updated_at": made, "version": 1,
            }
        )  # fmt: skip
    _insert(Programme, rows)
    if not rows:
        return {}
    first = min(row["patient_id"] for row in rows)
    found = db.session.execute(
        sa.select(Programme.patient_id, Programme.id).where(
            Programme.clinic_id == clinic_id, Programme.patient_id >= first
        )
    )
    return dict(found.all())


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


def _item_rows(
    plan_id: int, items: Iterable[Item], reasons: dict[str, tuple[str, str]] | None = None
) -> list[dict]:
    return [
        {
            "plan_id": plan_id,
            "week": item.week,
            "seq": item.order,
            "exercise_code": item.exercise,
            **dose_of(item),
            "position": item.position.value,
            "reason": (reasons or {}).get(item.exercise, ("", ""))[0][:400],
            "patient_reason": (reasons or {}).get(item.exercise, ("", ""))[1][:300],
        }
        for item in items
    ]


_TRIGGERS = ("cough", "sneeze", "lifting", "running", "laughing", "on the way to the toilet")


def _log_days(
    rng: random.Random,
    start: date,
    items: tuple[Item, ...],
    days: int,
    today: date,
    block: int = 1,
) -> list[dict]:
    """A plan's returned sheets: its first `days` days (never today or later), leaks easing
    over the programme's weeks and holds near the prescribed one."""
    rows = []
    keen = rng.betavariate(4, 2)  # most keep up with about two sessions in three
    entered = _at(start + timedelta(days=days), 9)
    for offset in range(min(days, (today - start).days, PLAN_LENGTH_DAYS + 1)):
        week = offset // 7 + 1
        prescribed = max((i.sessions_per_day for i in items if i.week == week), default=0)
        hold = max(
            (i.hold_s or 0 for i in items if i.week == week and i.exercise == SLOW_HOLD), default=0
        )
        done = sum(rng.random() < keen for _ in range(prescribed))
        leaks = max(0, int(rng.gauss(2.5 * 0.85 ** (week - 1 + 4 * (block - 1)), 1.0)))
        longest = rng.randint(max(1, hold - 3), hold + 1) if hold else rng.randint(3, 4 + 2 * week)
        rows.append(
            {
                "day": start + timedelta(days=offset),
                "sessions_done": done,
                "sessions_prescribed": prescribed,
                "longest_hold_s": longest if done else None,
                "leaks": leaks,
                "leak_trigger": rng.choice(_TRIGGERS) if leaks else "",
                "urgency": rng.randint(0, 2),
                "pain": rng.randint(0, 3),
                "note": "",
                "created_at": entered,
                "updated_at": entered,
                "version": 1,
            }
        )
    return rows


def _chunks(rows: list[dict], size: int) -> list[list[dict]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]
