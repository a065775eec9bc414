"""Between stored records and the pure domain: facts, catalogues, templates and items."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..domain.catalogue import Exercise, custom_exercise, exercise_catalogue
from ..domain.progression import (
    BUILTIN_TEMPLATES,
    WEEKS,
    AssessmentFacts,
    Item,
    Template,
    dose_of,
    template_from_items,
)
from ..domain.rules import Finding, PatientFacts, check_plan
from ..domain.vocab import Diagnosis, Kind, Precaution, Relaxation
from ..models import Assessment, ClinicExercise, ClinicTemplate, Patient, Plan, PlanItem

CLINIC_TEMPLATE_PREFIX = "clinic:"


def assessment_facts(assessment: Assessment | None) -> AssessmentFacts | None:
    """The findings of an assessment that the progression uses."""
    if assessment is None:
        return None
    return AssessmentFacts(
        oxford_grade=assessment.oxford_grade,
        endurance_s=assessment.endurance_s,
        repetitions=assessment.repetitions,
        fast_contractions=assessment.fast_contractions,
        relaxation=Relaxation(assessment.relaxation) if assessment.relaxation else None,
        pain=assessment.pain,
        technique_confirmed=assessment.technique_confirmed,
    )


def patient_facts(patient: Patient) -> PatientFacts:
    """What the rules need to know about a patient (unknown stored values are ignored)."""
    diagnoses = {Diagnosis(d) for d in patient.diagnoses if d in Diagnosis._value2member_map_}
    precautions = {Precaution(p) for p in patient.precautions if p in Precaution._value2member_map_}
    return PatientFacts(frozenset(diagnoses), frozenset(precautions))


def as_exercise(row: ClinicExercise) -> Exercise:
    """A clinic's own exercise as a domain exercise."""
    return custom_exercise(
        row.code,
        row.name,
        Kind(row.kind),
        row.params,
        steps=row.steps.splitlines(),
        breathing=row.breathing,
        feel=row.feel,
        mistakes=row.mistakes.splitlines(),
        summary=row.summary,
    )


def catalogue_of(rows: Iterable[ClinicExercise]) -> dict[str, Exercise]:
    """The built-in exercises plus a clinic's own."""
    return exercise_catalogue(as_exercise(row) for row in rows)


def as_template(row: ClinicTemplate) -> Template:
    """A clinic template as a domain template."""
    return template_from_items(
        f"{CLINIC_TEMPLATE_PREFIX}{row.id}",
        row.name,
        row.approach,
        row.purpose,
        tuple(Item.from_dict(d) for d in row.items),
    )


@dataclass(frozen=True)
class TemplateChoice:
    code: str
    name: str
    description: str


def template_choices(clinic_templates: Sequence[ClinicTemplate]) -> list[TemplateChoice]:
    """Built-in templates first, then the clinic's own."""
    builtin = [TemplateChoice(t.code, t.name, t.description) for t in BUILTIN_TEMPLATES.values()]
    own = [
        TemplateChoice(f"{CLINIC_TEMPLATE_PREFIX}{t.id}", f"{t.name} (clinic template)", "")
        for t in clinic_templates
    ]
    return builtin + own


def plan_items(rows: Iterable[PlanItem]) -> tuple[Item, ...]:
    """A stored plan's items as domain items."""
    return tuple(
        Item(week=row.week, order=row.seq, exercise=row.exercise_code, **dose_of(row))
        for row in rows
    )


def item_rows(items: Iterable[Item]) -> list[PlanItem]:
    """Domain items as new rows for a plan."""
    return [
        PlanItem(
            week=item.week,
            seq=item.order,
            exercise_code=item.exercise,
            **{**dose_of(item), "position": item.position.value},
        )
        for item in items
    ]


def findings_for(
    plan: Plan, items: Sequence[Item], exercises: dict[str, Exercise]
) -> tuple[Finding, ...]:
    """The rules' errors and warnings for a plan's items and its patient."""
    return check_plan(items, patient_facts(plan.patient), plan.approach, exercises)


def warning_key(finding: Finding) -> str:
    """A stable key for one warning, unique within a plan (rule, week and item)."""
    return f"{finding.code}:{finding.week or 0}:{finding.order or 0}"


@dataclass(frozen=True)
class GridRow:
    """One line of the four-week grid: an exercise (or its n-th use in a week) across weeks."""

    exercise: str
    name: str
    cells: tuple[tuple[Item, ...], ...]  #: one tuple of items per week


def dose_grid(items: Sequence[Item], exercises: dict[str, Exercise]) -> list[GridRow]:
    """Rows of exercises in order of first appearance, with one cell per week."""
    keys: list[tuple[str, int]] = []
    cells: dict[tuple[str, int], dict[int, list[Item]]] = {}
    for week in WEEKS:
        seen: dict[str, int] = {}
        for item in sorted((i for i in items if i.week == week), key=lambda i: i.order):
            nth = seen.get(item.exercise, 0)
            seen[item.exercise] = nth + 1
            key = (item.exercise, nth)
            if key not in cells:
                keys.append(key)
                cells[key] = {w: [] for w in WEEKS}
            cells[key][week].append(item)
    return [
        GridRow(
            exercise=code,
            name=exercises[code].name if code in exercises else code,
            cells=tuple(tuple(cells[(code, nth)][w]) for w in WEEKS),
        )
        for code, nth in keys
    ]
