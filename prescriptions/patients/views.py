"""Patients: list and search, record, create, edit, archive; assessments."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from ..assessments.operations import AlreadyAmended, add_assessment, amend_assessment
from ..assessments.queries import fetch_assessment, fetch_assessments
from ..audit.queries import fetch_write_details
from ..domain.dates import age_on
from ..extensions import db
from ..logs.queries import fetch_patient_logs
from ..mapping.programmes import lineage_sums, programme_timeline, record_outcomes
from ..models import Patient
from ..plans.queries import fetch_patient_plans
from ..programmes.queries import fetch_patient_programmes
from ..web import acting, clinic_id
from ..web.charts import assessment_charts, outcome_charts
from ..web.conflicts import Difference, find_conflict, shown
from ..web.errors import render_error
from ..web.once import Saved, once_form, save_once_or_show, submit_once
from .forms import AmendAssessmentForm, AssessmentForm, EditPatientForm, NewPatientForm
from .operations import archive_patient, create_patient, restore_patient, update_patient
from .queries import PATIENT_SORTS, fetch_patient, fetch_patient_by_chart, fetch_patients

bp = Blueprint("patients", __name__)


def _patient_or_404(patient_id: int) -> Patient:
    return fetch_patient(clinic_id(), patient_id) or abort(404)


@bp.get("/patients")
@login_required
def index() -> ResponseReturnValue:
    """The clinic's patients, searchable by name or chart number."""
    search = request.args.get("q", "").strip()[:100]
    archived = request.args.get("archived") == "1"
    sort = request.args.get("sort", "name")
    if sort not in PATIENT_SORTS:
        sort = "name"
    page = request.args.get("page", 1, type=int) or 1
    result = fetch_patients(
        clinic_id(),
        search=search,
        archived=archived,
        sort=sort,
        page=page,
        per_page=current_app.config["PATIENTS_PER_PAGE"],
    )
    return render_template(
        "patients/index.html", page=result, search=search, archived=archived, sort=sort
    )


@bp.route("/patients/new", methods=["GET", "POST"])
@login_required
def create() -> ResponseReturnValue:
    """Add a patient."""
    form = once_form(NewPatientForm, clinic_id=clinic_id())
    if form.validate_on_submit():

        def save() -> Saved:
            patient = create_patient(clinic_id(), acting(), **form.values())
            return (
                url_for("patients.show", patient_id=patient.id),
                f"{patient.display_name} was added. Next, record an assessment.",
            )

        return submit_once(form, save)
    if (same := _already_added(form)) is not None:
        # the form sent again after Back, with a fresh token: that patient, not an error
        flash(f"{same.display_name} is already on the record; here they are.", "info")
        return redirect(url_for("patients.show", patient_id=same.id))
    status = 400 if form.errors else 200
    return render_template("patients/form.html", form=form, patient=None), status


def _already_added(form: NewPatientForm) -> Patient | None:
    """The patient a refused new-patient form describes exactly (same chart, names and birth)."""
    if not form.is_submitted() or list(form.errors) != ["chart_number"]:
        return None
    patient = fetch_patient_by_chart(clinic_id(), form.chart_number.data or "")
    if patient is None:
        return None
    typed = form.values()
    same = all(
        str(getattr(patient, name) or "").strip().casefold()
        == str(typed[name] or "").strip().casefold()
        for name in ("given_name", "family_name", "date_of_birth")
    )
    return patient if same else None


@bp.get("/patients/<int:patient_id>")
@login_required
def show(patient_id: int) -> ResponseReturnValue:
    """A patient's record: details, programmes, assessments and plans."""
    patient = _patient_or_404(patient_id)
    assessments = fetch_assessments(clinic_id(), patient.id)
    every = fetch_assessments(clinic_id(), patient.id, include_voided=True)
    plans = fetch_patient_plans(clinic_id(), patient.id)
    logs = fetch_patient_logs(clinic_id(), patient.id)
    dates = [a.assessed_on for a in assessments]
    today = date.today()
    programmes = [
        (programme, programme_timeline(programme, plans, lineage_sums(logs), dates, today))
        for programme in fetch_patient_programmes(clinic_id(), patient.id)
    ]
    outcomes = record_outcomes(list(reversed(assessments)), logs, programmes)
    return render_template(
        "patients/show.html",
        patient=patient,
        assessments=assessments,
        amended=[a for a in every if a.voided_at is not None],
        latest=assessments[0] if assessments else None,
        charts=assessment_charts(
            [a.assessed_on.strftime("%d %b") for a in reversed(assessments)],
            [a.oxford_grade for a in reversed(assessments)],
            [a.endurance_s for a in reversed(assessments)],
        ),
        plans=plans,
        programmes=programmes,
        outcomes=outcomes,
        # Oxford grade and endurance are charted with the assessments already
        outcome_charts=outcome_charts(
            outcomes.dates,
            {k: v for k, v in outcomes.series.items() if k not in ("oxford", "endurance")},
            outcomes.weeks,
            outcomes.blocks,
        ),
        age=age_on(patient.date_of_birth, date.today()) if patient.date_of_birth else None,
    )


@bp.route("/patients/<int:patient_id>/edit", methods=["GET", "POST"])
@login_required
def edit(patient_id: int) -> ResponseReturnValue:
    """Change a patient's details; a stale form gets a conflict page."""
    patient = _patient_or_404(patient_id)
    form = EditPatientForm(obj=patient, clinic_id=clinic_id(), patient_id=patient.id)
    if not form.is_submitted():
        form.version.data = str(patient.version)
    if form.validate_on_submit():
        if form.version_number() != patient.version:
            return _conflict(patient, form)
        try:
            update_patient(patient, acting(), **form.values())
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            patient = _patient_or_404(patient_id)
            return _conflict(patient, form)
        flash("Patient details saved.", "success")
        return redirect(url_for("patients.show", patient_id=patient.id))
    status = 400 if form.errors else 200
    return render_template("patients/form.html", form=form, patient=patient), status


def _conflict(patient: Patient, form: EditPatientForm) -> ResponseReturnValue:
    """The form again: the other saves' changes merged in, the user's own typing kept.

    Fields the saves since this form was opened changed show their saved values (what the user
    had there is shown beside them, to type again if it was their change); every other field
    keeps what the user typed. Saving again applies the user's change on top of theirs.
    """
    typed = form.values()
    missed = patient.version - form.version_number()
    changed_since = {
        name.strip()
        for detail in fetch_write_details(
            clinic_id(), "patient", patient.id, "patient.update", missed
        )
        for name in detail.split(",")
    }
    differences = []
    for name, value in typed.items():
        saved = getattr(patient, name)
        if saved == value:
            continue
        theirs = name in changed_since
        differences.append(
            Difference(form[name].label.text, shown(saved), shown(value), kept_saved=theirs)
        )
        if theirs:  # their change stays in the form; yours, if any, is shown beside it
            form[name].data, form[name].raw_data = saved, None
    conflict = find_conflict(
        clinic_id(), "patient", patient.id, ("patient.update", "patient.create"), differences
    )
    form.version.data = str(patient.version)  # saving again applies this version on top
    return render_template("patients/form.html", form=form, patient=patient, conflict=conflict), 409


@bp.post("/patients/<int:patient_id>/<any(archive, restore):action>")
@login_required
def set_archived(patient_id: int, action: str) -> ResponseReturnValue:
    """Archive a patient (never deleted) or bring them back."""
    patient = _patient_or_404(patient_id)
    show = url_for("patients.show", patient_id=patient.id)
    if (action == "archive") == (patient.archived_at is not None):
        # a repeat, or a twin request that won the race: nothing left to change
        state = "archived" if patient.archived_at else "on the patient list"
        flash(f"{patient.display_name} is already {state}. Nothing else changed.", "info")
        return redirect(show)
    if action == "archive":
        archive_patient(patient, acting())
        message = f"{patient.display_name} is archived. Their records are kept."
    else:
        restore_patient(patient, acting())
        message = f"{patient.display_name} is back on the patient list."
    db.session.commit()
    flash(message, "success")
    return redirect(show)


@bp.route("/patients/<int:patient_id>/assessments/new", methods=["GET", "POST"])
@login_required
def new_assessment(patient_id: int) -> ResponseReturnValue:
    """Record an assessment."""
    patient = _patient_or_404(patient_id)
    form = AssessmentForm()

    def save() -> Saved:
        add_assessment(patient, acting(), **form.values())
        return url_for("patients.show", patient_id=patient.id), "Assessment saved."

    def page() -> str:
        return render_template("patients/assessment_form.html", form=form, patient=patient)

    return save_once_or_show(form, save, page)


@bp.route(
    "/patients/<int:patient_id>/assessments/<int:assessment_id>/amend", methods=["GET", "POST"]
)
@login_required
def amend_assessment_view(patient_id: int, assessment_id: int) -> ResponseReturnValue:
    """Correct an assessment with a reason: the old values stay on record, voided."""
    patient = _patient_or_404(patient_id)
    old = fetch_assessment(clinic_id(), patient.id, assessment_id) or abort(404)
    record = url_for("patients.show", patient_id=patient.id, _anchor="assessments")
    if old.clinician_id != current_user.id and not current_user.is_admin:
        return render_error(
            403, "Only the clinician who recorded an assessment, or an administrator, amends it."
        )
    if old.voided_at is not None:
        flash("This assessment was already amended; the amended values are shown.", "info")
        return redirect(record)
    form = AmendAssessmentForm(obj=old)
    if not form.is_submitted():
        form.relaxation.data = old.relaxation or ""
    if form.validate_on_submit():
        try:
            amend_assessment(old, form.reason.data, acting(), **form.values())
            db.session.commit()
        except AlreadyAmended:
            db.session.rollback()
            flash("Someone amended this assessment just before you; check their values.", "error")
            return redirect(record)
        flash("Assessment amended. The earlier values stay on record.", "success")
        return redirect(record)
    status = 400 if form.errors else 200
    return render_template(
        "patients/assessment_form.html", form=form, patient=patient, amending=old
    ), status
