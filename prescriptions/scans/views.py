"""Scan returned sheets: upload a photo or a scanned PDF, then confirm each week's log it fills."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge

from sheets import SheetError, read_file

from ..domain.adherence import LOG_FIELDS, prescribed_per_day, week_days
from ..extensions import db
from ..logs.forms import LogWeekForm
from ..logs.operations import DayEntry, LogConflict, save_week_log
from ..logs.queries import fetch_logs
from ..mapping.plans import plan_items
from ..models import LogEntry, SheetScan
from ..plans.queries import fetch_current_revision, fetch_plan
from ..web import acting, clinic_id
from ..web.forms import whole_number
from .forms import ScanUploadForm, size_text, too_large
from .operations import (
    ScanRefused,
    add_scan,
    confirm_scan,
    discard_scan,
    identify_sheet,
    new_batch,
    purge_scans,
)
from .queries import (
    fetch_kept_scan_image,
    fetch_kept_scans,
    fetch_next_scan,
    fetch_pending_scans,
    fetch_scan,
)
from .reading import filled_days

bp = Blueprint("scans", __name__)
#: Room for the form's other fields around the file itself.
FORM_SLACK = 64 * 1024


@bp.record_once
def _allow_large_scans(state: Any) -> None:
    # The CSRF check reads the request body in the app's first before-request hook, so the
    # upload's larger limit must be set before it: a photo or a scanned PDF outgrows the logo's.
    state.app.before_request_funcs.setdefault(None, []).insert(0, _scan_limit)


def _scan_limit() -> None:
    if request.endpoint == "scans.upload":
        request.max_content_length = current_app.config["SCAN_MAX_BYTES"] + FORM_SLACK


def _upload_form() -> ScanUploadForm:
    return ScanUploadForm(max_bytes=current_app.config["SCAN_MAX_BYTES"])


def _upload_page(form: ScanUploadForm, status: int = 200) -> ResponseReturnValue:
    pending = fetch_pending_scans(clinic_id())
    kept = fetch_kept_scans(clinic_id()) if current_user.clinic.keep_scans else []
    limit = size_text(current_app.config["SCAN_MAX_BYTES"])
    page = render_template("scans/upload.html", form=form, pending=pending, kept=kept, limit=limit)
    return page, status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    form = ScanUploadForm(formdata=None, max_bytes=current_app.config["SCAN_MAX_BYTES"])
    form.sheet.errors = [too_large(current_app.config["SCAN_MAX_BYTES"])]
    return _upload_page(form, 413)


@bp.route("/scans", methods=["GET", "POST"])
@login_required
def upload() -> ResponseReturnValue:
    """One photo or a multi-page PDF in; each sheet found waits for its week to be confirmed."""
    form = _upload_form()
    if request.method == "GET":
        return _upload_page(form)
    if form.validate_on_submit():
        try:
            pages = read_file(form.data_bytes)
        except SheetError as error:
            form.sheet.errors.append(str(error))
            return _upload_page(form, 400)
        purge_scans()
        clinic, batch, by = current_user.clinic, new_batch(), acting()
        made, problems = [], []
        for number, page in enumerate(pages, 1):
            where = f"Page {number}: " if len(pages) > 1 else ""
            try:
                if isinstance(page, SheetError):
                    raise page
                plan, week = identify_sheet(clinic.id, page)
            except (SheetError, ScanRefused) as error:
                problems.append(f"{where}{error}")
                continue
            made.append(add_scan(clinic, plan, week, page, batch, by))
        if made:
            db.session.commit()
            for problem in problems:
                flash(problem, "error")
            read = f"{len(made)} sheet{'s' if len(made) != 1 else ''} read"
            flash(f"{read}: check each week against the paper, then save it.", "info")
            return redirect(url_for("scans.confirm", scan_id=made[0].id))
        db.session.rollback()
        form.sheet.errors.extend(problems)
    return _upload_page(form, 400)


def _week_page(scan: SheetScan) -> dict[str, Any]:
    """The scan's plan (current revision), its week, what is saved and what the sheet says."""
    opened = fetch_plan(clinic_id(), scan.plan_id) or abort(404)
    plan = fetch_current_revision(clinic_id(), opened)
    if plan.id != opened.id:
        plan = fetch_plan(clinic_id(), plan.id) or abort(404)
    days = week_days(plan.start_date, scan.week)
    prescribed = prescribed_per_day(plan_items(plan.items), scan.week)
    existing = {e.day: e for e in fetch_logs(clinic_id(), plan.id, days[0], days[-1])}
    filled = filled_days(json.loads(scan.reading), days)
    return {
        "scan": scan,
        "plan": plan,
        "week": scan.week,
        "days": days,
        "prescribed": prescribed,
        "existing": existing,
        "kept": [existing[d].sessions_prescribed if d in existing else prescribed for d in days],
        "filled": filled,
        "today": date.today(),
    }


def _row(entry: LogEntry | None) -> dict[str, Any]:
    if entry is None:
        return {}
    return {"version": entry.version, **{name: getattr(entry, name) for name in LOG_FIELDS}}


@bp.route("/scans/<int:scan_id>", methods=["GET", "POST"])
@login_required
def confirm(scan_id: int) -> ResponseReturnValue:
    """The week's log form filled in from the sheet; nothing is saved until it is confirmed."""
    scan = fetch_scan(clinic_id(), scan_id) or abort(404)
    page = _week_page(scan)
    plan, days, existing = page["plan"], page["days"], page["existing"]
    args = {"prescribed": page["prescribed"], "per_day": page["kept"]}
    if request.method == "GET":
        rows = [_row(existing.get(d)) | f.values for d, f in zip(days, page["filled"], strict=True)]
        form = LogWeekForm(data={"days": rows}, **args)
        return render_template("scans/confirm.html", form=form, **page)
    form = LogWeekForm(days=days, today=date.today(), **args)
    complete = all(f"days-{n}-sessions_done" in request.form for n in range(len(days)))
    if not complete:
        form.form_errors.append("The form came back incomplete. Please open the scan again.")
    elif form.validate_on_submit():
        entries = [
            DayEntry(day=day, version=whole_number(row.form.version.data), values=row.form.values())
            for day, row in zip(days, form.days, strict=True)
            if row.form.is_filled()
        ]
        batch = scan.batch
        try:
            changed = save_week_log(plan, entries, existing, page["prescribed"], acting())
            confirm_scan(scan, keep=current_user.clinic.keep_scans)
            db.session.commit()
        except (LogConflict, StaleDataError):
            db.session.rollback()
            return _conflict(scan_id, form)
        flash(
            f"Week {page['week']} log saved from the sheet "
            f"({changed} day{'s' if changed != 1 else ''} changed).",
            "success",
        )
        following = fetch_next_scan(clinic_id(), batch, scan_id)
        if following is not None:
            return redirect(url_for("scans.confirm", scan_id=following))
        return redirect(url_for("plans.show", plan_id=plan.id, _anchor="progress"))
    return render_template("scans/confirm.html", form=form, **page), 400


def _conflict(scan_id: int, form: LogWeekForm) -> ResponseReturnValue:
    """Someone saved days of this week meanwhile: the typing again, on top of what they saved."""
    scan = fetch_scan(clinic_id(), scan_id) or abort(404)
    page = _week_page(scan)
    for day, entry in zip(page["days"], form.days, strict=True):
        saved = page["existing"].get(day)
        entry.form.version.data = str(saved.version) if saved else ""
    form.form_errors.append(
        "Someone saved days of this week while you were checking the sheet. Their days are "
        "now on record; saving again puts what you see here on top of them."
    )
    return render_template("scans/confirm.html", form=form, **page), 409


@bp.post("/scans/<int:scan_id>/discard")
@login_required
def discard(scan_id: int) -> ResponseReturnValue:
    """Throw a scanned page away without saving anything from it."""
    scan = fetch_scan(clinic_id(), scan_id) or abort(404)
    discard_scan(scan, acting())
    db.session.commit()
    flash("The scanned sheet was discarded; nothing was saved from it.", "info")
    return redirect(url_for("scans.upload"))


@bp.get("/scans/<int:scan_id>/page.png")
@login_required
def page_image(scan_id: int) -> ResponseReturnValue:
    """A confirmed scan's page, kept on record because the clinic keeps scans."""
    data = fetch_kept_scan_image(clinic_id(), scan_id) or abort(404)
    return data, {"Content-Type": "image/png"}
