"""The handout renderer: a pure function from a frozen HandoutSnapshot to PDF bytes."""

from pdf.render import render_handout, render_handouts
from pdf.snapshot import (
    ClinicHeader,
    Dose,
    ExerciseGuide,
    HandoutOptions,
    HandoutSnapshot,
    WeekPlan,
)

__all__ = [
    "ClinicHeader",
    "Dose",
    "ExerciseGuide",
    "HandoutOptions",
    "HandoutSnapshot",
    "WeekPlan",
    "render_handout",
    "render_handouts",
]
