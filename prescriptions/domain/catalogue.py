"""The exercise catalogue: built-in exercises and their patient-facing words, as pure data.

Clinical facts come from CLINICAL.md; the wording is ours, kept short and plain (reading grade 6-8)
because patients read it alone at home, often anxious or embarrassed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .vocab import CueSet, Kind

SLOW_HOLD = "slow_hold"
QUICK_FLICKS = "quick_flicks"
KNACK = "knack"
REVERSE_KEGEL = "reverse_kegel"
BELLY_BREATHING = "belly_breathing"

PARAMS = ("hold_s", "rest_s", "reps", "sets", "sessions_per_day", "effort_pct")

#: every item carries these (they are plain ints on Item), so every exercise uses them
ALWAYS_PARAMS = frozenset({"reps", "sets", "sessions_per_day"})
#: used by an exercise but may be left empty: no effort means a normal, near-maximal squeeze
OPTIONAL_PARAMS = frozenset({"effort_pct"})

#: input sanity bounds for forms (inclusive), not clinical rules; the clinical limits follow
FIELD_BOUNDS: dict[str, tuple[int, int]] = {
    "hold_s": (0, 60),
    "rest_s": (0, 120),
    "reps": (1, 50),
    "sets": (1, 10),
    "sessions_per_day": (1, 10),
    "effort_pct": (10, 100),
}

#: how each dose parameter reads in a sentence: (name, unit), e.g. "hold 6 s"
PARAM_LABELS: dict[str, tuple[str, str]] = {
    "hold_s": ("hold", " s"),
    "rest_s": ("rest", " s"),
    "reps": ("reps", ""),
    "sets": ("sets", ""),
    "sessions_per_day": ("sessions a day", ""),
    "effort_pct": ("effort", "%"),
}

# --- Clinical limits (CLINICAL.md "Limits a plan checks") -------------------------------------
# Kept beside the exercises they limit: rules.py checks them, progression.py stays inside them.

CONTRACT_HOLD_WARN_S = 10  #: slow hold: warn above
CONTRACT_HOLD_BLOCK_S = 15  #: slow hold: refuse above
RELAX_HOLD_WARN_S = 10  #: reverse-Kegel hold: warn above
NEAR_MAX_EFFORT_PCT = 70  #: a squeeze at this effort or more (or unset) counts as near-maximal
NEAR_MAX_WARN = 40  #: near-maximal holds a day: warn above
NEAR_MAX_BLOCK = 100  #: near-maximal holds a day: refuse above
SESSIONS_WARN = 4  #: sessions a day: warn above
LOAD_JUMP_WARN_PCT = 50  #: week-to-week rise in near-maximal holds a day: warn above

_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Instructions:
    """What the handout tells the patient about one exercise."""

    steps: tuple[str, ...]
    breathing: str
    feel: str
    mistakes: tuple[str, ...]


@dataclass(frozen=True)
class Exercise:
    """One exercise a plan item can prescribe."""

    code: str
    name: str  #: clinician-facing
    patient_name: str  #: handout heading, plain words
    kind: Kind
    params: frozenset[str]
    summary: str  #: one plain patient-facing line: what it is for
    # a dict is not hashable, so hashing skips it; equality still compares the words
    instructions: dict[CueSet, Instructions] = field(hash=False, compare=True)
    builtin: bool = True

    def instructions_for(self, cue_set: CueSet | str | None) -> Instructions:
        """Instructions in the given cue set, falling back to the neutral wording."""
        if cue_set is not None:
            try:
                found = self.instructions.get(CueSet(cue_set))
            except ValueError:
                found = None
            if found is not None:
                return found
        return self.instructions[CueSet.NEUTRAL]

    @property
    def required_params(self) -> frozenset[str]:
        """Parameters an item of this exercise must fill in."""
        return self.params - OPTIONAL_PARAMS


# --- Patient-facing words -------------------------------------------------------------------
# Cue-set specific phrases are kept in one place so every exercise says "squeeze" the same way.

_SQUEEZE: dict[CueSet, str] = {
    CueSet.FEMALE: (
        "Squeeze as if you are holding in wind, then as if you are stopping the flow of urine. "
        "Lift the muscles up and in."
    ),
    CueSet.MALE: (
        "Squeeze as if you are holding in wind. At the same time, draw your penis in so it gets "
        "shorter, and lift your testicles up."
    ),
    CueSet.NEUTRAL: ("Squeeze the muscles you use to hold in wind and urine. Lift them up and in."),
}

_FEEL_SQUEEZE: dict[CueSet, str] = {
    CueSet.FEMALE: "A squeeze and a lift inside, around your vagina and back passage.",
    CueSet.MALE: (
        "A squeeze and a lift behind your testicles. The base of your penis draws in and your "
        "testicles rise a little."
    ),
    CueSet.NEUTRAL: (
        "A squeeze and a lift between your legs, around your back passage and the opening you "
        "pass urine from."
    ),
}

_FEEL_DROP: dict[CueSet, str] = {
    CueSet.FEMALE: "A gentle softening and widening around your vagina and back passage.",
    CueSet.MALE: (
        "A gentle softening behind your testicles and around your back passage. Your testicles "
        "may drop a little."
    ),
    CueSet.NEUTRAL: "A gentle softening and widening between your legs, around your back passage.",
}

_STILL = "Your stomach, buttocks and thighs stay soft and still."

_SQUEEZE_MISTAKES = (
    "Holding your breath.",
    "Squeezing your buttocks, thighs or stomach instead.",
    "Pushing down instead of lifting up. If you feel a push or a bulge, stop and start again "
    "gently.",
    "Not letting go fully between squeezes.",
)

_NO_PUSHING_MISTAKES = (
    "Pushing or straining. No pushing. Letting go is gentle, like a sigh.",
    "Holding your breath.",
    "Tightening your stomach, buttocks or thighs.",
)

_GENTLE_MORE = "Being extra gentle matters even more if you have a prolapse, piles or constipation."


def _per_cue(build: Callable[[CueSet], Instructions]) -> dict[CueSet, Instructions]:
    return {cue: build(cue) for cue in CueSet}


def _slow_hold(cue: CueSet) -> Instructions:
    return Instructions(
        steps=(
            "Get into the position your plan shows for this week. " + _STILL,
            _SQUEEZE[cue],
            "Hold the squeeze for the number of seconds on your plan. Keep breathing.",
            "Let go fully. Feel the muscles drop and relax.",
            "Rest for the number of seconds on your plan before the next squeeze.",
            "Do the number of squeezes on your plan. Stop early if the squeeze fades or other "
            "muscles join in.",
        ),
        breathing=(
            "Breathe out gently as you squeeze. Keep breathing while you hold. Counting out loud "
            "helps you keep breathing."
        ),
        feel=_FEEL_SQUEEZE[cue] + " " + _STILL,
        mistakes=_SQUEEZE_MISTAKES
        + ("Doing more than your plan says. Tired muscles do not learn well.",),
    )


def _quick_flicks(cue: CueSet) -> Instructions:
    return Instructions(
        steps=(
            "Get into the position your plan shows for this week.",
            _SQUEEZE[cue] + " Do it quickly and firmly.",
            "Hold for about one second.",
            "Let go fully straight away. Wait until the muscles feel relaxed.",
            "Do the number of quick squeezes on your plan, one after the other.",
        ),
        breathing="Keep breathing normally. Do not hold your breath between squeezes.",
        feel="A quick lift and let go, like a flick. " + _FEEL_SQUEEZE[cue],
        mistakes=_SQUEEZE_MISTAKES
        + ("Going so fast that the muscles never fully relax between squeezes.",),
    )


def _knack(cue: CueSet) -> Instructions:
    return Instructions(
        steps=(
            _SQUEEZE[cue],
            "Keep the squeeze and then cough.",
            "Let go once the cough is over.",
            "Practise this with a few small coughs, as many as your plan says.",
            "Then use it in daily life. Squeeze just before you cough, sneeze, laugh, lift "
            "something or stand up.",
        ),
        breathing="Squeeze first, then cough or breathe out. Let go when you are done.",
        feel="The muscles stay lifted during the cough. You leak less, or not at all.",
        mistakes=(
            "Squeezing too late, after the cough has started.",
            "Holding your breath and pushing down.",
            "Squeezing your buttocks or stomach instead.",
            "Forgetting to let go afterwards.",
        ),
    )


def _reverse_kegel(cue: CueSet) -> Instructions:
    return Instructions(
        steps=(
            "Lie or sit so your body is well supported. Let your jaw, shoulders and buttocks "
            "go soft.",
            "Put one hand on your belly.",
            "Breathe in slowly. Let your belly rise under your hand.",
            "As you breathe in, let your pelvic floor muscles soften and gently drop. This is "
            "letting go, not pushing.",
            "Stay soft for the number of seconds on your plan.",
            "Breathe out slowly. The muscles come back up on their own. You do not need to "
            "squeeze.",
            "Rest, then do it again, as many times as your plan says.",
        ),
        breathing=(
            "Breathe in slowly as you let go. Breathe out slowly as the muscles come back on "
            "their own."
        ),
        feel=_FEEL_DROP[cue] + " It can be very small at first. That is fine.",
        mistakes=_NO_PUSHING_MISTAKES
        + (
            "Trying too hard. If you cannot feel it yet, just breathe slowly and relax.",
            _GENTLE_MORE,
        ),
    )


def _belly_breathing(cue: CueSet) -> Instructions:
    return Instructions(
        steps=(
            "Lie on your back with your knees bent. Put a pillow under your head and knees.",
            "Put one hand on your chest and one hand on your belly.",
            "Breathe in slowly through your nose for about 4 seconds. Let your belly rise. Your "
            "chest stays almost still.",
            "As you breathe in, let your pelvic floor muscles soften and drop. No pushing.",
            "Breathe out slowly, a little longer than the breath in. Let your belly fall.",
            "Do the number of breaths on your plan.",
        ),
        breathing="Slow and easy: in for about 4 seconds, out for about 6 seconds.",
        feel=(
            "Your belly rises and falls under your hand. Your shoulders, jaw and pelvic floor "
            "feel soft and heavy. " + _FEEL_DROP[cue]
        ),
        mistakes=(
            "Breathing into your chest and lifting your shoulders.",
            "Pushing down with your belly or pelvic floor. No pushing.",
            "Breathing too fast or too deep. If you feel dizzy, breathe normally and rest.",
            _GENTLE_MORE,
        ),
    )


_HOLD_PARAMS = frozenset({"hold_s", "rest_s"}) | ALWAYS_PARAMS

BUILTIN_EXERCISES: dict[str, Exercise] = {
    SLOW_HOLD: Exercise(
        code=SLOW_HOLD,
        name="Slow hold",
        patient_name="Slow squeeze and hold",
        kind=Kind.CONTRACT,
        params=_HOLD_PARAMS | {"effort_pct"},
        summary="Makes your pelvic floor muscles stronger, so you leak less.",
        instructions=_per_cue(_slow_hold),
    ),
    QUICK_FLICKS: Exercise(
        code=QUICK_FLICKS,
        name="Quick flicks",
        patient_name="Quick squeezes",
        kind=Kind.CONTRACT,
        params=ALWAYS_PARAMS,
        summary="Helps your muscles react fast when you cough, sneeze or jump.",
        instructions=_per_cue(_quick_flicks),
    ),
    KNACK: Exercise(
        code=KNACK,
        name="The Knack",
        patient_name="Squeeze before you cough",
        kind=Kind.FUNCTIONAL,
        params=ALWAYS_PARAMS,
        summary="Stops leaks by squeezing just before you cough, sneeze, laugh or lift.",
        instructions=_per_cue(_knack),
    ),
    REVERSE_KEGEL: Exercise(
        code=REVERSE_KEGEL,
        name="Reverse Kegel (drop)",
        patient_name="Letting go (pelvic floor drop)",
        kind=Kind.RELAX,
        params=_HOLD_PARAMS,
        summary="Teaches your muscles to relax and let go, which can ease pain and tightness.",
        instructions=_per_cue(_reverse_kegel),
    ),
    BELLY_BREATHING: Exercise(
        code=BELLY_BREATHING,
        name="Belly breathing with drop",
        patient_name="Belly breathing",
        kind=Kind.BREATH,
        params=_HOLD_PARAMS,
        summary="Calms your body and helps your pelvic floor muscles relax.",
        instructions=_per_cue(_belly_breathing),
    ),
}

_FIND_INTRO = (
    "Your pelvic floor muscles sit like a hammock at the bottom of your body. They hold up your "
    "bladder and bowel. They help you hold in urine and wind."
)
_FIND_SETUP = (
    "To find them, sit or lie down. Let your thighs, buttocks and stomach relax. Keep breathing."
)
_FIND_CHECK = (
    "Do not practise by stopping your urine mid-flow. You can try it now and then to check, but "
    "not as an exercise."
)
_FIND_HELP = (
    "If you are not sure you are doing it right, ask your therapist. Many people need help at "
    "first. That is normal."
)

FINDING_THE_MUSCLES: dict[CueSet, tuple[str, ...]] = {
    CueSet.FEMALE: (
        _FIND_INTRO,
        _FIND_SETUP
        + " Squeeze as if you are stopping yourself passing wind. Then squeeze as if you are "
        "stopping the flow of urine. You should feel a squeeze and a lift inside.",
        _FIND_CHECK,
        _FIND_HELP,
    ),
    CueSet.MALE: (
        _FIND_INTRO,
        _FIND_SETUP
        + " Squeeze as if you are stopping yourself passing wind. At the same time, try to make "
        "your penis shorter and lift your testicles.",
        "A mirror helps. When you squeeze, the base of your penis should draw in and your "
        "testicles should lift.",
        _FIND_CHECK,
        _FIND_HELP,
    ),
    CueSet.NEUTRAL: (
        _FIND_INTRO,
        _FIND_SETUP
        + " Squeeze as if you are holding in wind and stopping the flow of urine at the same "
        "time. You should feel the muscles between your legs tighten and lift up and in.",
        _FIND_CHECK,
        _FIND_HELP,
    ),
}

WHEN_TO_STOP: tuple[str, ...] = (
    "Pain that gets worse.",
    "Bleeding from the vagina that is not normal for you, or any bleeding after the menopause.",
    "Blood in your urine.",
    "A fever, or burning when you pass urine.",
    "You cannot pass urine.",
    "A new lump or bulge, or a prolapse that feels worse.",
    "New leaking from your bowel (stool).",
    "New numbness around your bottom, genitals or inner thighs (where you would sit on a saddle).",
)

FLARE_ADVICE: tuple[str, ...] = (
    "Relax fully between squeezes.",
    "Do fewer squeezes, or make them gentler.",
    "Take a break for a few days if you need to.",
    "Tell your therapist. Call the clinic if you are worried.",
)

BLOCK_NOTE = (
    "This four-week plan is one part of a longer programme. Pelvic floor exercises work best when "
    "you keep them up for at least 12 weeks. Keep going after these four weeks, and your "
    "therapist will plan the next steps with you."
)


def _clean_lines(lines: Iterable[str]) -> tuple[str, ...]:
    return tuple(line.strip() for line in lines if line and line.strip())


def custom_exercise(
    code: str,
    name: str,
    kind: Kind | str,
    params: Iterable[str],
    steps: Iterable[str],
    breathing: str,
    feel: str,
    mistakes: Iterable[str],
    summary: str = "",
) -> Exercise:
    """Build a clinic-defined exercise whose instructions are the same for every cue set."""
    code = code.strip()
    if not _CODE_RE.match(code):
        raise ValueError(
            "code must be 1-40 lowercase letters, digits or underscores, starting with a letter "
            "or digit"
        )
    if code in BUILTIN_EXERCISES:
        raise ValueError(f"code {code!r} belongs to a built-in exercise")
    name = name.strip()
    if not name:
        raise ValueError("name is required")
    param_set = frozenset(params)
    unknown = sorted(param_set - set(PARAMS))
    if unknown:
        raise ValueError(f"unknown parameters: {', '.join(unknown)}")
    clean_steps = _clean_lines(steps)
    if not clean_steps:
        raise ValueError("at least one step is required")
    words = Instructions(
        steps=clean_steps,
        breathing=breathing.strip(),
        feel=feel.strip(),
        mistakes=_clean_lines(mistakes),
    )
    return Exercise(
        code=code,
        name=name,
        patient_name=name,
        kind=Kind(kind),
        params=param_set | ALWAYS_PARAMS,
        summary=summary.strip(),
        instructions={cue: words for cue in CueSet},
        builtin=False,
    )


def exercise_code(name: str, taken: Iterable[str]) -> str:
    """A stable code for a clinic exercise, unique among `taken` and never a built-in code."""
    base = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in name.lower())
    base = "c_" + ("_".join(filter(None, base.split("_"))) or "exercise")[:30]
    used = set(taken) | set(BUILTIN_EXERCISES)
    code, n = base, 2
    while code in used:
        code, n = f"{base}_{n}", n + 1
    return code


def exercise_catalogue(custom: Iterable[Exercise] = ()) -> dict[str, Exercise]:
    """Built-in exercises plus a clinic's own, keyed by code (a clash is a ValueError)."""
    catalogue = dict(BUILTIN_EXERCISES)
    for exercise in custom:
        if exercise.code in catalogue:
            # silently shadowing would change what an issued plan's code means
            raise ValueError(f"duplicate exercise code {exercise.code!r}")
        catalogue[exercise.code] = exercise
    return catalogue
