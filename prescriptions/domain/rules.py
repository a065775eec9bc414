"""Plan rules: errors and warnings per CLINICAL.md "Limits a plan checks" (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from .catalogue import (
    BUILTIN_EXERCISES,
    CONTRACT_HOLD_BLOCK_S,
    CONTRACT_HOLD_WARN_S,
    FIELD_BOUNDS,
    LOAD_JUMP_WARN_PCT,
    NEAR_MAX_BLOCK,
    NEAR_MAX_WARN,
    PARAM_LABELS,
    PARAMS,
    RELAX_HOLD_WARN_S,
    SESSIONS_WARN,
    Exercise,
)
from .progression import DOWN_TRAINING, WEEKS, Item, daily_load, load_jump_too_big
from .vocab import Diagnosis, Kind, Position, Precaution


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem with a plan; errors refuse, warnings must be acknowledged when issuing."""

    code: str  #: stable rule id, stored with acknowledgements
    severity: Severity
    message: str  #: clinician-facing; names the week and exercise
    week: int | None = None
    order: int | None = None
    field: str | None = None
    #: only meaningful for errors: False means a draft may still be saved but not issued
    blocks_save: bool = True


@dataclass(frozen=True)
class PatientFacts:
    """What the rules need to know about the patient."""

    diagnoses: frozenset[Diagnosis] = frozenset()
    precautions: frozenset[Precaution] = frozenset()


#: squeezing kinds: what CLINICAL.md calls "Kegels" for a hypertonic pelvic floor
_SQUEEZE_KINDS = (Kind.CONTRACT, Kind.FUNCTIONAL)
#: kinds whose "hold" is a held muscle, so down-training wants rest at least twice as long
_HELD_KINDS = (Kind.CONTRACT, Kind.RELAX)


def _where(item: Item, exercise: Exercise | None) -> str:
    name = exercise.name if exercise is not None else item.exercise
    return f"Week {item.week} · {name} (item {item.order})"


def _finding(
    severity: Severity,
    code: str,
    message: str,
    item: Item | None = None,
    field: str | None = None,
    week: int | None = None,
) -> Finding:
    return Finding(
        code,
        severity,
        message,
        week=item.week if item else week,
        order=item.order if item else None,
        field=field,
    )


_error = partial(_finding, Severity.ERROR)
_warning = partial(_finding, Severity.WARNING)


def _structure(item: Item, exercise: Exercise | None) -> list[Finding]:
    """Errors that make an item meaningless; such items skip the clinical checks."""
    found: list[Finding] = []
    if item.week not in WEEKS:
        found.append(
            _error(
                "item.week_out_of_range",
                f"Week {item.week} · {item.exercise}: a plan runs weeks 1 to 4.",
                item,
                "week",
            )
        )
    if exercise is None:
        found.append(
            _error(
                "item.exercise_unknown",
                f"Week {item.week} · item {item.order}: unknown exercise {item.exercise!r}.",
                item,
                "exercise",
            )
        )
        return found
    where = _where(item, exercise)
    for param in PARAMS:
        value = getattr(item, param)
        label, unit = PARAM_LABELS[param]
        if param not in exercise.params:
            if value is not None:
                found.append(
                    _error(
                        "item.param_unused",
                        f"{where}: {exercise.name} does not use {label}; leave it empty.",
                        item,
                        param,
                    )
                )
            continue
        if value is None:
            if param in exercise.required_params:
                found.append(
                    _error(
                        "item.param_missing",
                        f"{where}: {label} is required for {exercise.name}.",
                        item,
                        param,
                    )
                )
            continue
        low, high = FIELD_BOUNDS[param]
        if not low <= value <= high:
            found.append(
                _error(
                    "item.param_out_of_range",
                    f"{where}: {label} {value}{unit} must be between {low}{unit} and {high}{unit}.",
                    item,
                    param,
                )
            )
    return found


def _item_limits(item: Item, exercise: Exercise, approach: str) -> list[Finding]:
    found: list[Finding] = []
    where = _where(item, exercise)
    hold, rest = item.hold_s, item.rest_s
    if hold is not None and exercise.kind == Kind.CONTRACT:
        if hold > CONTRACT_HOLD_BLOCK_S:
            found.append(
                _error(
                    "hold.contract_too_long",
                    f"{where}: a {hold} s hold is above the {CONTRACT_HOLD_BLOCK_S} s limit.",
                    item,
                    "hold_s",
                )
            )
        elif hold > CONTRACT_HOLD_WARN_S:
            found.append(
                _warning(
                    "hold.contract_long",
                    f"{where}: a {hold} s hold is above the usual {CONTRACT_HOLD_WARN_S} s "
                    "(holds build to 6-10 s).",
                    item,
                    "hold_s",
                )
            )
    if hold is not None and exercise.kind == Kind.RELAX and hold > RELAX_HOLD_WARN_S:
        found.append(
            _warning(
                "hold.relax_long",
                f"{where}: a {hold} s release is above the usual {RELAX_HOLD_WARN_S} s "
                "(3-5 s with a slow breath).",
                item,
                "hold_s",
            )
        )
    if hold and rest is not None:
        if approach == DOWN_TRAINING and exercise.kind in _HELD_KINDS:
            if rest < 2 * hold:
                found.append(
                    _warning(
                        "rest.under_double_hold",
                        f"{where}: in down-training, rest ({rest} s) should be at least twice "
                        f"the hold ({hold} s).",
                        item,
                        "rest_s",
                    )
                )
        elif rest < hold:
            found.append(
                _warning(
                    "rest.shorter_than_hold",
                    f"{where}: rest ({rest} s) is shorter than the hold ({hold} s); rest at "
                    "least as long as the hold.",
                    item,
                    "rest_s",
                )
            )
    if item.sessions_per_day > SESSIONS_WARN:
        found.append(
            _warning(
                "sessions.too_many",
                f"{where}: {item.sessions_per_day} sessions a day is above the usual "
                f"{SESSIONS_WARN}.",
                item,
                "sessions_per_day",
            )
        )
    return found


def _load_limits(items: Sequence[Item], exercises: Mapping[str, Exercise]) -> list[Finding]:
    found: list[Finding] = []
    load = daily_load(items, exercises)
    for week in WEEKS:
        today = load.get(week, 0)
        if today > NEAR_MAX_BLOCK:
            found.append(
                _error(
                    "load.too_high",
                    f"Week {week}: {today} near-maximal holds a day is above the limit of "
                    f"{NEAR_MAX_BLOCK}.",
                    week=week,
                )
            )
        elif today > NEAR_MAX_WARN:
            found.append(
                _warning(
                    "load.high",
                    f"Week {week}: {today} near-maximal holds a day is above {NEAR_MAX_WARN} "
                    "(usual 24-36).",
                    week=week,
                )
            )
        before = load.get(week - 1, 0)
        if load_jump_too_big(before, today):
            found.append(
                _warning(
                    "load.jump",
                    f"Week {week}: near-maximal holds a day rise from {before} to {today}, more "
                    f"than {LOAD_JUMP_WARN_PCT}% on week {week - 1}.",
                    week=week,
                )
            )
    return found


def _patient_limits(
    items: Sequence[Item], patient: PatientFacts, exercises: Mapping[str, Exercise]
) -> list[Finding]:
    found: list[Finding] = []
    if Precaution.CATHETER in patient.precautions:
        found.append(
            Finding(
                "precaution.catheter",
                Severity.ERROR,
                "Catheter in place: no pelvic floor exercises until it is out. The draft can be "
                "saved, but not issued while the precaution is recorded.",
                blocks_save=False,
            )
        )
    if Precaution.PROLAPSE_BEYOND_HYMEN in patient.precautions:
        found.append(
            _warning(
                "precaution.prolapse_beyond_hymen",
                "Prolapse beyond the hymen: consider specialist review; keep drops gentle with "
                "no pushing or straining.",
            )
        )
    if Precaution.PREGNANT in patient.precautions:
        found.extend(_pregnancy(items, exercises))
    if Diagnosis.PELVIC_PAIN in patient.diagnoses:
        for item in items:
            exercise = exercises[item.exercise]
            if item.week in (1, 2) and exercise.kind in _SQUEEZE_KINDS:
                found.append(
                    _warning(
                        "hypertonic.early_kegel",
                        f"{_where(item, exercise)}: pelvic pain / hypertonic pelvic floor: "
                        "squeezes usually wait until week 3, after relaxation is learned.",
                        item,
                        "exercise",
                    )
                )
        if items and not any(exercises[i.exercise].kind == Kind.RELAX for i in items):
            found.append(
                _warning(
                    "hypertonic.no_relaxation",
                    "Pelvic pain / hypertonic pelvic floor: the plan has no reverse Kegels "
                    "(relaxation) in any week.",
                )
            )
    return found


def _pregnancy(items: Sequence[Item], exercises: Mapping[str, Exercise]) -> list[Finding]:
    """CLINICAL.md "Pregnancy": warn once per exercise done lying on the back."""
    on_back: dict[str, list[Item]] = {}
    for item in sorted(items, key=lambda i: (i.week, i.order)):
        if item.position == Position.LYING:
            on_back.setdefault(item.exercise, []).append(item)
    found = []
    for code, uses in on_back.items():
        weeks = sorted({i.week for i in uses})
        span = f"week {weeks[0]}" if len(weeks) == 1 else f"weeks {', '.join(map(str, weeks))}"
        name = exercises[code].name if code in exercises else code
        found.append(
            _warning(
                "precaution.pregnant_lying",
                f"{name} lying on the back ({span}): pregnant. After about 16 weeks, avoid "
                "long spells lying flat on the back (the womb presses on the large veins); "
                "do it lying on the side, sitting or standing instead.",
                uses[0],
                "position",
            )
        )
    return found


def check_plan(
    items: Sequence[Item],
    patient: PatientFacts,
    approach: str = "strengthening",
    exercises: Mapping[str, Exercise] | None = None,
) -> tuple[Finding, ...]:
    """Errors and warnings for a plan, plan-wide first, then by week and item."""
    catalogue = BUILTIN_EXERCISES if exercises is None else exercises
    found: list[Finding] = []
    if not items:
        found.append(_error("plan.empty", "The plan has no exercises; add at least one."))
    valid: list[Item] = []
    for item in sorted(items, key=lambda i: (i.week, i.order, i.exercise)):
        exercise = catalogue.get(item.exercise)
        structural = _structure(item, exercise)
        found.extend(structural)
        if exercise is not None and item.week in WEEKS:
            valid.append(item)
            if not structural:
                found.extend(_item_limits(item, exercise, approach))
    found.extend(_load_limits(valid, catalogue))
    found.extend(_patient_limits(valid, patient, catalogue))
    # stable sort: plan-wide findings first, then week-wide, then items in plan order
    return tuple(sorted(found, key=lambda f: (f.week or 0, f.order or 0)))


def errors(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The findings that are errors."""
    return tuple(f for f in findings if f.severity == Severity.ERROR)


def warnings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The findings that are warnings."""
    return tuple(f for f in findings if f.severity == Severity.WARNING)


def blocking_save(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Errors that refuse saving even a draft."""
    return tuple(f for f in findings if f.severity == Severity.ERROR and f.blocks_save)


def blocking_issue(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Errors that refuse issuing (every error)."""
    return errors(findings)
