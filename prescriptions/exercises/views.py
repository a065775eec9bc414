"""The exercise catalogue: built-in exercises and the clinic's own."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from ..domain.catalogue import exercise_code
from ..mapping.plans import catalogue_of
from ..web import acting, clinic_id
from ..web.once import Saved, save_once_or_show
from .forms import ExerciseForm
from .operations import add_clinic_exercise
from .queries import fetch_clinic_exercises

bp = Blueprint("exercises", __name__)


@bp.route("/exercises", methods=["GET", "POST"])
@login_required
def index() -> ResponseReturnValue:
    """The exercise catalogue: built-in exercises and the clinic's own."""
    form = ExerciseForm()
    own = fetch_clinic_exercises(clinic_id())

    def save() -> Saved:
        code = exercise_code(form.name.data, {row.code for row in own})
        add_clinic_exercise(clinic_id(), acting(), **form.values(code))
        return url_for("exercises.index"), f"“{form.name.data}” can now be added to plans."

    def page() -> str:
        return render_template(
            "exercises/index.html", form=form, catalogue=catalogue_of(own).values()
        )

    return save_once_or_show(form, save, page)
