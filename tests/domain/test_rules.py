"""Plan rules: each limit in CLINICAL.md, tested on each side of its threshold."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from prescriptions.domain.catalogue import (
    BELLY_BREATHING,
    KNACK,
    QUICK_FLICKS,
    REVERSE_KEGEL,
    SLOW_HOLD,
    custom_exercise,
    exercise_catalogue,
)
from prescriptions.domain.progression import (
    BUILTIN_TEMPLATES,
    DOWN_TRAINING,
    AssessmentFacts,
    Item,
    propose_items,
)
from prescriptions.domain.rules import (
    Finding,
    PatientFacts,
    Severity,
    blocking_issue,
    blocking_save,
    check_plan,
    errors,
    warnings,
)
from prescriptions.domain.vocab import Diagnosis, Position, Precaution, Relaxation

NOBODY = PatientFacts()
PELVIC_PAIN = PatientFacts(diagnoses=frozenset({Diagnosis.PELVIC_PAIN}))
TYPICAL = AssessmentFacts(
    oxford_grade=3,
    endurance_s=5,
    repetitions=8,
    fast_contractions=8,
    relaxation=Relaxation.FULL,
    pain=1,
    technique_confirmed=True,
)


def slow(
    week: int = 1,
    order: int = 1,
    hold: int | None = 5,
    rest: int | None = 10,
    reps: int = 8,
    sets: int = 1,
    sessions: int = 3,
    effort: int | None = None,
) -> Item:
    return Item(week, order, SLOW_HOLD, Position.SITTING, hold, rest, reps, sets, sessions, effort)


def drop(week: int = 1, order: int = 2, hold: int = 5, rest: int = 10) -> Item:
    return Item(week, order, REVERSE_KEGEL, Position.LYING, hold, rest, 10, 1, 2)


def flicks(week: int = 1, order: int = 2, reps: int = 10) -> Item:
    return Item(week, order, QUICK_FLICKS, Position.SITTING, None, None, reps, 1, 3)


def codes(
    items: Sequence[Item], patient: PatientFacts = NOBODY, approach: str = "strengthening"
) -> list[str]:
    return [f.code for f in check_plan(items, patient, approach)]


def find(findings: Sequence[Finding], code: str) -> Finding:
    matches = [f for f in findings if f.code == code]
    assert len(matches) == 1, findings
    return matches[0]


def test_a_sound_plan_has_no_findings() -> None:
    assert check_plan([slow(), flicks()], NOBODY) == ()


# --- holds ------------------------------------------------------------------------------------


def test_slow_hold_warns_above_ten_seconds() -> None:
    assert codes([slow(hold=10)]) == []
    assert codes([slow(hold=11, rest=11)]) == ["hold.contract_long"]
    finding = find(check_plan([slow(week=2, hold=11, rest=11)], NOBODY), "hold.contract_long")
    assert finding.severity is Severity.WARNING
    assert (finding.week, finding.order, finding.field) == (2, 1, "hold_s")
    assert "Week 2" in finding.message and "Slow hold" in finding.message


def test_slow_hold_is_refused_above_fifteen_seconds() -> None:
    assert codes([slow(hold=15, rest=15)]) == ["hold.contract_long"]
    findings = check_plan([slow(hold=16, rest=16)], NOBODY)
    assert [f.code for f in findings] == ["hold.contract_too_long"]
    assert blocking_save(findings) == findings


def test_reverse_kegel_hold_warns_above_ten_seconds() -> None:
    assert codes([drop(hold=10, rest=10)]) == []
    assert codes([drop(hold=11, rest=11)]) == ["hold.relax_long"]
    assert warnings(check_plan([drop(hold=11, rest=11)], NOBODY))


# --- rest -------------------------------------------------------------------------------------


def test_rest_shorter_than_hold_warns() -> None:
    assert codes([slow(hold=8, rest=8)]) == []
    assert codes([slow(hold=8, rest=7)]) == ["rest.shorter_than_hold"]
    assert codes([drop(hold=5, rest=4)]) == ["rest.shorter_than_hold"]


def test_down_training_wants_rest_twice_the_hold() -> None:
    gentle = dict(effort=40)
    assert codes([drop(hold=5, rest=10)], PELVIC_PAIN, DOWN_TRAINING) == []
    assert codes([drop(hold=5, rest=9)], PELVIC_PAIN, DOWN_TRAINING) == ["rest.under_double_hold"]
    plan = [drop(week=3, order=1), slow(week=3, order=2, hold=4, rest=8, **gentle)]
    assert codes(plan, PELVIC_PAIN, DOWN_TRAINING) == []
    plan = [drop(week=3, order=1), slow(week=3, order=2, hold=4, rest=7, **gentle)]
    assert codes(plan, PELVIC_PAIN, DOWN_TRAINING) == ["rest.under_double_hold"]
    # outside down-training the same item is fine
    assert codes([slow(hold=4, rest=7)]) == []


def test_breathing_only_needs_rest_at_least_the_in_breath_in_down_training() -> None:
    breath = Item(1, 1, BELLY_BREATHING, Position.LYING, 4, 6, 10, 1, 2)
    assert codes([breath, drop(week=2, order=1)], PELVIC_PAIN, DOWN_TRAINING) == []


# --- load -------------------------------------------------------------------------------------


def test_near_maximal_holds_a_day_warn_above_forty() -> None:
    assert codes([slow(reps=40, sessions=1)]) == []
    assert codes([slow(reps=41, sessions=1)]) == ["load.high"]
    assert codes([slow(reps=10, sets=2, sessions=2)]) == []  # 40
    finding = find(check_plan([slow(week=3, reps=7, sets=2, sessions=3)], NOBODY), "load.high")
    assert (finding.week, finding.order) == (3, None) and "42" in finding.message


def test_near_maximal_holds_a_day_refused_above_one_hundred() -> None:
    assert codes([slow(reps=50, sets=2, sessions=1)]) == ["load.high"]  # 100
    plan = [slow(reps=50, sets=2, sessions=1), slow(order=2, reps=1, sessions=1)]
    findings = check_plan(plan, NOBODY)
    assert [f.code for f in findings] == ["load.too_high"]  # 101, summed over items
    assert errors(findings) == findings


def test_only_near_maximal_effort_counts() -> None:
    assert codes([slow(reps=41, sessions=1, effort=69)]) == []
    assert codes([slow(reps=41, sessions=1, effort=70)]) == ["load.high"]
    assert codes([slow(reps=41, sessions=1, effort=None)]) == ["load.high"]
    assert codes([flicks(reps=50), flicks(order=3, reps=50)]) == []  # quick flicks hold nothing


def test_week_to_week_jump_above_fifty_percent_warns() -> None:
    base = slow(week=1, reps=8, sessions=3)  # 24
    assert codes([base, slow(week=2, reps=12, sessions=3)]) == []  # 36: +50%
    assert codes([base, slow(week=2, reps=13, sessions=3)]) == ["load.jump"]  # 39
    assert codes([slow(week=1, reps=20, sessions=1), slow(week=2, reps=31, sessions=1)]) == [
        "load.jump"
    ]
    finding = find(check_plan([base, slow(week=2, reps=13)], NOBODY), "load.jump")
    assert finding.week == 2 and "24" in finding.message and "39" in finding.message


def test_starting_squeezes_after_a_week_without_is_not_a_jump() -> None:
    assert codes([drop(week=1), slow(week=2, reps=10)]) == []
    assert codes([slow(week=1, effort=40), slow(week=2, reps=12)]) == []
    # a falling load is not a jump either
    assert codes([slow(week=1, reps=12), slow(week=2, reps=4)]) == []
    # a gap week counts as no squeezes
    assert codes([slow(week=1, reps=4), slow(week=3, reps=12)]) == []


# --- sessions ---------------------------------------------------------------------------------


def test_sessions_a_day_warn_above_four() -> None:
    assert codes([slow(reps=8, sessions=4)]) == []
    assert codes([slow(reps=8, sessions=5)]) == ["sessions.too_many"]


def test_sessions_rule_covers_every_kind() -> None:
    knack = Item(1, 1, KNACK, Position.FUNCTIONAL, None, None, 3, 1, 5)
    assert codes([knack]) == ["sessions.too_many"]


# --- hypertonic / pelvic pain -----------------------------------------------------------------


def test_pelvic_pain_with_kegels_in_weeks_one_and_two_warns() -> None:
    relaxing = [drop(week=1, order=1)]
    assert codes([*relaxing, slow(week=3, order=1, rest=10)], PELVIC_PAIN) == []
    found = codes([*relaxing, slow(week=2, order=1)], PELVIC_PAIN)
    assert found == ["hypertonic.early_kegel"]
    knack = Item(1, 3, KNACK, Position.STANDING, None, None, 3, 1, 2)
    assert codes([*relaxing, knack], PELVIC_PAIN) == ["hypertonic.early_kegel"]
    # the same plan for a patient without the diagnosis is fine
    assert codes([*relaxing, slow(week=2, order=1)]) == []


def test_pelvic_pain_without_any_reverse_kegel_warns() -> None:
    breath = Item(1, 1, BELLY_BREATHING, Position.LYING, 4, 6, 10, 1, 2)
    assert codes([breath, slow(week=3)], PELVIC_PAIN) == ["hypertonic.no_relaxation"]
    assert codes([breath, drop(week=4, order=1), slow(week=3)], PELVIC_PAIN) == []
    assert codes([breath, slow(week=3)]) == []


# --- precautions ------------------------------------------------------------------------------


def test_catheter_blocks_issuing_but_not_saving() -> None:
    patient = PatientFacts(precautions=frozenset({Precaution.CATHETER}))
    findings = check_plan([slow()], patient)
    catheter = find(findings, "precaution.catheter")
    assert catheter.severity is Severity.ERROR and catheter.blocks_save is False
    assert blocking_issue(findings) == (catheter,)
    assert blocking_save(findings) == ()
    assert check_plan([slow()], NOBODY) == ()


def test_prolapse_beyond_the_hymen_suggests_specialist_review() -> None:
    patient = PatientFacts(precautions=frozenset({Precaution.PROLAPSE_BEYOND_HYMEN}))
    finding = find(check_plan([slow()], patient), "precaution.prolapse_beyond_hymen")
    assert finding.severity is Severity.WARNING and "specialist" in finding.message
    assert check_plan([slow()], PatientFacts(precautions=frozenset({Precaution.PREGNANT}))) == ()


# --- structure --------------------------------------------------------------------------------


def test_an_empty_plan_is_refused() -> None:
    findings = check_plan([], NOBODY)
    assert [f.code for f in findings] == ["plan.empty"] and blocking_save(findings)


def test_unknown_exercise_is_refused() -> None:
    item = Item(1, 1, "levitation", Position.LYING, 5, 10, 8, 1, 3)
    finding = find(check_plan([item], NOBODY), "item.exercise_unknown")
    assert finding.field == "exercise" and "levitation" in finding.message


def test_clinic_exercises_are_known_when_passed() -> None:
    bridge = custom_exercise(
        "bridge", "Bridge", "contract", ["hold_s", "rest_s"], ["Lift."], "Out.", "Lift.", []
    )
    item = Item(1, 1, "bridge", Position.LYING, 12, 12, 8, 1, 3)
    found = check_plan([item], NOBODY, exercises=exercise_catalogue([bridge]))
    assert [f.code for f in found] == ["hold.contract_long"]
    assert "Bridge" in found[0].message


@pytest.mark.parametrize(("week", "ok"), [(0, False), (1, True), (4, True), (5, False)])
def test_weeks_run_one_to_four(week: int, ok: bool) -> None:
    assert ("item.week_out_of_range" not in codes([slow(week=week)])) is ok


def test_parameters_the_exercise_does_not_use_are_refused() -> None:
    item = Item(1, 1, QUICK_FLICKS, Position.SITTING, 1, None, 10, 1, 3, 80)
    findings = check_plan([item], NOBODY)
    assert [(f.code, f.field) for f in findings] == [
        ("item.param_unused", "hold_s"),
        ("item.param_unused", "effort_pct"),
    ]
    assert codes([flicks()]) == []


def test_parameters_the_exercise_needs_are_required() -> None:
    findings = check_plan([slow(hold=None, rest=None)], NOBODY)
    assert [(f.code, f.field) for f in findings] == [
        ("item.param_missing", "hold_s"),
        ("item.param_missing", "rest_s"),
    ]
    assert codes([slow(effort=None)]) == []  # effort is optional


@pytest.mark.parametrize(
    ("overrides", "ok"),
    [
        ({"reps": 1}, True),
        ({"reps": 0}, False),
        ({"reps": 50, "sessions": 1}, True),
        ({"reps": 51, "sessions": 1}, False),
        ({"effort": 10}, True),
        ({"effort": 9}, False),
        ({"effort": 100}, True),
        ({"effort": 101}, False),
        ({"sets": 0}, False),
    ],
)
def test_values_outside_the_form_bounds_are_refused(overrides: dict[str, int], ok: bool) -> None:
    found = codes([slow(**overrides)])
    assert ("item.param_out_of_range" not in found) is ok


def test_findings_are_in_a_deterministic_order() -> None:
    patient = PatientFacts(
        diagnoses=frozenset({Diagnosis.PELVIC_PAIN}),
        precautions=frozenset({Precaution.CATHETER, Precaution.PROLAPSE_BEYOND_HYMEN}),
    )
    plan = [
        slow(week=2, order=2, hold=12, rest=6, sessions=5),
        slow(week=1, order=1, reps=20),
        Item(1, 2, "mystery", Position.LYING, None, None, 1, 1, 1),
    ]
    first = check_plan(plan, patient)
    assert first == check_plan(list(reversed(plan)), patient)
    positions = [(f.week or 0, f.order or 0) for f in first]
    assert positions == sorted(positions)
    assert [f.code for f in first][:3] == [
        "precaution.catheter",
        "precaution.prolapse_beyond_hymen",
        "hypertonic.no_relaxation",
    ]


def test_helpers_split_findings() -> None:
    plan = [slow(hold=16, rest=16), slow(week=2, hold=11, rest=11)]
    patient = PatientFacts(precautions=frozenset({Precaution.CATHETER}))
    findings = check_plan(plan, patient)
    assert {f.code for f in errors(findings)} == {"hold.contract_too_long", "precaution.catheter"}
    assert [f.code for f in warnings(findings)] == ["hold.contract_long"]
    assert [f.code for f in blocking_save(findings)] == ["hold.contract_too_long"]
    assert len(blocking_issue(findings)) == 2


# --- the default templates are clean ----------------------------------------------------------


@pytest.mark.parametrize("code", sorted(BUILTIN_TEMPLATES))
@pytest.mark.parametrize("assessment", [None, TYPICAL], ids=["no-assessment", "typical"])
def test_default_templates_raise_nothing(code: str, assessment: AssessmentFacts | None) -> None:
    template = BUILTIN_TEMPLATES[code]
    items = propose_items(template, assessment)
    assert check_plan(items, NOBODY, template.approach) == ()
    if template.approach == DOWN_TRAINING:
        assert check_plan(items, PELVIC_PAIN, template.approach) == ()


def test_strengthening_for_a_hypertonic_patient_is_flagged() -> None:
    items = propose_items(BUILTIN_TEMPLATES["strengthening"], None)
    found = set(codes(items, PELVIC_PAIN))
    assert found == {"hypertonic.early_kegel", "hypertonic.no_relaxation"}


def test_messages_fit_the_acknowledgement_column() -> None:
    plan = [slow(week=w, hold=16, rest=3, reps=50, sets=3, sessions=9) for w in (1, 2, 3, 4)]
    patient = PatientFacts(
        diagnoses=frozenset({Diagnosis.PELVIC_PAIN}),
        precautions=frozenset(Precaution),
    )
    for finding in check_plan(plan, patient):
        assert len(finding.message) <= 400 and len(finding.code) <= 60
