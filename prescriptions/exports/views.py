"""Exports: a patient's record as JSON, the clinic's plans, items and logs as CSV, FHIR plans.

Every export is scoped to the signed-in clinic, audited and committed before a byte is sent,
and downloaded as an attachment (never cached: see the security headers in web/__init__.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from flask import Blueprint, Response, abort, render_template, stream_with_context
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..accounts.queries import fetch_staff_names
from ..assessments.queries import fetch_assessments
from ..audit import record_event
from ..database import RowPage
from ..exercises.queries import fetch_catalogue
from ..extensions import db
from ..logs.queries import fetch_log_rows, fetch_record_logs
from ..models import utcnow
from ..patients.queries import fetch_patient
from ..plans.queries import fetch_item_rows, fetch_plan, fetch_plan_rows, fetch_record_plans
from ..web import acting, admin_required, clinic_id
from .record import patient_record as patient_record_q
from .tables import ITEM_COLUMNS, LOG_COLUMNS, PLAN_COLUMNS, csv_chunks, item_records

bp = Blueprint("exports", __name__)

#: CSV exports: name -> (its columns, the read that returns one page of rows)
CSV_EXPORTS: dict[str, tuple[Sequence[str], Callable[..., RowPage]]] = {
    "plans": (PLAN_COLUMNS, fetch_plan_rows),
    "items": (ITEM_COLUMNS, fetch_item_rows),
    "logs": (LOG_COLUMNS, fetch_log_rows),
}


def _exercise_names() -> dict[str, str]:
    exercises = fetch_catalogue(clinic_id())
    return {code: exercise.name for code, exercise in exercises.items()}


def _safe(text: str) -> str:
    """A file-name-safe version of a chart number or title."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "record"


def _attachment(body: Any, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/exports")
@login_required
def index() -> ResponseReturnValue:
    """What can be exported, with links to the clinic-wide CSV files."""
    return render_template("exports/index.html", kinds=list(CSV_EXPORTS))


@bp.get("/patients/<int:patient_id>/export.json")
@login_required
def patient_record(patient_id: int) -> ResponseReturnValue:
    """One patient's whole record as JSON: details, assessments, plans with items, logs."""
    clinic = clinic_id()
    patient = fetch_patient(clinic, patient_id) or abort(404)
    record = patient_record_q(
        current_user.clinic,
        patient,
        list(reversed(fetch_assessments(clinic, patient.id, include_voided=True))),
        fetch_record_plans(clinic, patient.id),
        fetch_record_logs(clinic, patient.id),
        fetch_staff_names(clinic),
        _exercise_names(),
        utcnow(),
    )
    filename = f"patient-{_safe(patient.chart_number)}-record.json"
    record_event(acting(), "export.patient_json", patient, filename)
    db.session.commit()
    body = json.dumps(record, ensure_ascii=False, indent=2)
    return _attachment(body, "application/json", filename)


@bp.get("/exports/<any(plans, items, logs):kind>.csv")
@admin_required  # the whole clinic's records at once: administrators only
def clinic_csv(kind: str) -> ResponseReturnValue:
    """The clinic's plans, plan items or logged days as one CSV file, streamed page by page."""
    columns, fetch_page = CSV_EXPORTS[kind]
    clinic = clinic_id()
    names = _exercise_names() if kind == "items" else {}
    filename = f"{_safe(current_user.clinic.name)}-{kind}.csv"
    record_event(acting(), f"export.{kind}_csv", current_user.clinic, filename)
    db.session.commit()

    def pages() -> Iterator[list[dict[str, Any]]]:
        after: int | None = 0
        while after is not None:
            rows, after = fetch_page(clinic, after)
            # End the read between pages: a slow download must not hold the database.
            db.session.commit()
            records = [dict(row._mapping) for row in rows]
            yield list(item_records(records, names)) if kind == "items" else records

    body = stream_with_context(csv_chunks(columns, pages()))
    return _attachment(body, "text/csv; charset=utf-8", filename)


@bp.get("/plans/<int:plan_id>/fhir.json")
@login_required
def plan_fhir(plan_id: int) -> ResponseReturnValue:
    """A plan as a FHIR R4 Bundle (Patient, Practitioner, Organization, Goal, CarePlan)."""
    # fhir.resources' models take over a second to import: load them on the first FHIR export,
    # not at every start.
    from .fhir import plan_bundle

    plan = fetch_plan(clinic_id(), plan_id) or abort(404)
    bundle = plan_bundle(plan, current_user.clinic, _exercise_names(), utcnow())
    filename = f"plan-{plan.id}-r{plan.revision}-fhir.json"
    record_event(acting(), "export.plan_fhir", plan, filename)
    db.session.commit()
    return _attachment(bundle.model_dump_json(indent=2), "application/fhir+json", filename)


@bp.get("/programmes/<int:programme_id>/fhir.json")
@login_required
def programme_fhir(programme_id: int) -> ResponseReturnValue:
    """A programme as a FHIR R4 Bundle: CarePlans for it and its blocks, outcome Observations."""
    from ..domain.outcomes import weekly_leaks
    from ..logs.queries import fetch_patient_logs
    from ..mapping.programmes import block_plans
    from ..programmes.queries import fetch_block_plans, fetch_programme
    from .fhir import programme_bundle

    programme = fetch_programme(clinic_id(), programme_id) or abort(404)
    plans = fetch_block_plans(clinic_id(), programme.id)
    blocks = [plan for _, plan in sorted(block_plans(programme, plans).items())]
    lineages = {plan.lineage_key for plan in plans}
    end = programme.ended_on
    days = [
        (e.day, e.leaks)
        for e in fetch_patient_logs(clinic_id(), programme.patient_id)
        if e.lineage_id in lineages
    ]
    assessments = [
        a
        for a in reversed(fetch_assessments(clinic_id(), programme.patient_id))
        if end is None or a.assessed_on <= end
    ]
    bundle = programme_bundle(
        programme, blocks, assessments, weekly_leaks(days), current_user.clinic,
        _exercise_names(), utcnow(),
    )  # fmt: skip
    filename = f"programme-{programme.id}-fhir.json"
    record_event(acting(), "export.programme_fhir", programme, filename)
    db.session.commit()
    return _attachment(bundle.model_dump_json(indent=2), "application/fhir+json", filename)
