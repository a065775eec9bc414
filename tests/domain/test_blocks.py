"""The next block from what the patient did: CLINICAL.md's block rules on both sides of each line."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prescriptions.domain.blocks import (
    BLOCK_TEMPLATES,
    LoggedDay,
    Step,
    block_items,
    block_weeks,
    propose_next_block,
)
from prescriptions.domain.catalogue import (
    CONTRACT_HOLD_WARN_S,
    NEAR_MAX_WARN,
    RELAX_HOLD_WARN_S,
    REVERSE_KEGEL,
    SESSIONS_WARN,
    SLOW_HOLD,
)
from prescriptions.domain.progression import (
    BUILTIN_TEMPLATES,
    DOWN_TRAINING,
    AssessmentFacts,
    daily_load,
)
from prescriptions.domain.rules import PatientFacts, check_plan

START = date(2026, 1, 5)


def days(
    n: int = 14,
    *,
    done: int = 3,
    prescribed: int = 3,
    hold: int | None = 10,
    pain: tuple[int | None, int | None] = (2, 2),
    flare_on: int | None = None,
) -> list[LoggedDay]:
    """`n` logged days of weeks 3 and 4 (newest last); pain per week."""
    out = []
    for k in range(14 - n, 14):
        week = 3 + k // 7
        out.append(
            LoggedDay(
                START + timedelta(days=14 + k),
                week,
                done,
                prescribed,
                hold,
                pain[week - 3],
                flare_on == k,
            )
        )
    return out


def propose(code="strengthening", logged=None, block=2, reassessment=None):
    template = BUILTIN_TEMPLATES[code]
    return propose_next_block(
        code, template.approach, block, template.items, logged or [], reassessment
    )


def steps(proposal) -> dict[str, Step]:
    return {d.exercise: d.step for d in proposal.decisions}


def test_block_weeks():
    assert block_weeks(1) == (1, 4)
    assert block_weeks(2) == (5, 8)
    assert block_weeks(3) == (9, 12)


@pytest.mark.parametrize("code", sorted(BUILTIN_TEMPLATES))
@pytest.mark.parametrize("block", [2, 3, 4, 6])
def test_every_template_has_later_blocks_that_pass_the_rules(code, block):
    items = block_items(code, block)
    assert {i.week for i in items} == {1, 2, 3, 4}
    findings = check_plan(items, PatientFacts(), approach=BUILTIN_TEMPLATES[code].approach)
    assert findings == ()


def test_good_adherence_with_holds_reached_progresses():
    proposal = propose(logged=days(hold=10))
    assert set(steps(proposal).values()) == {Step.PROGRESS}
    assert "42 of 42 sessions done (100%) over 14 logged days" in proposal.reason(SLOW_HOLD)


@pytest.mark.parametrize(
    ("done_per_day", "expected"),
    [(3, Step.PROGRESS), (2, Step.REPEAT), (1, Step.STEP_BACK)],  # 100%, 67%, 33%
)
def test_adherence_bands(done_per_day, expected):
    proposal = propose(logged=days(done=done_per_day))
    assert steps(proposal)["quick_flicks"] == expected


def test_seventy_and_forty_percent_exactly():
    seventy = [
        LoggedDay(START + timedelta(days=14 + k), 3 + k // 7, 7, 10, 10, 2) for k in range(14)
    ]
    forty = [LoggedDay(d.day, d.week, 4, 10, 10, 2) for d in seventy]
    below = [LoggedDay(d.day, d.week, 3, 10, 10, 2) for d in seventy]
    just_under = [LoggedDay(d.day, d.week, 7 if k else 6, 10, 10, 2) for k, d in enumerate(seventy)]
    assert steps(propose(logged=seventy))["quick_flicks"] == Step.PROGRESS
    assert steps(propose(logged=just_under))["quick_flicks"] == Step.REPEAT
    assert steps(propose(logged=forty))["quick_flicks"] == Step.REPEAT
    assert steps(propose(logged=below))["quick_flicks"] == Step.STEP_BACK


@pytest.mark.parametrize(("n", "expected"), [(6, Step.REPEAT), (7, Step.PROGRESS)])
def test_seven_logged_days_are_needed_to_progress(n, expected):
    proposal = propose(logged=days(n))
    assert steps(proposal)["quick_flicks"] == expected
    if n < 7:
        assert f"Only {n} days logged in the last two weeks" in proposal.reason("quick_flicks")


@pytest.mark.parametrize(("reached", "expected"), [(3, Step.REPEAT), (4, Step.PROGRESS)])
def test_the_prescribed_hold_on_four_of_the_last_seven_days(reached, expected):
    logged = days(14, hold=6)
    logged = [
        LoggedDay(d.day, d.week, 3, 3, 10 if k >= 14 - reached else 6, 2)
        for k, d in enumerate(logged)
    ]
    proposal = propose(logged=logged)
    assert steps(proposal)[SLOW_HOLD] == expected
    assert f"prescribed 10 s on {reached} of the last 7 logged days" in proposal.reason(SLOW_HOLD)


@pytest.mark.parametrize(
    ("pain", "expected"),
    [((2, 3), Step.PROGRESS), ((2, 4), Step.STEP_BACK), ((3, 3), Step.PROGRESS)],
)
def test_pain_rising_by_more_than_one_stops_progress_and_by_two_steps_back(pain, expected):
    assert steps(propose(logged=days(pain=pain)))["quick_flicks"] == expected


def test_pain_rising_between_one_and_two_points_repeats():
    logged = days(pain=(2, 3))
    # week 4: mean 3.5 (three days at 4, four at 3) against week 3's 2: a rise of 1.5
    logged = [
        LoggedDay(d.day, d.week, 3, 3, 10, 4 if d.week == 4 and k % 2 else d.pain)
        for k, d in enumerate(logged)
    ]
    assert steps(propose(logged=logged))["quick_flicks"] == Step.REPEAT


def test_a_flare_steps_back_to_the_week_before_the_last():
    proposal = propose(logged=days(flare_on=10))
    assert steps(proposal)[SLOW_HOLD] == Step.STEP_BACK
    week_three = [i for i in BUILTIN_TEMPLATES["strengthening"].items if i.week == 3]
    holds = {i.hold_s for i in proposal.items if i.exercise == SLOW_HOLD}
    assert holds == {next(i.hold_s for i in week_three if i.exercise == SLOW_HOLD)}
    assert "flare-up" in proposal.reason(SLOW_HOLD)


def test_starting_hold_is_the_better_of_the_log_and_the_reassessment():
    # strengthening's week 4 prescribes 10 s; a patient who logged 10 s, reassessed at 7
    logged = days(hold=10)
    proposal = propose(logged=logged, reassessment=AssessmentFacts(endurance_s=7))
    first = next(i for i in proposal.items if i.exercise == SLOW_HOLD and i.week == 1)
    assert first.hold_s == 10
    assert "Starting at 10 s: longest hold logged 10 s" in proposal.reason(SLOW_HOLD)


def test_starting_hold_from_the_log_when_it_is_below_the_template():
    template = BUILTIN_TEMPLATES["post_prostatectomy"]  # week 4: 8 s
    logged = days(hold=8)
    proposal = propose_next_block(
        "post_prostatectomy", template.approach, 2, template.items, logged
    )
    holds = [i.hold_s for i in proposal.items if i.exercise == SLOW_HOLD]
    assert holds == [8, 9, 10, 10]
    assert "Starting at 8 s: longest hold logged 8 s on most of the last days." in proposal.reason(
        SLOW_HOLD
    )


def test_down_training_keeps_effort_when_pain_rises_at_all():
    template = BUILTIN_TEMPLATES["down_training"]
    logged = days(hold=4, pain=(3, 3.5))  # a half-point rise: progress, but effort stays
    logged = [LoggedDay(d.day, d.week, 2, 2, 4, 3 if d.week == 3 else (4 if k % 2 else 3))
              for k, d in enumerate(logged)]  # fmt: skip
    last_effort = max(
        i.effort_pct or 0 for i in template.items if i.week == 4 and i.exercise == SLOW_HOLD
    )
    proposal = propose_next_block(DOWN_TRAINING, DOWN_TRAINING, 3, template.items, logged)
    efforts = {i.effort_pct for i in proposal.items if i.exercise == SLOW_HOLD}
    assert max(efforts) <= last_effort
    assert "effort stays" in proposal.reason(SLOW_HOLD)


def test_down_training_reaches_seventy_percent_only_with_low_stable_pain():
    template = BUILTIN_TEMPLATES["down_training"]
    low = [LoggedDay(d.day, d.week, 2, 2, 5, 2) for d in days()]
    high = [LoggedDay(d.day, d.week, 2, 2, 5, 5) for d in days()]
    block_two_items = block_items(DOWN_TRAINING, 2)
    calm = propose_next_block(DOWN_TRAINING, DOWN_TRAINING, 3, block_two_items, low)
    sore = propose_next_block(DOWN_TRAINING, DOWN_TRAINING, 3, block_two_items, high)
    assert max(i.effort_pct or 0 for i in calm.items if i.exercise == SLOW_HOLD) == 70
    assert max(i.effort_pct or 0 for i in sore.items if i.exercise == SLOW_HOLD) <= 50
    assert template.approach == DOWN_TRAINING


# --- properties --------------------------------------------------------------------------

day_logs = st.lists(
    st.builds(
        lambda k, done, prescribed, hold, pain, flare: LoggedDay(
            START + timedelta(days=k),
            1 + k // 7,
            min(done, prescribed),
            prescribed,
            hold,
            pain,
            flare,
        ),
        st.integers(0, 27),
        st.integers(0, 4),
        st.integers(1, 4),
        st.one_of(st.none(), st.integers(0, 60)),
        st.one_of(st.none(), st.integers(0, 10)),
        st.booleans(),
    ),
    max_size=28,
    unique_by=lambda d: d.day,
)
reassessments = st.one_of(
    st.none(),
    st.builds(AssessmentFacts, endurance_s=st.one_of(st.none(), st.integers(0, 60))),
)


@settings(max_examples=150, deadline=None)
@given(
    code=st.sampled_from(sorted(BLOCK_TEMPLATES)),
    block=st.integers(2, 6),
    logged=day_logs,
    reassessment=reassessments,
)
def test_a_proposal_never_exceeds_the_limits(code, block, logged, reassessment):
    template = BUILTIN_TEMPLATES[code]
    proposal = propose_next_block(
        code, template.approach, block, template.items, logged, reassessment
    )
    for item in proposal.items:
        cap = RELAX_HOLD_WARN_S if item.exercise == REVERSE_KEGEL else CONTRACT_HOLD_WARN_S
        assert item.hold_s is None or item.hold_s <= cap
        assert item.sessions_per_day <= SESSIONS_WARN
        if item.hold_s and item.rest_s is not None:
            assert item.rest_s >= item.hold_s
    assert all(load <= NEAR_MAX_WARN for load in daily_load(proposal.items).values())
    assert {i.week for i in proposal.items} <= {1, 2, 3, 4}


@settings(max_examples=150, deadline=None)
@given(code=st.sampled_from(sorted(BLOCK_TEMPLATES)), logged=day_logs)
def test_a_patient_whose_pain_rose_is_never_progressed(code, logged):
    template = BUILTIN_TEMPLATES[code]
    proposal = propose_next_block(code, template.approach, 2, template.items, logged)
    rise = proposal.evidence.pain_rise
    if rise is not None and rise > 1:
        assert Step.PROGRESS not in steps(proposal).values()
        assert Step.NEW not in steps(proposal).values()


@settings(max_examples=150, deadline=None)
@given(code=st.sampled_from(sorted(BLOCK_TEMPLATES)), logged=day_logs, reassessment=reassessments)
def test_never_starts_below_what_was_logged_when_adherence_was_good(code, logged, reassessment):
    template = BUILTIN_TEMPLATES[code]
    proposal = propose_next_block(code, template.approach, 2, template.items, logged, reassessment)
    evidence = proposal.evidence
    if (evidence.adherence or 0) < 0.7 or not evidence.holds:
        return
    if steps(proposal).get(SLOW_HOLD) != Step.PROGRESS:
        return
    logged_hold = sorted(evidence.holds)[(len(evidence.holds) - 1) // 2]
    first = min(
        (i for i in proposal.items if i.exercise == SLOW_HOLD), key=lambda i: (i.week, i.order)
    )
    assert first.hold_s >= min(logged_hold, CONTRACT_HOLD_WARN_S)


@settings(max_examples=100, deadline=None)
@given(code=st.sampled_from(sorted(BLOCK_TEMPLATES)), logged=day_logs)
def test_the_patients_words_match_the_step_and_carry_no_figures(code, logged):
    from prescriptions.domain.blocks import patient_reason

    template = BUILTIN_TEMPLATES[code]
    proposal = propose_next_block(code, template.approach, 2, template.items, logged)
    for decision in proposal.decisions:
        words = patient_reason(decision, proposal.evidence)
        assert words and not any(ch.isdigit() for ch in words) and "%" not in words
        if decision.step == Step.PROGRESS:
            assert words.startswith("A step up")
        elif decision.step == Step.STEP_BACK:
            assert words.startswith("A little easier")
        elif decision.step == Step.REPEAT:
            assert words.startswith("The same as your last week")
