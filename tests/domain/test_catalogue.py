"""The exercise catalogue: structure, patient-facing words and clinic exercises."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from prescriptions.domain.catalogue import (
    ALWAYS_PARAMS,
    BELLY_BREATHING,
    BLOCK_NOTE,
    BUILTIN_EXERCISES,
    FIELD_BOUNDS,
    FINDING_THE_MUSCLES,
    FLARE_ADVICE,
    KNACK,
    PARAMS,
    QUICK_FLICKS,
    REVERSE_KEGEL,
    SLOW_HOLD,
    WHEN_TO_STOP,
    Exercise,
    Instructions,
    custom_exercise,
    exercise_catalogue,
)
from prescriptions.domain.vocab import CueSet, Kind

DOMAIN = Path(__file__).resolve().parents[2] / "prescriptions" / "domain"


def make_custom(**overrides: object) -> Exercise:
    args: dict[str, object] = {
        "code": "bridge_squeeze",
        "name": "Bridge with squeeze",
        "kind": Kind.CONTRACT,
        "params": ["hold_s", "rest_s"],
        "steps": ["Lie on your back.", "  ", "Lift your hips and squeeze."],
        "breathing": "Breathe out as you lift.",
        "feel": "A lift inside.",
        "mistakes": ["Holding your breath.", ""],
        "summary": "Strength in a bridge.",
    }
    args.update(overrides)
    return custom_exercise(**args)  # type: ignore[arg-type]


def patient_texts() -> list[str]:
    texts: list[str] = [BLOCK_NOTE, *WHEN_TO_STOP, *FLARE_ADVICE]
    for paragraphs in FINDING_THE_MUSCLES.values():
        texts.extend(paragraphs)
    for exercise in BUILTIN_EXERCISES.values():
        texts.extend([exercise.summary, exercise.patient_name])
        for words in exercise.instructions.values():
            texts.extend([*words.steps, words.breathing, words.feel, *words.mistakes])
    return texts


def test_five_builtins_with_their_kinds() -> None:
    kinds = {code: e.kind for code, e in BUILTIN_EXERCISES.items()}
    assert kinds == {
        SLOW_HOLD: Kind.CONTRACT,
        QUICK_FLICKS: Kind.CONTRACT,
        KNACK: Kind.FUNCTIONAL,
        REVERSE_KEGEL: Kind.RELAX,
        BELLY_BREATHING: Kind.BREATH,
    }
    assert all(e.builtin and e.code == code for code, e in BUILTIN_EXERCISES.items())


def test_params_are_known_and_always_include_the_counts() -> None:
    assert set(FIELD_BOUNDS) == set(PARAMS)
    for exercise in BUILTIN_EXERCISES.values():
        assert exercise.params <= set(PARAMS)
        assert exercise.params >= ALWAYS_PARAMS
    assert {"hold_s", "rest_s", "effort_pct"} <= BUILTIN_EXERCISES[SLOW_HOLD].params
    assert "hold_s" not in BUILTIN_EXERCISES[QUICK_FLICKS].params
    assert "hold_s" not in BUILTIN_EXERCISES[KNACK].params
    assert "effort_pct" not in BUILTIN_EXERCISES[SLOW_HOLD].required_params
    assert "hold_s" in BUILTIN_EXERCISES[REVERSE_KEGEL].required_params


def test_field_bounds_are_sane() -> None:
    for low, high in FIELD_BOUNDS.values():
        assert 0 <= low < high
    assert FIELD_BOUNDS["hold_s"] == (0, 60)
    assert FIELD_BOUNDS["effort_pct"] == (10, 100)


@pytest.mark.parametrize("code", sorted(BUILTIN_EXERCISES))
@pytest.mark.parametrize("cue", list(CueSet))
def test_every_builtin_has_full_words_for_every_cue_set(code: str, cue: CueSet) -> None:
    words = BUILTIN_EXERCISES[code].instructions[cue]
    assert isinstance(words, Instructions)
    assert len(words.steps) >= 3
    assert words.breathing and words.feel
    assert len(words.mistakes) >= 3
    assert BUILTIN_EXERCISES[code].summary
    assert BUILTIN_EXERCISES[code].patient_name


def test_instructions_for_falls_back_to_neutral() -> None:
    slow = BUILTIN_EXERCISES[SLOW_HOLD]
    neutral = slow.instructions[CueSet.NEUTRAL]
    assert slow.instructions_for(CueSet.MALE) is slow.instructions[CueSet.MALE]
    assert slow.instructions_for("female") is slow.instructions[CueSet.FEMALE]
    assert slow.instructions_for(None) is neutral
    assert slow.instructions_for("klingon") is neutral
    only_neutral = Exercise(
        "x", "X", "X", Kind.BREATH, ALWAYS_PARAMS, "s", {CueSet.NEUTRAL: neutral}
    )
    assert only_neutral.instructions_for(CueSet.MALE) is neutral


def test_cue_sets_use_the_clinical_cues() -> None:
    female = " ".join(BUILTIN_EXERCISES[SLOW_HOLD].instructions[CueSet.FEMALE].steps).lower()
    male = " ".join(BUILTIN_EXERCISES[SLOW_HOLD].instructions[CueSet.MALE].steps)
    assert "wind" in female and "urine" in female and "lift" in female
    assert "penis" in male and "testicles" in male
    assert "mirror" in " ".join(FINDING_THE_MUSCLES[CueSet.MALE]).lower()
    neutral_text = " ".join(
        [*FINDING_THE_MUSCLES[CueSet.NEUTRAL]]
        + [
            t
            for e in BUILTIN_EXERCISES.values()
            for t in (*e.instructions[CueSet.NEUTRAL].steps, e.instructions[CueSet.NEUTRAL].feel)
        ]
    ).lower()
    for gendered in ("vagina", "penis", "testicle"):
        assert gendered not in neutral_text


@pytest.mark.parametrize("cue", list(CueSet))
def test_finding_the_muscles_warns_against_stopping_urine(cue: CueSet) -> None:
    text = " ".join(FINDING_THE_MUSCLES[cue]).lower()
    assert "mid-flow" in text and "check" in text


def test_contractions_cover_the_common_mistakes_and_breathing() -> None:
    for code in (SLOW_HOLD, QUICK_FLICKS):
        words = BUILTIN_EXERCISES[code].instructions_for(CueSet.NEUTRAL)
        mistakes = " ".join(words.mistakes).lower()
        assert "holding your breath" in mistakes
        assert "buttocks" in mistakes and "thighs" in mistakes and "stomach" in mistakes
        assert "pushing down instead of lifting" in mistakes
        assert "letting go fully" in mistakes
    slow_breathing = BUILTIN_EXERCISES[SLOW_HOLD].instructions_for(None).breathing.lower()
    assert "breathe out" in slow_breathing and "count" in slow_breathing


@pytest.mark.parametrize("code", [REVERSE_KEGEL, BELLY_BREATHING])
def test_relaxation_says_no_pushing_plainly(code: str) -> None:
    for words in BUILTIN_EXERCISES[code].instructions.values():
        text = " ".join([*words.steps, *words.mistakes]).lower()
        assert "no pushing" in text
        assert "breathe in" in " ".join(words.steps).lower()


def test_when_to_stop_covers_every_clinical_item() -> None:
    text = " ".join(WHEN_TO_STOP).lower()
    for needle in (
        "pain that gets worse",
        "bleeding",
        "menopause",
        "blood in your urine",
        "fever",
        "burning",
        "cannot pass urine",
        "lump or bulge",
        "prolapse",
        "stool",
        "numbness",
        "saddle",
    ):
        assert needle in text, needle


def test_flare_advice_and_block_note() -> None:
    flare = " ".join(FLARE_ADVICE).lower()
    assert "relax fully" in flare and "fewer" in flare and "few days" in flare
    assert "therapist" in flare
    assert "12 weeks" in BLOCK_NOTE and "four-week" in BLOCK_NOTE


def _syllables(word: str) -> int:
    word = re.sub(r"[^a-z]", "", word.lower())
    groups = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and groups > 1:
        groups -= 1
    return max(1, groups)


def test_patient_words_are_plain() -> None:
    text = " ".join(patient_texts())
    sentences = [s for s in re.split(r"[.!?:]+\s+", text) if s.strip()]
    words = re.findall(r"[A-Za-z']+", text)
    grade = (
        0.39 * len(words) / len(sentences)
        + 11.8 * sum(_syllables(w) for w in words) / len(words)
        - 15.59
    )
    assert grade <= 8, grade  # Flesch-Kincaid, a rough but fixed yardstick
    assert max(len(re.findall(r"[A-Za-z']+", s)) for s in sentences) <= 22
    lowered = text.lower()
    for jargon in ("contraction", "perine", "levator", "hypertonic", "diaphragm", "kegel"):
        assert jargon not in lowered, jargon
    assert not any(t.isupper() for t in patient_texts())


def test_custom_exercise_same_words_for_every_cue_set() -> None:
    exercise = make_custom()
    assert exercise.builtin is False
    assert exercise.kind is Kind.CONTRACT
    assert exercise.params == frozenset({"hold_s", "rest_s"}) | ALWAYS_PARAMS
    assert exercise.patient_name == exercise.name
    words = exercise.instructions_for(CueSet.MALE)
    assert words.steps == ("Lie on your back.", "Lift your hips and squeeze.")
    assert words.mistakes == ("Holding your breath.",)
    assert {exercise.instructions_for(c) for c in CueSet} == {words}
    assert make_custom(kind="relax").kind is Kind.RELAX


@pytest.mark.parametrize(
    "overrides",
    [
        {"code": SLOW_HOLD},
        {"code": "Bad Code"},
        {"code": ""},
        {"code": "x" * 41},
        {"name": "  "},
        {"params": ["hold_s", "weight_kg"]},
        {"steps": ["", "  "]},
        {"kind": "jump"},
    ],
)
def test_custom_exercise_rejects_bad_input(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_custom(**overrides)


def test_catalogue_merges_and_refuses_clashes() -> None:
    custom = make_custom()
    catalogue = exercise_catalogue([custom])
    assert set(catalogue) == set(BUILTIN_EXERCISES) | {custom.code}
    assert exercise_catalogue() == BUILTIN_EXERCISES
    assert exercise_catalogue() is not BUILTIN_EXERCISES
    with pytest.raises(ValueError):
        exercise_catalogue([custom, make_custom()])


def test_exercises_are_frozen_hashable_and_comparable() -> None:
    custom = make_custom()
    assert hash(custom) == hash(make_custom())
    assert custom == make_custom()
    assert custom != make_custom(feel="Something else.")
    with pytest.raises(AttributeError):
        custom.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_imports_only_stdlib_and_domain(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the domain package
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("prescriptions.domain"), (
                f"{path.name} imports {name}"
            )


def test_exercise_codes_are_stable_unique_and_never_built_in():
    from prescriptions.domain.catalogue import BUILTIN_EXERCISES, exercise_code

    assert exercise_code("Bridge squeeze!", set()) == "c_bridge_squeeze"
    assert exercise_code("Bridge squeeze", {"c_bridge_squeeze"}) == "c_bridge_squeeze_2"
    assert exercise_code("Łódź 🙂", set()) == "c_d"
    assert exercise_code("***", set()) == "c_exercise"
    assert not set(BUILTIN_EXERCISES) & {exercise_code(code, set()) for code in BUILTIN_EXERCISES}
