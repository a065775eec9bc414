"""Exports from loaded rows: a patient's record as JSON, CSV text, and a plan as FHIR R4.

Pure apart from reading the rows handed in: no Flask, no queries.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.careplan import CarePlan, CarePlanActivity, CarePlanActivityDetail
from fhir.resources.R4B.goal import Goal, GoalTarget
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner

from ..domain.history import dose_text
from ..domain.progression import Item
from ..models import Assessment, Clinic, LogEntry, Patient, Plan, PlanItem, WarningAck
from ..planning import plan_items

RECORD_FORMAT = "floorplan-patient-record"
RECORD_VERSION = 1


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        # Stored naive, always UTC.
        return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _person(user_id: int | None, names: Mapping[int, str]) -> dict[str, Any] | None:
    if user_id is None:
        return None
    return {"id": user_id, "name": names.get(user_id, "")}


# --- one patient's whole record as JSON ------------------------------------------------------


def patient_record(
    clinic: Clinic,
    patient: Patient,
    assessments: Sequence[Assessment],
    plans: Sequence[Plan],
    logs: Sequence[LogEntry],
    staff: Mapping[int, str],
    exercise_names: Mapping[str, str],
    exported_at: datetime,
) -> dict[str, Any]:
    """Everything the clinic holds on one patient, as JSON-able data."""
    logs_by_plan: dict[int, list[LogEntry]] = {}
    for entry in logs:
        logs_by_plan.setdefault(entry.plan_id, []).append(entry)
    return {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "exported_at": _iso(exported_at),
        "clinic": {"id": clinic.id, "name": clinic.name},
        "patient": {
            "id": patient.id,
            "chart_number": patient.chart_number,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "preferred_name": patient.preferred_name,
            "date_of_birth": _iso(patient.date_of_birth),
            "cue_set": patient.cue_set,
            "diagnoses": list(patient.diagnoses),
            "precautions": list(patient.precautions),
            "phone": patient.phone,
            "email": patient.email,
            "address": patient.address,
            "notes": patient.notes,
            "archived_at": _iso(patient.archived_at),
            "created_at": _iso(patient.created_at),
            "updated_at": _iso(patient.updated_at),
        },
        "assessments": [_assessment(a, staff) for a in assessments],
        "plans": [
            _plan(plan, staff, exercise_names, logs_by_plan.get(plan.id, [])) for plan in plans
        ],
    }


def _assessment(a: Assessment, staff: Mapping[int, str]) -> dict[str, Any]:
    return {
        "id": a.id,
        "assessed_on": _iso(a.assessed_on),
        "clinician": _person(a.clinician_id, staff),
        "oxford_grade": a.oxford_grade,
        "endurance_s": a.endurance_s,
        "repetitions": a.repetitions,
        "fast_contractions": a.fast_contractions,
        "relaxation": a.relaxation,
        "pain": a.pain,
        "leaks_per_week": a.leaks_per_week,
        "pads_per_day": a.pads_per_day,
        "technique_confirmed": a.technique_confirmed,
        "iciq_total": a.iciq_total,
        "notes": a.notes,
        "created_at": _iso(a.created_at),
    }


def _plan(
    plan: Plan,
    staff: Mapping[int, str],
    exercise_names: Mapping[str, str],
    logs: Sequence[LogEntry],
) -> dict[str, Any]:
    return {
        "id": plan.id,
        "title": plan.title,
        "template_code": plan.template_code,
        "approach": plan.approach,
        "purpose": plan.purpose,
        "status": plan.status,
        "status_reason": plan.status_reason,
        "revision": plan.revision,
        "revises_id": plan.revises_id,
        "start_date": _iso(plan.start_date),
        "end_date": _iso(plan.end_date),
        "notes_to_patient": plan.notes_to_patient,
        "handout": {"paper": plan.paper, "large_print": plan.large_print, "cue_set": plan.cue_set},
        "author": _person(plan.author_id, staff),
        "issued_at": _iso(plan.issued_at),
        "issued_by": _person(plan.issued_by_id, staff),
        "closed_at": _iso(plan.closed_at),
        "created_at": _iso(plan.created_at),
        "updated_at": _iso(plan.updated_at),
        "items": [_item(item, exercise_names) for item in plan.items],
        "acknowledged_warnings": [_acknowledgement(ack, staff) for ack in plan.acknowledgements],
        "log_entries": [_log(entry, staff) for entry in logs],
    }


def _item(item: PlanItem, exercise_names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "week": item.week,
        "order": item.seq,
        "exercise_code": item.exercise_code,
        "exercise": exercise_names.get(item.exercise_code, item.exercise_code),
        "position": item.position,
        "hold_s": item.hold_s,
        "rest_s": item.rest_s,
        "reps": item.reps,
        "sets": item.sets,
        "sessions_per_day": item.sessions_per_day,
        "effort_pct": item.effort_pct,
        "note": item.note,
    }


def _acknowledgement(ack: WarningAck, staff: Mapping[int, str]) -> dict[str, Any]:
    return {
        "code": ack.code,
        "message": ack.message,
        "acknowledged_by": _person(ack.acknowledged_by_id, staff),
        "acknowledged_at": _iso(ack.acknowledged_at),
    }


def _log(entry: LogEntry, staff: Mapping[int, str]) -> dict[str, Any]:
    return {
        "day": _iso(entry.day),
        "sessions_done": entry.sessions_done,
        "sessions_prescribed": entry.sessions_prescribed,
        "longest_hold_s": entry.longest_hold_s,
        "leaks": entry.leaks,
        "leak_trigger": entry.leak_trigger,
        "urgency": entry.urgency,
        "pain": entry.pain,
        "note": entry.note,
        "entered_by": _person(entry.entered_by_id, staff),
        "created_at": _iso(entry.created_at),
        "updated_at": _iso(entry.updated_at),
    }


# --- CSV ------------------------------------------------------------------------------------

PLAN_COLUMNS = (
    "plan_id", "patient_id", "chart_number", "given_name", "family_name", "title",
    "template_code", "approach", "status", "status_reason", "revision", "revises_id",
    "start_date", "end_date", "author", "issued_at", "issued_by", "closed_at", "created_at",
    "updated_at",
)  # fmt: skip
ITEM_COLUMNS = (
    "plan_id", "chart_number", "plan_status", "week", "order", "exercise_code", "exercise",
    "position", "hold_s", "rest_s", "reps", "sets", "sessions_per_day", "effort_pct", "note",
)  # fmt: skip
LOG_COLUMNS = (
    "plan_id", "chart_number", "day", "sessions_done", "sessions_prescribed", "longest_hold_s",
    "leaks", "leak_trigger", "urgency", "pain", "note", "entered_by", "created_at", "updated_at",
)  # fmt: skip

#: A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell; text a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return _iso(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def item_records(
    rows: Iterable[Mapping[str, Any]], exercise_names: Mapping[str, str]
) -> Iterator[dict[str, Any]]:
    """Plan item rows with the exercise's name beside its code."""
    for row in rows:
        record = dict(row)
        record["order"] = record.pop("seq")
        record["exercise"] = exercise_names.get(record["exercise_code"], record["exercise_code"])
        yield record


def csv_chunks(
    columns: Sequence[str], pages: Iterable[Iterable[Mapping[str, Any]]]
) -> Iterator[str]:
    """CSV text, one chunk for the header and one per page of rows (ready to stream)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    # A byte-order mark so spreadsheet programs read names like Łucja as UTF-8.
    yield "\ufeff" + _drain(buffer)
    for page in pages:
        for row in page:
            writer.writerow([csv_cell(row[name]) for name in columns])
        chunk = _drain(buffer)
        if chunk:
            yield chunk


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# --- FHIR R4 (R4B models) -------------------------------------------------------------------

#: Our plan status -> CarePlan.status (R4 request-status), Goal.lifecycleStatus, and the status
#: of each activity (care-plan-activity-status).
CAREPLAN_STATUS = {
    "draft": "draft",
    "issued": "active",
    "superseded": "revoked",
    "completed": "completed",
    "cancelled": "revoked",
}
GOAL_STATUS = {
    "draft": "proposed",
    "issued": "active",
    "superseded": "cancelled",
    "completed": "completed",
    "cancelled": "cancelled",
}
ACTIVITY_STATUS = {
    "draft": "not-started",
    "issued": "scheduled",
    "superseded": "stopped",
    "completed": "completed",
    "cancelled": "cancelled",
}

#: The code sets the library does not enforce (it checks only that a code is a code).
VALID_CAREPLAN_STATUS = frozenset(
    {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
)
VALID_CAREPLAN_INTENT = frozenset({"proposal", "plan", "order", "option"})
VALID_ACTIVITY_STATUS = frozenset(
    {
        "not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled",
        "stopped", "unknown", "entered-in-error",
    }
)  # fmt: skip
VALID_GOAL_STATUS = frozenset(
    {
        "proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled",
        "entered-in-error", "rejected",
    }
)  # fmt: skip
VALID_PERIOD_UNITS = frozenset({"s", "min", "h", "d", "wk", "mo", "a"})

#: Identifier and code systems for FloorPlan's own ids (no public system names them).
SYSTEM = "urn:floorplan"
_NAMESPACE = uuid.UUID("5b0e7f52-6a8e-4f35-9a51-7f0c2f1d6c3e")


def _urn(clinic: Clinic, kind: str, ident: int) -> str:
    """A stable urn:uuid for a record: repeated exports name the same resources alike.

    The clinic's creation time goes in too, so two FloorPlan servers never mint the same one.
    """
    name = f"{clinic.id}/{clinic.created_at.isoformat()}/{kind}/{ident}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def _telecom(phone: str, email: str) -> list[dict[str, str]]:
    points = []
    if phone:
        points.append({"system": "phone", "value": phone})
    if email:
        points.append({"system": "email", "value": email})
    return points


def _address(text: str) -> list[dict[str, str]]:
    return [{"text": text}] if text.strip() else []


def plan_bundle(
    plan: Plan, clinic: Clinic, exercise_names: Mapping[str, str], exported_at: datetime
) -> Bundle:
    """A plan as a FHIR R4 Bundle: Patient, Practitioner, Organization, Goal and CarePlan."""
    patient = plan.patient
    urls = {
        "patient": _urn(clinic, "patient", patient.id),
        "user": _urn(clinic, "user", plan.author_id),
        "clinic": _urn(clinic, "clinic", clinic.id),
        "goal": _urn(clinic, "goal", plan.id),
        "plan": _urn(clinic, "plan", plan.id),
    }
    org_ref = {"reference": urls["clinic"], "display": clinic.name}
    patient_ref = {"reference": urls["patient"], "display": patient.display_name}
    author_ref = {"reference": urls["user"], "display": plan.author.name}
    goal_ref = {"reference": urls["goal"]}

    organization = Organization(
        identifier=[{"system": f"{SYSTEM}:clinic", "value": str(clinic.id)}],
        name=clinic.name,
        telecom=_telecom(clinic.phone, clinic.email) or None,
        address=_address(clinic.address) or None,
    )
    names = [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}]
    if patient.preferred_name:
        names.append({"use": "usual", "given": [patient.preferred_name]})
    fhir_patient = FhirPatient(
        identifier=[
            {
                "use": "usual",
                "type": {"text": "Chart number"},
                "system": f"{SYSTEM}:clinic:{clinic.id}:chart",
                "value": patient.chart_number,
            }
        ],
        active=patient.archived_at is None,
        name=names,
        birthDate=patient.date_of_birth,
        telecom=_telecom(patient.phone, patient.email) or None,
        address=_address(patient.address) or None,
        managingOrganization=org_ref,
    )
    practitioner = Practitioner(
        identifier=[{"system": f"{SYSTEM}:user", "value": str(plan.author_id)}],
        name=[{"text": plan.author.name}],
    )
    goal = Goal(
        lifecycleStatus=GOAL_STATUS.get(plan.status, "proposed"),
        description={"text": plan.purpose or plan.title},
        subject=patient_ref,
        startDate=plan.start_date,
        target=[GoalTarget(dueDate=plan.end_date)],
        expressedBy=author_ref,
    )
    care_plan = CarePlan(
        identifier=[{"system": f"{SYSTEM}:plan", "value": str(plan.id)}],
        status=CAREPLAN_STATUS.get(plan.status, "unknown"),
        intent="plan",
        title=plan.title,
        description=plan.purpose or None,
        subject=patient_ref,
        period={"start": plan.start_date, "end": plan.end_date},
        created=plan.created_at.replace(tzinfo=UTC),
        author=author_ref,
        goal=[goal_ref],
        replaces=[_revised(plan)] if plan.revises_id else None,
        note=_notes(plan) or None,
        activity=[
            _activity(plan, row, item, exercise_names, goal_ref, patient_ref)
            for row, item in zip(plan.items, plan_items(plan.items), strict=True)
        ],
    )
    resources = {
        "patient": fhir_patient,
        "user": practitioner,
        "clinic": organization,
        "goal": goal,
        "plan": care_plan,
    }
    bundle = Bundle(
        type="collection",
        timestamp=exported_at.replace(tzinfo=UTC),
        entry=[
            BundleEntry(fullUrl=urls[key], resource=resource) for key, resource in resources.items()
        ],
    )
    problems = code_problems(bundle.model_dump(mode="json", exclude_none=True))
    if problems:
        raise ValueError("; ".join(problems))
    return bundle


def _revised(plan: Plan) -> dict[str, Any]:
    return {
        "identifier": {"system": f"{SYSTEM}:plan", "value": str(plan.revises_id)},
        "display": f"Revision {plan.revision - 1}",
    }


def _notes(plan: Plan) -> list[dict[str, Any]]:
    notes = []
    if plan.notes_to_patient:
        notes.append({"text": f"Notes to the patient: {plan.notes_to_patient}"})
    for ack in plan.acknowledgements:
        notes.append(
            {
                "authorString": ack.acknowledged_by.name,
                "time": ack.acknowledged_at.replace(tzinfo=UTC),
                "text": f"Warning acknowledged when issuing: {ack.message} [{ack.code}]",
            }
        )
    return notes


def _activity(
    plan: Plan,
    row: PlanItem,
    item: Item,
    exercise_names: Mapping[str, str],
    goal_ref: dict[str, str],
    patient_ref: dict[str, str],
) -> CarePlanActivity:
    week_start = plan.start_date + timedelta(days=7 * (row.week - 1))
    name = exercise_names.get(row.exercise_code, row.exercise_code)
    dose = dose_text(item) + (f". {row.note}" if row.note else "")
    return CarePlanActivity(
        detail=CarePlanActivityDetail(
            code={
                "coding": [{"system": f"{SYSTEM}:exercise", "code": row.exercise_code}],
                "text": name,
            },
            goal=[goal_ref],
            status=ACTIVITY_STATUS.get(plan.status, "unknown"),
            scheduledTiming={
                "repeat": {
                    "boundsPeriod": {"start": week_start, "end": week_start + timedelta(days=6)},
                    "frequency": row.sessions_per_day,
                    "period": 1,
                    "periodUnit": "d",
                }
            },
            performer=[patient_ref],
            description=f"Week {row.week}: {name}, {dose}",
        )
    )


def code_problems(bundle: Mapping[str, Any]) -> list[str]:
    """Codes in a bundle (as JSON data) outside their FHIR value sets; the library skips these."""
    problems = []
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        kind = resource["resourceType"]
        if kind == "Goal" and resource.get("lifecycleStatus") not in VALID_GOAL_STATUS:
            problems.append(f"Goal.lifecycleStatus {resource.get('lifecycleStatus')!r}")
        if kind != "CarePlan":
            continue
        if resource.get("status") not in VALID_CAREPLAN_STATUS:
            problems.append(f"CarePlan.status {resource.get('status')!r}")
        if resource.get("intent") not in VALID_CAREPLAN_INTENT:
            problems.append(f"CarePlan.intent {resource.get('intent')!r}")
        for activity in resource.get("activity", []):
            detail = activity.get("detail", {})
            if detail.get("status") not in VALID_ACTIVITY_STATUS:
                problems.append(f"CarePlan.activity.detail.status {detail.get('status')!r}")
            repeat = detail.get("scheduledTiming", {}).get("repeat", {})
            if "periodUnit" in repeat and repeat["periodUnit"] not in VALID_PERIOD_UNITS:
                problems.append(f"Timing.repeat.periodUnit {repeat['periodUnit']!r}")
    return problems
