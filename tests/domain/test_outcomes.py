"""Outcome maths: leaks a week per logged day, and the changes CLINICAL.md calls important."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from prescriptions.domain.outcomes import (
    change_of,
    is_important,
    leaks_a_week,
    median_change,
    share_fewer_leaks,
    weekly_leaks,
)

leaks = st.integers(min_value=0, max_value=20)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=20), st.integers(min_value=1, max_value=7))
def test_the_same_leaks_every_day_is_seven_times_that_whatever_the_days_logged(daily, days):
    assert leaks_a_week([daily] * days) == daily * 7


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), leaks), min_size=1, max_size=14))
def test_days_without_leaks_recorded_do_not_dilute_the_mean(values):
    known = [v for v in values if v is not None]
    result = leaks_a_week(values)
    if not known:
        assert result is None
    else:
        assert result == leaks_a_week(known)
        assert min(known) * 7 <= result <= max(known) * 7


def test_a_part_week_is_never_a_raw_sum():
    assert leaks_a_week([2, 2, 2]) == 14  # not 6
    monday = date(2026, 11, 30)
    days = [(monday + timedelta(days=d), 1) for d in range(3)]
    days += [(monday + timedelta(days=7 + d), 0) for d in range(7)]
    assert weekly_leaks(days) == [(monday, 7.0), (monday + timedelta(days=7), 0.0)]


def test_the_responder_threshold_is_half_the_leaks():
    assert is_important("leaks_week", 14, 7)
    assert not is_important("leaks_week", 14, 7.1)
    assert not is_important("leaks_week", 0, 0)
    assert share_fewer_leaks([(14, 7), (14, 10), (0, 0), (20, 0)]) == (2, 3)


def test_iciq_needs_two_and_a_half_points_either_way():
    assert not is_important("iciq", 12, 10)
    assert is_important("iciq", 12, 9) and is_important("iciq", 9, 12)
    change = change_of("iciq", [12, None, 9])
    assert change is not None and change.better and change.important
    assert change.text == "12 to 9 (-3): clinically important improvement"
    worse = change_of("iciq", [9, 12])
    assert worse.text.endswith("clinically important worsening")


def test_pain_needs_two_points_or_thirty_percent():
    assert is_important("pain", 8, 6)  # 2 points
    assert not is_important("pain", 8, 7)  # 1 point, 12%
    assert is_important("pain", 3, 2)  # 1 point but 33%
    assert not is_important("pain", 5, 4)  # 20%
    assert not is_important("pain", 2, 4)  # a rise is not an improvement


def test_one_oxford_grade_is_meaningful_and_perfect_counts_have_no_threshold():
    assert is_important("oxford", 2, 3) and not is_important("oxford", 3, 3)
    assert not change_of("endurance", [4, 9]).important
    assert change_of("endurance", [4, 9]).text == "4 s to 9 s (+5)"
    assert change_of("pads", [2]) is None
    assert change_of("oxford", [3, 3]).text == "3 to 3 (no change)"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(leaks, leaks), max_size=12))
def test_median_change_lies_between_the_smallest_and_largest_change(pairs):
    result = median_change(pairs)
    if not pairs:
        assert result is None
    else:
        changes = [b - a for a, b in pairs]
        assert min(changes) <= result <= max(changes)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=10), st.integers(min_value=0, max_value=10))
def test_pain_important_only_when_it_fell(first, last):
    if is_important("pain", first, last):
        assert last < first
        assert first - last >= 2 or (first - last) / first >= 0.3


def test_iciq_baseline_is_the_last_before_the_start_else_the_first_after():
    from prescriptions.domain.outcomes import iciq_pair

    start = date(2026, 9, 1)
    before, first, later = date(2026, 8, 20), date(2026, 9, 10), date(2026, 11, 20)
    assert iciq_pair(start, None, [(before, 1, 14), (first, 2, 12), (later, 3, 9)]) == (14, 9)
    assert iciq_pair(start, None, [(first, 2, 12), (later, 3, 9)]) == (12, 9)
    assert iciq_pair(start, None, [(first, 2, 12)]) is None  # one assessment: no change
    assert iciq_pair(start, date(2026, 10, 1), [(before, 1, 14), (later, 3, 9)]) is None
    assert iciq_pair(start, None, [(before, 1, 14)]) is None


def test_leaks_are_grouped_by_programme_week_not_calendar_week():
    from prescriptions.domain.outcomes import BlockSpan, programme_week_leaks

    start = date(2026, 9, 9)  # a Wednesday: calendar weeks would split each block week
    block_two = start + timedelta(days=35)  # a week's gap after block 1
    spans = [
        BlockSpan(1, 1, start, start + timedelta(days=27)),
        BlockSpan(1, 2, block_two, block_two + timedelta(days=27)),
    ]
    days = [(start + timedelta(days=n), 1) for n in range(7)]  # Wed to Tue: programme week 1
    days += [(block_two + timedelta(days=7 + n), 2) for n in range(3)]  # block 2, its week 2
    days += [(start + timedelta(days=30), 9)]  # in the gap: no block, left out
    assert programme_week_leaks(days, spans, several=False) == [
        ("Week 1", "W1", 7.0), ("Week 6", "W6", 14.0),
    ]  # fmt: skip
    two = programme_week_leaks(days[:1], spans, several=True)
    assert two == [("Programme 1, week 1", "P1 W1", 7.0)]


def test_axis_labels_are_thinned_and_the_last_kept():
    from prescriptions.web.charts import MAX_AXIS_LABELS, axis_labels

    few = [f"W{n}" for n in range(1, 6)]
    assert axis_labels(few) == few
    for count in range(1, 40):
        labels = [f"W{n}" for n in range(1, count + 1)]
        shown = [label for label in axis_labels(labels) if label]
        assert len(shown) <= MAX_AXIS_LABELS and shown[0] == "W1", (count, shown)
        assert shown[-1] == labels[-1], (count, shown)
        assert count <= MAX_AXIS_LABELS or len(shown) >= MAX_AXIS_LABELS // 2, (count, shown)
    assert axis_labels([]) == []
