"""The clinic's audit log for administrators, and a check of the chain."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms.fields.choices import SelectChoice

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
    return render_template("audit/index.html", form=form, page=page), 200 if valid else 400


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
