"""One patient's whole record as JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from ..domain.adherence import LOG_FIELDS
from ..domain.progression import dose_of
from ..models import Assessment, Clinic, LogEntry, Patient, Plan, PlanItem, WarningAck

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
        "amends_id": a.amends_id,
        "voided_at": _iso(a.voided_at),
        "voided_by": _person(a.voided_by_id, staff),
        "void_reason": a.void_reason,
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
        **dose_of(item),
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
        "sessions_prescribed": entry.sessions_prescribed,
        **{name: getattr(entry, name) for name in LOG_FIELDS},
        "entered_by": _person(entry.entered_by_id, staff),
        # what the patient logged on the phone (issue 16), kept beside the staff entry
        "patient_entry": entry.patient_entry,
        "created_at": _iso(entry.created_at),
        "updated_at": _iso(entry.updated_at),
    }
