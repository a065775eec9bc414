"""The exercise catalogue: built-in exercises and the clinic's own."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from ..mapping.plans import catalogue_of
from ..web import acting, clinic_id
from ..web.once import Saved, repeat_of, submit_once
from .forms import ExerciseForm
from .operations import add_clinic_exercise
from .queries import fetch_clinic_exercises

bp = Blueprint("exercises", __name__)


@bp.route("/exercises", methods=["GET", "POST"])
@login_required
def index() -> ResponseReturnValue:
    """The exercise catalogue: built-in exercises and the clinic's own."""
    form = ExerciseForm()
    if repeat := repeat_of(form):
        return repeat
    own = fetch_clinic_exercises(clinic_id())
    if form.validate_on_submit():
        code = _exercise_code(form.name.data, {row.code for row in own})

        def save() -> Saved:
            add_clinic_exercise(
                clinic_id(),
                acting(),
                code=code,
                name=form.name.data,
                kind=form.kind.data,
                params=sorted({*form.params.data, "reps", "sets", "sessions_per_day"}),
                summary=form.summary.data,
                steps=form.steps.data,
                breathing=form.breathing.data or "",
                feel=form.feel.data or "",
                mistakes=form.mistakes.data or "",
            )
            return url_for("exercises.index"), f"“{form.name.data}” can now be added to plans."

        return submit_once(form, save)
    status = 400 if form.errors else 200
    return render_template(
        "exercises/index.html", form=form, catalogue=catalogue_of(own).values()
    ), status


def _exercise_code(name: str, taken: set[str]) -> str:
    """A stable code for a clinic exercise, unique in the clinic and never a built-in code."""
    base = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in name.lower())
    base = "c_" + ("_".join(filter(None, base.split("_"))) or "exercise")[:30]
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    return code
