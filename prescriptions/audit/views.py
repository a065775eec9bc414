"""The clinic's audit log for administrators, and a check of the chain."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms.fields.choices import SelectChoice

from ..accounts.queries import fetch_staff_names
from ..assessments.queries import fetch_assessment_patients
from ..models import AuditEvent
from ..patients.queries import fetch_patient_names
from ..plans.queries import fetch_plan_labels
from ..web import admin_required, clinic_id
from . import audit_key, verify_chain
from .forms import AuditFilterForm
from .queries import fetch_audit_events

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


AUDIT_GROUPS = {
    "": "Everything",
    "auth.": "Sign-ins and sign-outs",
    "patient.": "Patients",
    "assessment.": "Assessments",
    "plan.": "Plans (including printing)",
    "log.": "Returned logs",
    "export.": "Exports",
    "user.": "Accounts",
    "clinic.": "Clinic settings",
    "template.": "Templates",
    "exercise.": "Exercises",
}


@bp.get("")
@admin_required
def index() -> ResponseReturnValue:
    """The clinic's audit trail, filtered by kind, person and dates."""
    form = AuditFilterForm(request.args, meta={"csrf": False})
    form.action.choices = [SelectChoice(k, v) for k, v in AUDIT_GROUPS.items()]
    valid = form.validate()
    page = fetch_audit_events(
        clinic_id(),
        action=form.action.data if valid else "",
        actor=(form.actor.data or "") if valid else "",
        first=form.first.data if valid else None,
        last=form.last.data if valid else None,
        page=request.args.get("page", 1, type=int) or 1,
    )
    staff = fetch_staff_names(clinic_id())
    return render_template(
        "audit/index.html",
        form=form,
        page=page,
        records=_records(page.items, staff),
        staff=staff,
    ), 200 if valid else 400


@dataclass(frozen=True)
class RecordLink:
    """What an audit row's record is, in words, and where it is (None: not a page of its own)."""

    text: str
    href: str | None


def _records(events: list[AuditEvent], staff: dict[int, str]) -> dict[int, RecordLink]:
    """Names and links for the records on this page of events, read within the clinic."""
    ids: dict[str, set[int]] = {}
    for event in events:
        if event.record_type and event.record_id is not None:
            ids.setdefault(event.record_type, set()).add(event.record_id)
    clinic = clinic_id()
    assessments = fetch_assessment_patients(clinic, ids.get("assessment", set()))
    patient_ids = ids.get("patient", set()) | {p for p, _ in assessments.values()}
    patients = fetch_patient_names(clinic, patient_ids)
    plans = fetch_plan_labels(clinic, ids.get("plan", set()))
    links: dict[int, RecordLink] = {}
    for event in events:
        kind, ident = event.record_type, event.record_id
        if not kind or ident is None:
            continue
        link = None
        if kind == "patient" and ident in patients:
            link = RecordLink(patients[ident], url_for("patients.show", patient_id=ident))
        elif kind == "plan" and ident in plans:
            link = RecordLink(plans[ident], url_for("plans.show", plan_id=ident))
        elif kind == "assessment" and ident in assessments:
            patient_id, day = assessments[ident]
            link = RecordLink(
                f"Assessment of {day.isoformat()}, {patients.get(patient_id, 'a patient')}",
                url_for("patients.show", patient_id=patient_id, _anchor="assessments"),
            )
        elif kind == "user_account" and ident in staff:
            link = RecordLink(f"Account of {staff[ident]}", url_for("admin.users"))
        links[event.id] = link or RecordLink(f"{kind.replace('_', ' ')} {ident}", None)
    return links


@bp.get("/verify")
@admin_required
def verify() -> ResponseReturnValue:
    """Check this clinic's chain now, in chunks, and say whether it is intact."""
    broken = verify_chain(audit_key(), clinic_id())
    if broken is None:
        flash(
            "The audit trail is intact for this clinic: every row links to the one before it.",
            "success",
        )
    else:
        flash(
            f"The audit trail of this clinic is broken at event {broken.event_id}: "
            f"{broken.reason}.",
            "error",
        )
    return redirect(url_for("audit.index"))
