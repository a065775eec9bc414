"""Returned logs: one plan week at a time, as on the paper sheet."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy.orm.exc import StaleDataError

from ..domain.adherence import prescribed_per_day, week_days
from ..domain.progression import WEEKS
from ..extensions import db
from ..mapping.plans import plan_items
from ..models import LogEntry
from ..plans.queries import fetch_plan
from ..web import acting, clinic_id
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
    plan = fetch_plan(clinic_id(), plan_id) or abort(404)
    if week not in WEEKS:
        abort(404)
    if plan.is_editable:
        flash("Issue the plan first: a draft has no logging sheets.", "info")
        return redirect(url_for("plans.show", plan_id=plan.id))
    days = week_days(plan.start_date, week)
    prescribed = prescribed_per_day(plan_items(plan.items), week)
    existing = {entry.day: entry for entry in fetch_logs(clinic_id(), plan.id, days[0], days[-1])}
    if request.method == "GET":
        form = LogWeekForm(
            data={"days": [_row(existing.get(d)) for d in days]}, prescribed=prescribed
        )
        return render_template(
            "logs/week.html", plan=plan, week=week, days=days, form=form, prescribed=prescribed
        )
    form = LogWeekForm(prescribed=prescribed)
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
            return render_error(
                409,
                "Someone else saved this week's log after you opened it. Their entries are kept. "
                "Open the week again to see them, then add yours.",
            )
        flash(
            f"Week {week} log saved ({changed} day{'s' if changed != 1 else ''} changed).",
            "success",
        )
        return redirect(url_for("plans.show", plan_id=plan.id, _anchor="progress"))
    return render_template(
        "logs/week.html", plan=plan, week=week, days=days, form=form, prescribed=prescribed
    ), 400


def _row(entry: LogEntry | None) -> dict[str, object]:
    if entry is None:
        return {}
    return {
        "version": entry.version,
        "sessions_done": entry.sessions_done,
        "longest_hold_s": entry.longest_hold_s,
        "leaks": entry.leaks,
        "leak_trigger": entry.leak_trigger,
        "urgency": entry.urgency,
        "pain": entry.pain,
        "note": entry.note,
    }
