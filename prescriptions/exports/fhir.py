"""A plan as a FHIR R4 Bundle (R4B models), validated on build."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.careplan import CarePlan, CarePlanActivity, CarePlanActivityDetail
from fhir.resources.R4B.goal import Goal, GoalTarget
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner

from ..domain.history import dose_text
from ..domain.progression import Item
from ..mapping.plans import plan_items
from ..models import Clinic, Plan, PlanItem

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

    organization = _organization(clinic)
    fhir_patient = _patient(patient, clinic, org_ref)
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
    care_plan = _plan_care_plan(plan, exercise_names, patient_ref, author_ref, goal_ref)
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


def _organization(clinic: Clinic) -> Organization:
    return Organization(
        identifier=[{"system": f"{SYSTEM}:clinic", "value": str(clinic.id)}],
        name=clinic.name,
        telecom=_telecom(clinic.phone, clinic.email) or None,
        address=_address(clinic.address) or None,
    )


def _patient(patient: Any, clinic: Clinic, org_ref: dict[str, str]) -> FhirPatient:
    names = [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}]
    if patient.preferred_name:
        names.append({"use": "usual", "given": [patient.preferred_name]})
    return FhirPatient(
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


def _plan_care_plan(
    plan: Plan,
    exercise_names: Mapping[str, str],
    patient_ref: dict[str, str],
    author_ref: dict[str, str],
    goal_ref: dict[str, str],
    **extra: Any,
) -> CarePlan:
    """A plan (one revision) as a CarePlan with one activity per exercise per week."""
    return CarePlan(
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
        **extra,
    )


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


# --- A programme: a CarePlan whose blocks are CarePlans, and outcomes as Observations ----------

PROGRAMME_STATUS = {"running": "active", "finished": "completed", "stopped": "revoked"}
GOAL_OF_PROGRAMME = {"running": "active", "finished": "completed", "stopped": "cancelled"}
VALID_OBSERVATION_STATUS = frozenset(
    {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
     "entered-in-error", "unknown"}
)  # fmt: skip
LOINC = "http://loinc.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

#: assessment column -> (LOINC code or None, FloorPlan code, what it is, unit)
#: Only pain has a LOINC code we are sure of; the others carry FloorPlan's own code and text.
ASSESSMENT_OBSERVATIONS = {
    "pain": ("72514-3", "pain", "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
             "{score}"),
    "oxford_grade": (None, "oxford-grade", "Modified Oxford Scale grade (0-5)", "{grade}"),
    "endurance_s": (None, "perfect-endurance", "PERFECT endurance (seconds held)", "s"),
    "repetitions": (None, "perfect-repetitions", "PERFECT repetitions", "{count}"),
    "pads_per_day": (None, "pads-a-day", "Pads a day", "/d"),
    "leaks_per_week": (None, "leaks-a-week", "Leaks a week (as recorded at assessment)", "/wk"),
    "iciq_total": (None, "iciq-ui-sf-total", "ICIQ-UI SF total score (0-21)", "{score}"),
}  # fmt: skip


def _code(loinc: str | None, own: str, text: str) -> dict[str, Any]:
    coding = [{"system": f"{SYSTEM}:outcome", "code": own, "display": text}]
    if loinc:
        coding.insert(0, {"system": LOINC, "code": loinc, "display": text})
    return {"coding": coding, "text": text}


def programme_bundle(
    programme: Any,
    blocks: Sequence[Plan],
    assessments: Sequence[Any],
    weekly_leaks: Sequence[tuple[Any, float]],
    clinic: Clinic,
    exercise_names: Mapping[str, str],
    exported_at: datetime,
) -> Bundle:
    """A programme as a FHIR R4 Bundle: the programme's CarePlan, each block's CarePlan (partOf
    the programme, basedOn the block before), and its outcomes as Observations basedOn it.

    `blocks` are the plans standing for each block, in order; `assessments` the patient's
    (each measure an Observation); `weekly_leaks` (week start, leaks a week) from the logs.
    """
    patient = programme.patient
    p_url = _urn(clinic, "programme", programme.id)
    urls = {
        "patient": _urn(clinic, "patient", patient.id),
        "clinic": _urn(clinic, "clinic", clinic.id),
        "goal": _urn(clinic, "programme-goal", programme.id),
        "programme": p_url,
    }
    org_ref = {"reference": urls["clinic"], "display": clinic.name}
    patient_ref = {"reference": urls["patient"], "display": patient.display_name}
    goal_ref = {"reference": urls["goal"]}
    programme_ref = {"reference": p_url, "display": "The programme"}
    entries: list[tuple[str, Any]] = [
        (urls["patient"], _patient(patient, clinic, org_ref)),
        (urls["clinic"], _organization(clinic)),
    ]
    authors: dict[int, str] = {}
    for plan in blocks:
        url = _urn(clinic, "user", plan.author_id)
        if plan.author_id not in authors:
            authors[plan.author_id] = url
            entries.append((url, Practitioner(
                identifier=[{"system": f"{SYSTEM}:user", "value": str(plan.author_id)}],
                name=[{"text": plan.author.name}],
            )))  # fmt: skip
    end = programme.ended_on or (
        programme.started_on + timedelta(days=28 * programme.block_count - 1)
    )
    entries.append((urls["goal"], Goal(
        lifecycleStatus=GOAL_OF_PROGRAMME.get(programme.status, "proposed"),
        description={"text": programme.goal or f"{programme.block_count} blocks of four weeks"},
        subject=patient_ref,
        startDate=programme.started_on,
        target=[GoalTarget(dueDate=end)],
    )))  # fmt: skip
    entries.append((p_url, CarePlan(
        identifier=[{"system": f"{SYSTEM}:programme", "value": str(programme.id)}],
        status=PROGRAMME_STATUS.get(programme.status, "unknown"),
        intent="plan",
        title=f"Programme of {programme.block_count} four-week blocks",
        description=programme.goal or None,
        subject=patient_ref,
        period={"start": programme.started_on, "end": end},
        created=programme.created_at.replace(tzinfo=UTC),
        goal=[goal_ref],
        note=[{"text": f"Stopped: {programme.status_reason}"}] if programme.status_reason else None,
    )))  # fmt: skip
    previous: str | None = None
    for plan in blocks:
        url = _urn(clinic, "plan", plan.id)
        author_ref = {"reference": authors[plan.author_id], "display": plan.author.name}
        care_plan = _plan_care_plan(
            plan, exercise_names, patient_ref, author_ref, goal_ref,
            partOf=[programme_ref],
            basedOn=[{"reference": previous, "display": f"Block {plan.block_number - 1}"}]
            if previous else None,
        )  # fmt: skip
        care_plan.title = f"Block {plan.block_number}: {plan.title}"
        entries.append((url, care_plan))
        previous = url
    for a in assessments:
        for column, (loinc, own, text, unit) in ASSESSMENT_OBSERVATIONS.items():
            value = getattr(a, column)
            if value is None:
                continue
            entries.append((_urn(clinic, f"observation/{own}", a.id), Observation(
                status="final",
                category=[{"coding": [{"system": CATEGORY, "code": "exam" if column not in
                           ("iciq_total", "pain") else "survey"}]}],
                code=_code(loinc, own, text),
                subject=patient_ref,
                basedOn=[programme_ref],
                effectiveDateTime=a.assessed_on,
                valueQuantity={"value": value, "unit": unit, "system": "http://unitsofmeasure.org",
                               "code": unit},
            )))  # fmt: skip
    for start, value in weekly_leaks:
        entries.append((_urn(clinic, f"observation/leaks-week/{programme.id}", start.toordinal()),
                        Observation(
            status="final",
            category=[{"coding": [{"system": CATEGORY, "code": "survey"}]}],
            code=_code(None, "leaks-a-week-logged",
                       "Leaks a week from the patient's log (mean per logged day times 7)"),
            subject=patient_ref,
            basedOn=[programme_ref],
            effectivePeriod={"start": start, "end": start + timedelta(days=6)},
            valueQuantity={"value": value, "unit": "/wk", "system": "http://unitsofmeasure.org",
                           "code": "/wk"},
        )))  # fmt: skip
    bundle = Bundle(
        type="collection",
        timestamp=exported_at.replace(tzinfo=UTC),
        entry=[BundleEntry(fullUrl=url, resource=resource) for url, resource in entries],
    )
    data = bundle.model_dump(mode="json", exclude_none=True)
    problems = code_problems(data)
    for entry in data["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Observation" and (
            resource.get("status") not in VALID_OBSERVATION_STATUS
        ):
            problems.append(f"Observation.status {resource.get('status')!r}")
    if problems:
        raise ValueError("; ".join(problems))
    return bundle
