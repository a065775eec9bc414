"""Plan items, templates and the four-week progression (pure functions, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .catalogue import (
    BELLY_BREATHING,
    BUILTIN_EXERCISES,
    CONTRACT_HOLD_WARN_S,
    KNACK,
    LOAD_JUMP_WARN_PCT,
    NEAR_MAX_EFFORT_PCT,
    NEAR_MAX_WARN,
    QUICK_FLICKS,
    REVERSE_KEGEL,
    SLOW_HOLD,
    Exercise,
)
from .vocab import Kind, Position, Relaxation

STRENGTHENING = "strengthening"
DOWN_TRAINING = "down_training"
BALANCED = "balanced"
APPROACHES = (STRENGTHENING, DOWN_TRAINING, BALANCED)

WEEKS = (1, 2, 3, 4)

#: pain (0-10) from which Kegels are kept gentle and each is followed by a drop
PAIN_GENTLE_FROM = 4
#: effort for a gentle Kegel (CLINICAL.md: about 30-50%)
GENTLE_EFFORT_PCT = 40
GENTLE_EFFORT_MAX_PCT = 50
#: start no lower than this, so the 50% weekly step can still move (1 rep could never grow)
MIN_START_REPS = 2
#: starting hold when only an Oxford grade is known; grade 3+ uses the template's own start
OXFORD_START_HOLD_S = {0: 2, 1: 2, 2: 3}


#: the dose of an item: the one list that mappers, forms, exports and history share, so a new
#: dose field is one change here (and a column) rather than one in every layer
DOSE_FIELDS = (
    "position",
    "hold_s",
    "rest_s",
    "reps",
    "sets",
    "sessions_per_day",
    "effort_pct",
    "note",
)


def dose_of(source: Any) -> dict[str, Any]:
    """The dose fields of anything that has them as attributes (an item, a row, a form row)."""
    return {name: getattr(source, name) for name in DOSE_FIELDS}


@dataclass(frozen=True)
class Item:
    """One exercise prescribed in one week of a plan."""

    week: int
    order: int
    exercise: str
    position: Position
    hold_s: int | None
    rest_s: int | None
    reps: int
    sets: int
    sessions_per_day: int
    effort_pct: int | None = None
    note: str = ""

    def __post_init__(self) -> None:
        # items arrive from JSON and forms with the position as a plain string
        if not isinstance(self.position, Position):
            object.__setattr__(self, "position", Position(self.position))

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of the item's fields."""
        data = asdict(self)
        data["position"] = self.position.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        """Item from a dict such as as_dict() returns (unknown keys are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class AssessmentFacts:
    """The assessment findings the progression uses."""

    oxford_grade: int | None = None
    endurance_s: int | None = None
    repetitions: int | None = None
    fast_contractions: int | None = None
    relaxation: Relaxation | None = None
    pain: int | None = None
    technique_confirmed: bool = False


@dataclass(frozen=True)
class Template:
    """A named four-week proposal a plan starts from."""

    code: str
    name: str
    approach: str  #: one of APPROACHES
    purpose: str  #: patient-facing: what the plan is for
    description: str  #: clinician-facing
    items: tuple[Item, ...]


def _item_key(item: Item) -> tuple[int, int]:
    return (item.week, item.order)


def template_from_items(
    code: str,
    name: str,
    approach: str,
    purpose: str,
    items: Iterable[Item],
    description: str = "",
) -> Template:
    """Build a clinic template from plan items."""
    if approach not in APPROACHES:
        raise ValueError(f"approach must be one of {', '.join(APPROACHES)}")
    ordered = tuple(sorted(items, key=_item_key))
    if not ordered:
        raise ValueError("a template needs at least one item")
    if not name.strip():
        raise ValueError("name is required")
    return Template(
        code=code,
        name=name.strip(),
        approach=approach,
        purpose=purpose.strip(),
        description=description.strip(),
        items=ordered,
    )


# --- Built-in templates (CLINICAL.md tables; a range becomes one value inside it) --------------

_L = Position.LYING
_SL = Position.SIDE_LYING
_SIT = Position.SITTING
_ST = Position.STANDING
_FN = Position.FUNCTIONAL

_KNACK_PRACTICE = "Practise with 3 small coughs: squeeze first, then cough."
_KNACK_DAILY = "Use it in daily life: squeeze before every cough, sneeze, laugh or lift."
_DROP_AFTER = "After your squeezes, let the muscles drop fully."
_GENTLE_NOTE = "Gentle: about half effort. Follow each squeeze with a full drop."
_SUPPORTED = "Lie well supported, with pillows under your head and knees."
_OTHER_POSITIONS = "Lying on your side, or kneeling folded forward (child's pose), is fine too."
_AFTER_BIRTH = (
    "Start once your catheter is out and you have passed urine. Lying on your side is comfortable."
)


def hold_item(
    week: int,
    order: int,
    code: str,
    position: Position,
    hold: int,
    rest: int,
    reps: int,
    sessions: int,
    effort: int | None = None,
    note: str = "",
) -> Item:
    """A held item (squeeze, drop or breath) of one set, for template tables."""
    return Item(week, order, code, position, hold, rest, reps, 1, sessions, effort, note)


def count_item(
    week: int, order: int, code: str, position: Position, reps: int, note: str = ""
) -> Item:
    """A counted item (quick squeezes, the Knack) of one set, 3 times a day."""
    return Item(week, order, code, position, None, None, reps, 1, 3, None, note)


_STRENGTHENING_ITEMS = (
    hold_item(1, 1, SLOW_HOLD, _L, 4, 10, 8, 3),
    count_item(1, 2, QUICK_FLICKS, _L, 5),
    hold_item(2, 1, SLOW_HOLD, _SIT, 6, 10, 8, 3),
    count_item(2, 2, QUICK_FLICKS, _SIT, 8),
    hold_item(3, 1, SLOW_HOLD, _SIT, 8, 8, 10, 3),
    count_item(3, 2, QUICK_FLICKS, _ST, 10),
    count_item(3, 3, KNACK, _ST, 3, _KNACK_PRACTICE),
    hold_item(4, 1, SLOW_HOLD, _ST, 10, 10, 12, 3),
    count_item(4, 2, QUICK_FLICKS, _ST, 10),
    count_item(4, 3, KNACK, _FN, 3, _KNACK_DAILY),
)

_DOWN_TRAINING_ITEMS = (
    hold_item(1, 1, BELLY_BREATHING, _L, 4, 6, 10, 2, note=_SUPPORTED),
    hold_item(2, 1, REVERSE_KEGEL, _L, 4, 10, 10, 2, note=_OTHER_POSITIONS),
    hold_item(3, 1, REVERSE_KEGEL, _L, 5, 10, 10, 2),
    hold_item(3, 2, SLOW_HOLD, _SIT, 3, 10, 5, 2, effort=40, note=_GENTLE_NOTE),
    hold_item(4, 1, REVERSE_KEGEL, _SIT, 5, 10, 10, 2),
    hold_item(4, 2, SLOW_HOLD, _ST, 4, 10, 6, 2, effort=50, note=_GENTLE_NOTE),
)

_BALANCED_ITEMS = (
    hold_item(1, 1, SLOW_HOLD, _L, 4, 10, 8, 3),
    hold_item(1, 2, REVERSE_KEGEL, _L, 4, 10, 5, 3, note=_DROP_AFTER),
    hold_item(2, 1, SLOW_HOLD, _L, 5, 10, 8, 3),
    hold_item(2, 2, REVERSE_KEGEL, _L, 4, 6, 5, 3, note=_DROP_AFTER),
    count_item(2, 3, QUICK_FLICKS, _SIT, 5),
    hold_item(3, 1, SLOW_HOLD, _SIT, 8, 10, 10, 3),
    hold_item(3, 2, REVERSE_KEGEL, _SIT, 5, 10, 5, 3, note=_DROP_AFTER),
    count_item(3, 3, QUICK_FLICKS, _ST, 8),
    count_item(3, 4, KNACK, _ST, 3, _KNACK_PRACTICE),
    hold_item(4, 1, SLOW_HOLD, _ST, 10, 10, 10, 3),
    hold_item(4, 2, REVERSE_KEGEL, _ST, 5, 10, 8, 3, note=_DROP_AFTER),
    count_item(4, 3, QUICK_FLICKS, _ST, 10),
    count_item(4, 4, KNACK, _FN, 3, _KNACK_DAILY),
)

_POST_PROSTATECTOMY_ITEMS = (
    hold_item(1, 1, SLOW_HOLD, _SIT, 5, 10, 5, 3, note="Start only once your catheter is out."),
    hold_item(2, 1, SLOW_HOLD, _SIT, 6, 10, 6, 3),
    count_item(2, 2, QUICK_FLICKS, _SIT, 5),
    hold_item(3, 1, SLOW_HOLD, _ST, 7, 10, 8, 3),
    count_item(3, 2, QUICK_FLICKS, _ST, 8),
    count_item(3, 3, KNACK, _ST, 3, _KNACK_PRACTICE),
    hold_item(4, 1, SLOW_HOLD, _ST, 8, 10, 10, 3),
    count_item(4, 2, QUICK_FLICKS, _ST, 10),
    count_item(4, 3, KNACK, _FN, 3, _KNACK_DAILY),
)

_POSTPARTUM_ITEMS = (
    hold_item(1, 1, SLOW_HOLD, _SL, 3, 6, 6, 3, note=_AFTER_BIRTH),
    count_item(1, 2, QUICK_FLICKS, _SL, 5),
    hold_item(2, 1, SLOW_HOLD, _SL, 4, 8, 8, 3),
    count_item(2, 2, QUICK_FLICKS, _SL, 5),
    hold_item(3, 1, SLOW_HOLD, _SIT, 5, 10, 8, 3),
    count_item(3, 2, QUICK_FLICKS, _SIT, 8),
    count_item(3, 3, KNACK, _SIT, 3, _KNACK_PRACTICE),
    hold_item(4, 1, SLOW_HOLD, _ST, 6, 10, 10, 3),
    count_item(4, 2, QUICK_FLICKS, _ST, 10),
    count_item(4, 3, KNACK, _FN, 3, _KNACK_DAILY),
)

BUILTIN_TEMPLATES: dict[str, Template] = {
    "strengthening": Template(
        code="strengthening",
        name="Strengthening",
        approach=STRENGTHENING,
        purpose=(
            "This plan makes your pelvic floor muscles stronger, so you leak less when you "
            "cough, sneeze, laugh or move."
        ),
        description=(
            "Stress urinary incontinence with technique confirmed: slow holds 4 s to 10 s, "
            "quick flicks, the Knack from week 3; lying to standing and functional."
        ),
        items=_STRENGTHENING_ITEMS,
    ),
    "down_training": Template(
        code="down_training",
        name="Down-training",
        approach=DOWN_TRAINING,
        purpose=(
            "This plan helps your pelvic floor muscles relax and let go, which can ease pain "
            "and tightness. Gentle squeezes come later, once letting go feels easier."
        ),
        description=(
            "Hypertonic pelvic floor or pelvic pain: belly breathing with drops, then reverse "
            "Kegels; gentle Kegels (40-50% effort, each followed by a drop) from week 3 only."
        ),
        items=_DOWN_TRAINING_ITEMS,
    ),
    "balanced": Template(
        code="balanced",
        name="Balanced",
        approach=BALANCED,
        purpose=(
            "This plan helps your pelvic floor muscles both relax and get stronger. It can help "
            "with leaks and with a sudden need to pass urine."
        ),
        description=(
            "Mixed urinary incontinence: every Kegel set followed by drop breaths; slow holds "
            "4 s to 10 s, quick flicks from week 2, the Knack from week 3."
        ),
        items=_BALANCED_ITEMS,
    ),
    "post_prostatectomy": Template(
        code="post_prostatectomy",
        name="After prostate surgery",
        approach=STRENGTHENING,
        purpose=(
            "This plan helps you get back control of your bladder after prostate surgery. "
            "Start only once your catheter is out."
        ),
        description=(
            "Post-prostatectomy strengthening: 5 holds of 5 s sitting once the catheter is "
            "out, gentle progression to 10 holds of 8 s standing, the Knack from week 3."
        ),
        items=_POST_PROSTATECTOMY_ITEMS,
    ),
    "postpartum": Template(
        code="postpartum",
        name="After birth",
        approach=STRENGTHENING,
        purpose=(
            "This plan helps your pelvic floor muscles recover and get stronger after having "
            "your baby."
        ),
        description=(
            "Postpartum strengthening from once the catheter is out and urine has been passed: "
            "short squeezes side-lying, to 6 s holds standing and the Knack by week 4."
        ),
        items=_POSTPARTUM_ITEMS,
    ),
}


# --- Load ------------------------------------------------------------------------------------


def is_near_maximal(item: Item, exercise: Exercise | None) -> bool:
    """Whether an item is a held squeeze at near-maximal effort (counts towards the load)."""
    return (
        exercise is not None
        and exercise.kind == Kind.CONTRACT
        and bool(item.hold_s)
        and (item.effort_pct is None or item.effort_pct >= NEAR_MAX_EFFORT_PCT)
    )


def daily_load(
    items: Iterable[Item], exercises: Mapping[str, Exercise] | None = None
) -> dict[int, int]:
    """Near-maximal holds a day (reps x sets x sessions, summed) for each week with items."""
    catalogue = BUILTIN_EXERCISES if exercises is None else exercises
    load: dict[int, int] = {}
    for item in items:
        load.setdefault(item.week, 0)
        if is_near_maximal(item, catalogue.get(item.exercise)):
            load[item.week] += item.reps * item.sets * item.sessions_per_day
    return dict(sorted(load.items()))


def load_jump_too_big(previous: int, current: int) -> bool:
    """Whether the rise from one week's load to the next is above the allowed step."""
    # a week that introduces squeezes after a week with none is a start, not a jump
    return previous > 0 and current * 100 > previous * (100 + LOAD_JUMP_WARN_PCT)


# --- Progression -----------------------------------------------------------------------------


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _shift(items: list[Item], code: str, field_name: str, start: int, cap: int) -> list[Item]:
    """Move one exercise's doses so the first is `start`, keeping the template's weekly steps."""
    own = [i for i in items if i.exercise == code and getattr(i, field_name) is not None]
    if not own:
        return items
    base = getattr(own[0], field_name)
    start = _clamp(start, 1, cap)
    out = []
    for item in items:
        value = getattr(item, field_name)
        if item.exercise == code and value is not None:
            item = replace(item, **{field_name: _clamp(start + value - base, 1, cap)})
        out.append(item)
    return out


def _template_max(items: list[Item], code: str, field_name: str) -> int | None:
    values = [getattr(i, field_name) for i in items if i.exercise == code]
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _start_holds(items: list[Item], facts: AssessmentFacts) -> list[Item]:
    measured = facts.endurance_s
    if measured is None and facts.oxford_grade is not None:
        measured = OXFORD_START_HOLD_S.get(facts.oxford_grade)
    top = _template_max(items, SLOW_HOLD, "hold_s")
    if measured is None or top is None:
        return items
    return _shift(items, SLOW_HOLD, "hold_s", measured, min(top, CONTRACT_HOLD_WARN_S))


def _start_reps(items: list[Item], code: str, measured: int | None) -> list[Item]:
    top = _template_max(items, code, "reps")
    if measured is None or top is None:
        return items
    return _shift(items, code, "reps", max(measured, MIN_START_REPS), top)


def _make_gentle(items: list[Item]) -> list[Item]:
    # quick flicks cannot be done gently, so they wait until pain settles
    out = []
    for item in items:
        if item.exercise == QUICK_FLICKS:
            continue
        if item.exercise == SLOW_HOLD and (
            item.effort_pct is None or item.effort_pct > GENTLE_EFFORT_MAX_PCT
        ):
            item = replace(item, effort_pct=GENTLE_EFFORT_PCT, note=item.note or _GENTLE_NOTE)
        out.append(item)
    return out


def fix_rests(items: list[Item], approach: str) -> list[Item]:
    # rest at least the hold (1:1); down-training asks for at least twice the hold
    factor = 2 if approach == DOWN_TRAINING else 1
    out = []
    for item in items:
        if item.exercise in (SLOW_HOLD, REVERSE_KEGEL) and item.hold_s and item.rest_s is not None:
            item = replace(item, rest_s=max(item.rest_s, item.hold_s * factor))
        out.append(item)
    return out


def limit_load(items: list[Item]) -> list[Item]:
    """Trim slow-hold reps so a day stays under the warning and weekly rises stay gentle."""
    out = list(items)
    previous = 0
    for week in sorted({i.week for i in out}):
        limit = NEAR_MAX_WARN
        if previous > 0:
            limit = min(limit, previous * (100 + LOAD_JUMP_WARN_PCT) // 100)
        while True:
            load = daily_load(i for i in out if i.week == week).get(week, 0)
            trimmable = [
                (n, i)
                for n, i in enumerate(out)
                if i.week == week
                and i.exercise == SLOW_HOLD
                and i.reps > 1
                and is_near_maximal(i, BUILTIN_EXERCISES[SLOW_HOLD])
            ]
            if load <= limit or not trimmable:
                break
            # trim the biggest contributor first; ties go to the earliest item
            n, item = max(
                trimmable, key=lambda p: (p[1].reps * p[1].sets * p[1].sessions_per_day, -p[0])
            )
            out[n] = replace(item, reps=item.reps - 1)
        previous = load
    return out


def _drop(like: Item, reps: int, note: str) -> Item:
    return Item(
        week=like.week,
        order=like.order,
        exercise=REVERSE_KEGEL,
        position=like.position,
        hold_s=5,
        rest_s=10,
        reps=reps,
        sets=1,
        sessions_per_day=like.sessions_per_day,
        note=note,
    )


def add_drops(items: list[Item], every_week: bool) -> list[Item]:
    """Follow each Kegel set with drops; with poor relaxation, make sure every week has some."""
    out: list[Item] = []
    for week in sorted({i.week for i in items}):
        week_items = [i for i in items if i.week == week]
        added: list[Item] = []
        for n, item in enumerate(week_items):
            added.append(item)
            following = week_items[n + 1] if n + 1 < len(week_items) else None
            is_kegel = item.exercise in (SLOW_HOLD, QUICK_FLICKS)
            if is_kegel and (following is None or following.exercise != REVERSE_KEGEL):
                added.append(_drop(item, 5, _DROP_AFTER))
        if every_week and not any(i.exercise == REVERSE_KEGEL for i in added):
            # a week with no squeezes (down-training's breathing week) still practises letting go
            busiest = max(added, key=lambda i: i.sessions_per_day)
            added.append(replace(_drop(busiest, 10, ""), position=added[0].position))
        out.extend(added)
    return out


def renumber(items: list[Item]) -> tuple[Item, ...]:
    out: list[Item] = []
    counters: dict[int, int] = {}
    for item in sorted(items, key=lambda i: i.week):  # stable: keeps the order within a week
        counters[item.week] = counters.get(item.week, 0) + 1
        out.append(replace(item, order=counters[item.week]))
    return tuple(out)


def propose_items(template: Template, assessment: AssessmentFacts | None) -> tuple[Item, ...]:
    """Four weeks of items: starting doses from the assessment, steps and caps from the template."""
    items = sorted(template.items, key=_item_key)
    if assessment is None:
        return tuple(items)
    gentle = assessment.pain is not None and assessment.pain >= PAIN_GENTLE_FROM
    poor_relaxation = assessment.relaxation in (Relaxation.PARTIAL, Relaxation.NONE)
    items = _start_holds(items, assessment)
    items = _start_reps(items, SLOW_HOLD, assessment.repetitions)
    items = _start_reps(items, QUICK_FLICKS, assessment.fast_contractions)
    if gentle:
        items = _make_gentle(items)
    if gentle or poor_relaxation:
        items = add_drops(items, every_week=poor_relaxation)
    items = fix_rests(items, template.approach)
    items = limit_load(items)
    # only renumber when items came or went, so a clinic template's own numbering survives
    return renumber(items) if gentle or poor_relaxation else tuple(items)


#: which built-in template fits a diagnosis, most specific first
_TEMPLATE_FOR_DIAGNOSIS = (
    ("pelvic_pain", "down_training"),
    ("post_prostatectomy", "post_prostatectomy"),
    ("postpartum", "postpartum"),
    ("mixed_ui", "balanced"),
    ("urge_ui", "balanced"),
)


def suggest_template(diagnoses: Iterable[str]) -> str:
    """The code of the built-in template that fits a patient's diagnoses best."""
    found = set(diagnoses)
    return next(
        (code for diagnosis, code in _TEMPLATE_FOR_DIAGNOSIS if diagnosis in found),
        "strengthening",
    )


def items_by_week(items: Sequence[Item]) -> dict[int, tuple[Item, ...]]:
    """Items grouped by week (weeks ascending, items in order)."""
    grouped: dict[int, list[Item]] = {}
    for item in sorted(items, key=_item_key):
        grouped.setdefault(item.week, []).append(item)
    return {week: tuple(group) for week, group in grouped.items()}
