"""Templates and the four-week progression."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prescriptions.domain.catalogue import (
    BELLY_BREATHING,
    BUILTIN_EXERCISES,
    CONTRACT_HOLD_WARN_S,
    FIELD_BOUNDS,
    KNACK,
    NEAR_MAX_WARN,
    QUICK_FLICKS,
    RELAX_HOLD_WARN_S,
    REVERSE_KEGEL,
    SESSIONS_WARN,
    SLOW_HOLD,
)
from prescriptions.domain.progression import (
    BUILTIN_TEMPLATES,
    DOWN_TRAINING,
    GENTLE_EFFORT_MAX_PCT,
    PAIN_GENTLE_FROM,
    STRENGTHENING,
    AssessmentFacts,
    Item,
    Template,
    daily_load,
    items_by_week,
    load_jump_too_big,
    propose_items,
    template_from_items,
)
from prescriptions.domain.rules import PatientFacts, check_plan
from prescriptions.domain.vocab import Diagnosis, Kind, Position, Relaxation

TYPICAL = AssessmentFacts(
    oxford_grade=3,
    endurance_s=5,
    repetitions=8,
    fast_contractions=8,
    relaxation=Relaxation.FULL,
    pain=1,
    technique_confirmed=True,
)

assessments = st.builds(
    AssessmentFacts,
    oxford_grade=st.none() | st.integers(0, 5),
    endurance_s=st.none() | st.integers(0, 30),
    repetitions=st.none() | st.integers(0, 20),
    fast_contractions=st.none() | st.integers(0, 20),
    relaxation=st.none() | st.sampled_from(list(Relaxation)),
    pain=st.none() | st.integers(0, 10),
    technique_confirmed=st.booleans(),
)

template_codes = st.sampled_from(sorted(BUILTIN_TEMPLATES))


def kind(item: Item) -> Kind:
    return BUILTIN_EXERCISES[item.exercise].kind


def only(items: tuple[Item, ...], week: int, code: str) -> Item:
    found = [i for i in items if i.week == week and i.exercise == code]
    assert len(found) == 1, found
    return found[0]


def patient_for(template: Template) -> PatientFacts:
    if template.approach == DOWN_TRAINING:
        return PatientFacts(diagnoses=frozenset({Diagnosis.PELVIC_PAIN}))
    return PatientFacts()


# --- the built-in templates follow CLINICAL.md ------------------------------------------------


@pytest.mark.parametrize("code", sorted(BUILTIN_TEMPLATES))
def test_templates_are_well_formed(code: str) -> None:
    template = BUILTIN_TEMPLATES[code]
    assert template.code == code
    assert template.purpose and template.description and template.name
    assert {i.week for i in template.items} == {1, 2, 3, 4}
    for week, items in items_by_week(template.items).items():
        assert [i.order for i in items] == list(range(1, len(items) + 1)), week
    assert all(i.exercise in BUILTIN_EXERCISES for i in template.items)
    assert template.items == tuple(sorted(template.items, key=lambda i: (i.week, i.order)))


def test_strengthening_table() -> None:
    items = BUILTIN_TEMPLATES["strengthening"].items
    expected = {  # week: (hold range, rest range, reps range, flicks, position)
        1: ((3, 5), (10, 10), (8, 8), 5, Position.LYING),
        2: ((6, 6), (8, 10), (8, 10), 8, Position.SITTING),
        3: ((8, 8), (8, 8), (10, 10), 10, Position.SITTING),
        4: ((10, 10), (10, 10), (10, 12), 10, Position.STANDING),
    }
    for week, (hold, rest, reps, flicks, position) in expected.items():
        slow = only(items, week, SLOW_HOLD)
        assert hold[0] <= slow.hold_s <= hold[1]
        assert rest[0] <= slow.rest_s <= rest[1]
        assert reps[0] <= slow.reps <= reps[1]
        assert slow.position is position
        assert only(items, week, QUICK_FLICKS).reps == flicks
        assert all(i.sessions_per_day == 3 for i in items if i.week == week)
    assert not [i for i in items if i.exercise == KNACK and i.week < 3]
    knack3, knack4 = only(items, 3, KNACK), only(items, 4, KNACK)
    assert knack3.reps == 3 and "cough" in knack3.note
    assert knack4.position is Position.FUNCTIONAL and "daily life" in knack4.note


def test_down_training_table() -> None:
    items = BUILTIN_TEMPLATES["down_training"].items
    assert [i.exercise for i in items if i.week == 1] == [BELLY_BREATHING]
    breath = only(items, 1, BELLY_BREATHING)
    assert (breath.hold_s, breath.rest_s, breath.reps, breath.sessions_per_day) == (4, 6, 10, 2)
    drop2 = only(items, 2, REVERSE_KEGEL)
    assert 3 <= drop2.hold_s <= 5 and drop2.rest_s == 10 and drop2.reps == 10
    assert not [i for i in items if i.week <= 2 and kind(i) is Kind.CONTRACT]
    kegel3, kegel4 = only(items, 3, SLOW_HOLD), only(items, 4, SLOW_HOLD)
    assert 2 <= kegel3.hold_s <= 3 and kegel3.rest_s >= 10 and kegel3.reps == 5
    assert 3 <= kegel4.hold_s <= 5 and 10 <= kegel4.rest_s <= 15 and 5 <= kegel4.reps <= 8
    for kegel in (kegel3, kegel4):
        assert 30 <= kegel.effort_pct <= 50
        follows = [i for i in items if i.week == kegel.week and i.exercise == REVERSE_KEGEL]
        assert follows and (follows[0].hold_s, follows[0].rest_s, follows[0].reps) == (5, 10, 10)


def test_balanced_follows_every_kegel_set_with_drops() -> None:
    items = BUILTIN_TEMPLATES["balanced"].items
    for week, week_items in items_by_week(items).items():
        codes = [i.exercise for i in week_items]
        slow_at = codes.index(SLOW_HOLD)
        assert codes[slow_at + 1] == REVERSE_KEGEL, week
    assert not [i for i in items if i.exercise == QUICK_FLICKS and i.week == 1]
    assert only(items, 4, SLOW_HOLD).hold_s == 10


def test_post_prostatectomy_starts_with_five_five_second_holds_sitting() -> None:
    template = BUILTIN_TEMPLATES["post_prostatectomy"]
    first = only(template.items, 1, SLOW_HOLD)
    assert (first.hold_s, first.reps, first.position) == (5, 5, Position.SITTING)
    assert "catheter" in first.note
    assert template.approach == STRENGTHENING
    holds = [only(template.items, w, SLOW_HOLD).hold_s for w in (1, 2, 3, 4)]
    assert holds == sorted(holds) and holds[-1] <= CONTRACT_HOLD_WARN_S


def test_postpartum_starts_short_and_side_lying() -> None:
    template = BUILTIN_TEMPLATES["postpartum"]
    first = only(template.items, 1, SLOW_HOLD)
    assert first.position is Position.SIDE_LYING and first.hold_s <= 3
    assert "catheter" in first.note
    assert template.approach == STRENGTHENING


# --- propose_items ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(BUILTIN_TEMPLATES))
def test_without_assessment_the_template_is_the_proposal(code: str) -> None:
    template = BUILTIN_TEMPLATES[code]
    assert propose_items(template, None) == template.items


def test_a_patient_who_holds_four_seconds_starts_at_four() -> None:
    items = propose_items(BUILTIN_TEMPLATES["strengthening"], replace(TYPICAL, endurance_s=4))
    holds = [only(items, w, SLOW_HOLD).hold_s for w in (1, 2, 3, 4)]
    assert holds == [4, 6, 8, 10]
    weak = propose_items(BUILTIN_TEMPLATES["strengthening"], replace(TYPICAL, endurance_s=2))
    assert [only(weak, w, SLOW_HOLD).hold_s for w in (1, 2, 3, 4)] == [2, 4, 6, 8]


def test_a_strong_patient_starts_higher_but_is_capped_at_the_template() -> None:
    items = propose_items(BUILTIN_TEMPLATES["strengthening"], replace(TYPICAL, endurance_s=8))
    assert [only(items, w, SLOW_HOLD).hold_s for w in (1, 2, 3, 4)] == [8, 10, 10, 10]
    postpartum = propose_items(BUILTIN_TEMPLATES["postpartum"], replace(TYPICAL, endurance_s=20))
    assert {i.hold_s for i in postpartum if i.exercise == SLOW_HOLD} == {6}


def test_oxford_grade_sets_the_start_when_endurance_is_unknown() -> None:
    facts = AssessmentFacts(oxford_grade=1)
    items = propose_items(BUILTIN_TEMPLATES["strengthening"], facts)
    assert only(items, 1, SLOW_HOLD).hold_s == 2
    strong = propose_items(BUILTIN_TEMPLATES["strengthening"], AssessmentFacts(oxford_grade=4))
    assert strong == BUILTIN_TEMPLATES["strengthening"].items


def test_repetitions_and_fast_contractions_shape_reps() -> None:
    facts = replace(TYPICAL, repetitions=5, fast_contractions=3)
    items = propose_items(BUILTIN_TEMPLATES["strengthening"], facts)
    assert only(items, 1, SLOW_HOLD).reps == 5
    assert only(items, 1, QUICK_FLICKS).reps == 3
    assert [only(items, w, QUICK_FLICKS).reps for w in (1, 2, 3, 4)] == [3, 6, 8, 8]


@pytest.mark.parametrize("relaxation", [Relaxation.PARTIAL, Relaxation.NONE])
def test_poor_relaxation_follows_each_kegel_set_with_drops(relaxation: Relaxation) -> None:
    facts = replace(TYPICAL, relaxation=relaxation)
    items = propose_items(BUILTIN_TEMPLATES["strengthening"], facts)
    for week, week_items in items_by_week(items).items():
        codes = [i.exercise for i in week_items]
        for n, code in enumerate(codes):
            if code in (SLOW_HOLD, QUICK_FLICKS):
                assert codes[n + 1] == REVERSE_KEGEL, (week, codes)
        assert [i.order for i in week_items] == list(range(1, len(week_items) + 1))
    full = propose_items(BUILTIN_TEMPLATES["strengthening"], TYPICAL)
    assert not [i for i in full if i.exercise == REVERSE_KEGEL]


def test_poor_relaxation_adds_drops_to_the_breathing_week() -> None:
    facts = replace(TYPICAL, relaxation=Relaxation.NONE)
    items = propose_items(BUILTIN_TEMPLATES["down_training"], facts)
    assert [i.exercise for i in items if i.week == 1] == [BELLY_BREATHING, REVERSE_KEGEL]


def test_pain_keeps_kegels_gentle() -> None:
    template = BUILTIN_TEMPLATES["strengthening"]
    sore = propose_items(template, replace(TYPICAL, pain=PAIN_GENTLE_FROM))
    slow = [i for i in sore if i.exercise == SLOW_HOLD]
    assert slow and all(i.effort_pct <= GENTLE_EFFORT_MAX_PCT for i in slow)
    assert not [i for i in sore if i.exercise == QUICK_FLICKS]
    assert all(i.note for i in slow)
    assert set(daily_load(sore).values()) == {0}
    calm = propose_items(template, replace(TYPICAL, pain=PAIN_GENTLE_FROM - 1))
    assert all(i.effort_pct is None for i in calm if i.exercise == SLOW_HOLD)


def test_unknown_exercises_are_left_untouched() -> None:
    custom = (
        Item(1, 1, "wall_sit_squeeze", Position.STANDING, 20, 5, 3, 2, 2, None, "clinic note"),
        Item(2, 1, "wall_sit_squeeze", Position.STANDING, 25, 5, 4, 2, 2),
        Item(2, 2, SLOW_HOLD, Position.SITTING, 6, 6, 8, 1, 3),
    )
    template = template_from_items("c1", "Clinic", STRENGTHENING, "For you.", reversed(custom))
    items = propose_items(template, replace(TYPICAL, endurance_s=3))
    assert items[:2] == custom[:2]
    assert only(items, 2, SLOW_HOLD).hold_s == 3
    gappy = (custom[0], replace(custom[1], order=5))
    only_custom = template_from_items("c2", "Clinic", "balanced", "For you.", gappy)
    assert propose_items(only_custom, TYPICAL) == gappy


def test_proposal_limits_a_big_weekly_jump() -> None:
    steep = template_from_items(
        "steep",
        "Steep",
        STRENGTHENING,
        "p",
        [
            Item(1, 1, SLOW_HOLD, Position.LYING, 3, 5, 2, 1, 3),
            Item(2, 1, SLOW_HOLD, Position.LYING, 3, 5, 12, 1, 3),
            Item(3, 1, SLOW_HOLD, Position.LYING, 3, 5, 20, 1, 3),
        ],
    )
    load = daily_load(propose_items(steep, TYPICAL))
    assert load == {1: 24, 2: 36, 3: 39}
    assert not any(load_jump_too_big(load[w - 1], load[w]) for w in (2, 3))


def test_template_from_items_validates_and_sorts() -> None:
    a = Item(2, 1, SLOW_HOLD, Position.LYING, 4, 10, 8, 1, 3)
    b = Item(1, 1, SLOW_HOLD, Position.LYING, 4, 10, 8, 1, 3)
    template = template_from_items("c", " Mine ", "balanced", " For you. ", [a, b], "desc")
    assert template.items == (b, a) and template.name == "Mine" and template.purpose == "For you."
    with pytest.raises(ValueError):
        template_from_items("c", "Mine", "yoga", "p", [a])
    with pytest.raises(ValueError):
        template_from_items("c", "Mine", "balanced", "p", [])
    with pytest.raises(ValueError):
        template_from_items("c", " ", "balanced", "p", [a])


def test_item_dict_round_trip_and_position_coercion() -> None:
    item = Item(1, 2, SLOW_HOLD, "sitting", 4, 10, 8, 1, 3, 40, "note")  # type: ignore[arg-type]
    assert item.position is Position.SITTING
    data = item.as_dict()
    assert data["position"] == "sitting" and data["effort_pct"] == 40
    assert Item.from_dict({**data, "id": 7}) == item
    with pytest.raises(ValueError):
        Item(1, 1, SLOW_HOLD, "upside_down", 4, 10, 8, 1, 3)  # type: ignore[arg-type]


def test_daily_load_counts_only_near_maximal_holds() -> None:
    items = [
        Item(1, 1, SLOW_HOLD, Position.LYING, 4, 10, 8, 2, 3),
        Item(1, 2, SLOW_HOLD, Position.LYING, 4, 10, 5, 1, 3, 69),
        Item(1, 3, SLOW_HOLD, Position.LYING, 4, 10, 5, 1, 1, 70),
        Item(1, 4, QUICK_FLICKS, Position.LYING, None, None, 10, 1, 3),
        Item(2, 1, REVERSE_KEGEL, Position.LYING, 5, 10, 10, 1, 3),
        Item(2, 2, "custom", Position.LYING, 5, 10, 10, 1, 3),
    ]
    assert daily_load(items) == {1: 48 + 5, 2: 0}


# --- properties over any assessment -----------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(code=template_codes, facts=assessments)
def test_proposals_are_deterministic_and_within_limits(code: str, facts: AssessmentFacts) -> None:
    template = BUILTIN_TEMPLATES[code]
    items = propose_items(template, facts)
    assert items == propose_items(template, facts)
    assert {i.week for i in items} == {1, 2, 3, 4}
    for item in items:
        for param, (low, high) in FIELD_BOUNDS.items():
            value = getattr(item, param)
            assert value is None or low <= value <= high, (param, item)
        assert item.sessions_per_day <= SESSIONS_WARN
        if kind(item) is Kind.CONTRACT and item.hold_s is not None:
            assert item.hold_s <= CONTRACT_HOLD_WARN_S
        if kind(item) is Kind.RELAX:
            assert item.hold_s <= RELAX_HOLD_WARN_S
        if item.exercise == SLOW_HOLD:
            assert item.rest_s >= item.hold_s
        if item.exercise in (SLOW_HOLD, QUICK_FLICKS):
            for field in ("hold_s", "reps"):
                tops = [getattr(i, field) for i in template.items if i.exercise == item.exercise]
                if getattr(item, field) is not None:
                    assert getattr(item, field) <= max(tops)
    assert all(load <= NEAR_MAX_WARN for load in daily_load(items).values())
    # the rules agree: nothing to warn about, nothing to refuse
    assert check_plan(items, patient_for(template), template.approach) == ()


@settings(max_examples=200, deadline=None)
@given(code=template_codes, facts=assessments)
def test_strengthening_load_never_falls(code: str, facts: AssessmentFacts) -> None:
    template = BUILTIN_TEMPLATES[code]
    if template.approach != STRENGTHENING:
        return
    load = daily_load(propose_items(template, facts))
    weekly = [load[w] for w in (1, 2, 3, 4)]
    assert weekly == sorted(weekly)


@settings(max_examples=100, deadline=None)
@given(facts=assessments)
def test_down_training_has_no_squeezes_in_weeks_one_and_two(facts: AssessmentFacts) -> None:
    items = propose_items(BUILTIN_TEMPLATES["down_training"], facts)
    assert not [i for i in items if i.week <= 2 and kind(i) is Kind.CONTRACT]
    assert all(i.rest_s >= 2 * i.hold_s for i in items if kind(i) in (Kind.CONTRACT, Kind.RELAX))


@settings(max_examples=200, deadline=None)
@given(
    code=template_codes,
    facts=assessments,
    relaxation=st.sampled_from([Relaxation.PARTIAL, Relaxation.NONE]),
)
def test_poor_relaxation_means_drops_every_week(
    code: str, facts: AssessmentFacts, relaxation: Relaxation
) -> None:
    items = propose_items(BUILTIN_TEMPLATES[code], replace(facts, relaxation=relaxation))
    for week in (1, 2, 3, 4):
        assert [i for i in items if i.week == week and i.exercise == REVERSE_KEGEL], week


@settings(max_examples=200, deadline=None)
@given(code=template_codes, facts=assessments, endurance=st.integers(0, 30))
def test_starts_near_the_assessed_endurance(
    code: str, facts: AssessmentFacts, endurance: int
) -> None:
    template = BUILTIN_TEMPLATES[code]
    items = propose_items(template, replace(facts, endurance_s=endurance))
    cap = min(max(i.hold_s for i in template.items if i.exercise == SLOW_HOLD), 10)
    first = next(i for i in items if i.exercise == SLOW_HOLD)
    assert first.hold_s == max(1, min(endurance, cap))


@pytest.mark.parametrize(
    ("diagnoses", "code"),
    [
        ([], "strengthening"),
        (["stress_ui"], "strengthening"),
        (["urge_ui"], "balanced"),
        (["mixed_ui", "stress_ui"], "balanced"),
        (["postpartum", "mixed_ui"], "postpartum"),
        (["post_prostatectomy"], "post_prostatectomy"),
        (["pelvic_pain", "postpartum"], "down_training"),
    ],
)
def test_the_suggested_template_follows_the_most_specific_diagnosis(diagnoses, code):
    from prescriptions.domain.progression import suggest_template

    assert suggest_template(diagnoses) == code
    assert code in BUILTIN_TEMPLATES


def test_one_list_of_dose_fields_matches_every_layer_that_holds_a_dose():
    from dataclasses import fields

    from pdf.snapshot import Dose
    from prescriptions.domain.progression import DOSE_FIELDS
    from prescriptions.exports.tables import ITEM_COLUMNS
    from prescriptions.models import PlanItem
    from prescriptions.plans.forms import ItemForm

    assert set(DOSE_FIELDS) == {f.name for f in fields(Item)} - {"week", "order", "exercise"}
    # kind and position_code are read off the exercise and the position, for the words and picture
    derived = {"exercise_code", "exercise_name", "kind", "position_code"}
    assert set(DOSE_FIELDS) == {f.name for f in fields(Dose)} - derived
    assert set(DOSE_FIELDS) <= set(PlanItem.__table__.columns.keys())
    assert set(DOSE_FIELDS) <= set(ITEM_COLUMNS)
    assert set(DOSE_FIELDS) <= {name for name, _ in ItemForm()._fields.items()}
