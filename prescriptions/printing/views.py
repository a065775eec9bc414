"""Printing handouts: one plan's PDF, or several patients' current plans in one file."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..audit import record_event
from ..companion.queries import fetch_printed_keys
from ..companion.tokens import link_key
from ..exercises.queries import fetch_catalogue
from ..extensions import db
from ..mapping.handouts import (
    download_name,
    handout_options,
    render_batch,
    render_plan_handout,
)
from ..plans.queries import fetch_current_plans, fetch_plan, fetch_plans_by_ids
from ..web import acting, clinic_id
from ..web.links import public_link
from .forms import BatchPrintForm, HandoutOptionsForm

bp = Blueprint("printing", __name__)


@bp.get("/plans/<int:plan_id>/handout.pdf")
@login_required
def handout(plan_id: int) -> ResponseReturnValue:
    """The patient's handout as a PDF (recorded as printed; never cached)."""
    plan = fetch_plan(clinic_id(), plan_id) or abort(404)
    form = HandoutOptionsForm(request.args, meta={"csrf": False})
    if not form.validate():
        abort(400)
    clinic = current_user.clinic
    options = handout_options(
        plan,
        clinic,
        paper=form.paper.data or None,
        large_print=form.large_print.data,
        log_sheets_only=bool(form.sheets.data),
    )
    links = _printed_links({plan.patient_id})
    companion = links.get(plan.patient_id, ("", ""))
    pdf = render_plan_handout(plan, clinic, fetch_catalogue(clinic_id()), options, companion)
    name = download_name(plan)  # before the commit, which expires the loaded plan
    record_event(acting(), "plan.print", plan, f"{options.paper}, large={options.large_print}")
    db.session.commit()
    return _pdf_response(pdf, name)


def _printed_links(patient_ids: set[int]) -> dict[int, tuple[str, str]]:
    """The patients' phone links and short codes for the QR codes, by patient (none without
    FLOORPLAN_PUBLIC_URL: a QR code needs the whole link)."""
    config = current_app.config
    public = str(config.get("PUBLIC_URL") or "")
    if not public.rstrip("/"):
        return {}
    keys = fetch_printed_keys(clinic_id(), patient_ids, link_key(config["SECRET_KEY"]))
    return {
        patient: (public_link(public, request.script_root, "companion.today", key=token), code)
        for patient, (token, code) in keys.items()
    }


def _pdf_response(pdf: bytes, name: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@bp.route("/print", methods=["GET", "POST"])
@login_required
def batch() -> ResponseReturnValue:
    """Pick several patients' current plans and print their handouts as one PDF."""
    search = request.args.get("q", "").strip()[:100]
    plans = fetch_current_plans(clinic_id(), search=search)
    form = BatchPrintForm(plans=[(p.id, p) for p in plans])
    if form.validate_on_submit():
        chosen = fetch_plans_by_ids(clinic_id(), [int(i) for i in form.plans.data])
        links = _printed_links({p.patient_id for p in chosen})
        companions = {p.id: links[p.patient_id] for p in chosen if p.patient_id in links}
        pdf = render_batch(chosen, current_user.clinic, fetch_catalogue(clinic_id()), companions)
        record_event(acting(), "plan.print_batch", None, ", ".join(str(p.id) for p in chosen))
        db.session.commit()
        return _pdf_response(pdf, f"handouts-{len(chosen)}.pdf")
    status = 400 if form.errors else 200
    return render_template("printing/batch.html", form=form, plans=plans, search=search), status
