"""Returned logs: one plan week at a time, as on the paper sheet."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy.orm.exc import StaleDataError

from ..domain.adherence import LOG_FIELDS, prescribed_per_day, week_days
from ..domain.progression import WEEKS
from ..extensions import db
from ..mapping.plans import plan_items
from ..models import LogEntry, Plan
from ..plans.queries import fetch_current_revision, fetch_plan
from ..web import acting, clinic_id
from ..web.conflicts import Difference, find_conflict
from ..web.errors import render_error
from ..web.forms import whole_number
from .forms import LogWeekForm
from .operations import DayEntry, LogConflict, save_week_log
from .queries import fetch_logs

bp = Blueprint("logs", __name__)


@bp.route("/plans/<int:plan_id>/weeks/<int:week>/log", methods=["GET", "POST"])
@login_required
def week_log(plan_id: int, week: int) -> ResponseReturnValue:
    """Enter a returned logging sheet: one line a day, as on paper; partial weeks are fine."""
    opened = fetch_plan(clinic_id(), plan_id) or abort(404)
    if week not in WEEKS:
        abort(404)
    if opened.is_editable:
        flash("Issue the plan first: a draft has no logging sheets.", "info")
        return redirect(url_for("plans.show", plan_id=opened.id))
    # Logs belong to the lineage: a replaced revision is read-only, its days are the current's.
    plan = fetch_current_revision(clinic_id(), opened)
    if plan.id != opened.id:
        if request.method == "GET":
            flash(_replaced(opened, plan), "info")
            return redirect(url_for("logs.week_log", plan_id=plan.id, week=week))
        if plan.start_date != opened.start_date:
            return render_error(
                409,
                f"{_replaced(opened, plan)} It starts on a different day, so this week's "
                "dates have moved: open the week again on the current revision.",
            )
        flash(_replaced(opened, plan), "info")
        plan = fetch_plan(clinic_id(), plan.id) or abort(404)
    days = week_days(plan.start_date, week)
    prescribed = prescribed_per_day(plan_items(plan.items), week)
    existing = {entry.day: entry for entry in fetch_logs(clinic_id(), plan.id, days[0], days[-1])}
    per_day = [existing[d].sessions_prescribed if d in existing else prescribed for d in days]
    page = {
        "plan": plan,
        "week": week,
        "days": days,
        "prescribed": prescribed,
        "kept": per_day,
        "today": date.today(),
        # what the patient logged on the phone, kept beside what staff key in (issue 16)
        "phone": {d: e.patient_entry for d, e in existing.items() if e.patient_entry},
        "phone_only": {d: e.entered_by_id is None for d, e in existing.items()},
        "phone_text": _day_text,
    }
    if request.method == "GET":
        form = LogWeekForm(
            data={"days": [_row(existing.get(d)) for d in days]},
            prescribed=prescribed,
            per_day=per_day,
        )
        return render_template("logs/week.html", form=form, **page)
    form = LogWeekForm(prescribed=prescribed, per_day=per_day, days=days, today=date.today())
    # FieldList renumbers rows it receives, so every day's line must come back to stay on its day.
    complete = all(f"days-{n}-sessions_done" in request.form for n in range(len(days)))
    if not complete:
        form.form_errors.append("The form came back incomplete. Please open the week again.")
    elif form.validate_on_submit():
        entries = [
            DayEntry(
                day=day,
                version=whole_number(row.form.version.data),
                values=row.form.values(),
            )
            for day, row in zip(days, form.days, strict=True)
            if row.form.is_filled()
        ]
        try:
            changed = save_week_log(plan, entries, existing, prescribed, acting())
            db.session.commit()
        except (LogConflict, StaleDataError):
            db.session.rollback()
            return _log_conflict(plan, form, page)
        flash(
            f"Week {week} log saved ({changed} day{'s' if changed != 1 else ''} changed).",
            "success",
        )
        return redirect(url_for("plans.show", plan_id=plan.id, _anchor="progress"))
    return render_template("logs/week.html", form=form, **page), 400


def _log_conflict(plan: Plan, form: LogWeekForm, page: dict[str, Any]) -> ResponseReturnValue:
    """The week again with the user's typing, the days saved meanwhile beside it."""
    days = page["days"]
    saved = {e.day: e for e in fetch_logs(clinic_id(), plan.id, days[0], days[-1])}
    differences = []
    for day, entry in zip(days, form.days, strict=True):
        row, other = entry.form, saved.get(day)
        row.version.data = str(other.version) if other else ""  # saving applies yours on top
        if other is None:
            continue
        if not row.is_filled():  # a day only they filled in: show it, it stays as saved
            for name, value in _row(other).items():
                row[name].raw_data, row[name].data = None, value
            continue
        typed = row.values()
        if any(getattr(other, k) != v for k, v in typed.items()):
            differences.append(
                Difference(day.strftime("%a %d %b"), _day_text(_row(other)), _day_text(typed))
            )
    conflict = find_conflict(clinic_id(), "plan", plan.id, ("log.save",), differences)
    return render_template("logs/week.html", form=form, conflict=conflict, **page), 409


def _day_text(values: dict[str, Any]) -> str:
    parts = [
        f"{values.get('sessions_done')} sessions",
        f"hold {values['longest_hold_s']} s" if values.get("longest_hold_s") is not None else "",
        f"{values['leaks']} leaks" if values.get("leaks") is not None else "",
        f"pain {values['pain']}" if values.get("pain") is not None else "",
        values.get("note") or "",
    ]
    return ", ".join(p for p in parts if p)


def _replaced(opened: Plan, current: Plan) -> str:
    return (
        f"Revision {opened.revision} was replaced by revision {current.revision}; "
        "its logged days carry over, and logs are entered on the current revision."
    )


def _row(entry: LogEntry | None) -> dict[str, object]:
    if entry is None:
        return {}
    return {
        "version": entry.version,
        **{name: getattr(entry, name) for name in LOG_FIELDS},
    }
