"""Clinic exercises: the domain checks a row when it is written, not first when it is read."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from prescriptions.audit import SYSTEM
from prescriptions.exercises.operations import add_clinic_exercise
from prescriptions.extensions import db
from prescriptions.models import ClinicExercise

VALID = {
    "code": "c_bridge",
    "name": "Bridge squeeze",
    "kind": "contract",
    "params": ["hold_s", "reps", "sets", "sessions_per_day"],
    "summary": "Squeeze while bridging.",
    "steps": "Lie down.\nLift your hips.",
    "breathing": "Breathe out as you lift.",
    "feel": "A lift inside.",
    "mistakes": "Holding your breath.",
}


@pytest.mark.parametrize(
    "bad",
    [
        {"steps": "  \n  "},
        {"params": ["hold_s", "tempo"]},
        {"code": "slow_hold"},
        {"name": "   "},
        {"kind": "dance"},
    ],
)
def test_an_exercise_the_domain_refuses_is_never_stored(app, clinician, bad):
    with app.app_context():
        with pytest.raises(ValueError):
            add_clinic_exercise(clinician.clinic_id, SYSTEM, **{**VALID, **bad})
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ClinicExercise)) == 0


def test_a_valid_exercise_is_stored(app, clinician):
    with app.app_context():
        add_clinic_exercise(clinician.clinic_id, SYSTEM, **VALID)
        db.session.commit()
        assert db.session.scalar(sa.select(ClinicExercise.code)) == "c_bridge"
