"""Revision history: what changed between two item lists."""

from __future__ import annotations

from dataclasses import replace

from prescriptions.domain.catalogue import custom_exercise, exercise_catalogue
from prescriptions.domain.history import (
    WeekChange,
    compare_items,
    describe_change,
    describe_changes,
    dose_text,
)
from prescriptions.domain.progression import BUILTIN_TEMPLATES, Item
from prescriptions.domain.vocab import Position

SLOW = Item(2, 1, "slow_hold", Position.SITTING, 6, 10, 8, 1, 3)
FLICKS = Item(2, 2, "quick_flicks", Position.SITTING, None, None, 8, 1, 3)
DROP = Item(2, 3, "reverse_kegel", Position.LYING, 5, 10, 5, 1, 3)


def test_identical_plans_have_no_changes() -> None:
    items = BUILTIN_TEMPLATES["balanced"].items
    assert compare_items(items, items) == ()
    assert compare_items(items, tuple(reversed(items))) == ()
    assert compare_items((), ()) == ()


def test_a_changed_hold_is_reported_with_its_fields() -> None:
    changes = compare_items([SLOW, FLICKS], [replace(SLOW, hold_s=8), FLICKS])
    assert changes == (WeekChange(2, (), (), ((SLOW, replace(SLOW, hold_s=8), ("hold_s",)),)),)
    assert describe_change(changes[0]) == ("Week 2 · Slow hold: hold 6 s → 8 s",)


def test_several_fields_on_one_line() -> None:
    new = replace(SLOW, hold_s=8, reps=10, effort_pct=40, position=Position.STANDING, note="Go")
    (change,) = compare_items([SLOW], [new])
    assert change.changed[0][2] == ("position", "hold_s", "reps", "effort_pct", "note")
    assert describe_change(change) == (
        "Week 2 · Slow hold: position sitting → standing, hold 6 s → 8 s, reps 8 → 10, "
        "effort none → 40%, note none → “Go”",
    )


def test_added_and_removed_items() -> None:
    (change,) = compare_items([SLOW, FLICKS], [SLOW, replace(DROP, order=2)])
    assert change.added == (replace(DROP, order=2),)
    assert change.removed == (FLICKS,)
    assert change.changed == ()
    assert describe_change(change) == (
        "Week 2 · added Reverse Kegel (drop): lying, hold 5 s, rest 10 s, 5 reps, 3 sessions a day",
        "Week 2 · removed Quick flicks: sitting, 8 reps, 3 sessions a day",
    )


def test_renumbering_alone_is_not_a_change() -> None:
    moved = [replace(DROP, order=1), replace(SLOW, order=2), replace(FLICKS, order=3)]
    assert compare_items([SLOW, FLICKS, DROP], moved) == ()


def test_same_exercise_twice_is_matched_by_position_then_order() -> None:
    lying = Item(1, 1, "slow_hold", Position.LYING, 4, 10, 8, 1, 3)
    standing = Item(1, 2, "slow_hold", Position.STANDING, 4, 10, 8, 1, 3)
    # the standing set moves to the front and gets longer holds: only it changed
    new = [replace(standing, order=1, hold_s=6), replace(lying, order=2)]
    (change,) = compare_items([lying, standing], new)
    assert change.added == change.removed == ()
    assert change.changed == ((standing, new[0], ("hold_s",)),)
    # a set that changes position is still the same set when nothing else matches
    (change,) = compare_items([lying], [replace(lying, position=Position.SITTING)])
    assert change.changed[0][2] == ("position",)


def test_changes_span_weeks_in_order() -> None:
    week1 = Item(1, 1, "slow_hold", Position.LYING, 4, 10, 8, 1, 3)
    week4 = Item(4, 1, "knack", Position.FUNCTIONAL, None, None, 3, 1, 3)
    changes = compare_items([SLOW, week4], [week1, replace(SLOW, sessions_per_day=2)])
    assert [c.week for c in changes] == [1, 2, 4]
    assert describe_changes(changes) == (
        "Week 1 · added Slow hold: lying, hold 4 s, rest 10 s, 8 reps, 3 sessions a day",
        "Week 2 · Slow hold: sessions a day 3 → 2",
        "Week 4 · removed The Knack: functional, 3 reps, 3 sessions a day",
    )


def test_clinic_exercise_names_and_unknown_codes() -> None:
    bridge = custom_exercise("bridge", "Bridge", "contract", [], ["Lift."], "Out.", "Lift.", [])
    old = Item(1, 1, "bridge", Position.LYING, None, None, 8, 1, 3)
    (change,) = compare_items([old], [replace(old, reps=10, sets=2)])
    assert describe_change(change, exercise_catalogue([bridge])) == (
        "Week 1 · Bridge: reps 8 → 10, sets 1 → 2",
    )
    assert describe_change(change) == ("Week 1 · bridge: reps 8 → 10, sets 1 → 2",)


def test_dose_text() -> None:
    item = Item(3, 1, "slow_hold", Position.SIDE_LYING, 3, 10, 5, 2, 2, 40)
    assert dose_text(item) == (
        "side-lying, hold 3 s, rest 10 s, 5 reps, 2 sets, 2 sessions a day, effort 40%"
    )


def test_revision_chain_walks_from_the_first_revision_to_the_latest():
    from prescriptions.domain.history import revision_chain

    revises = {1: None, 2: 1, 3: 2, 9: None}  # 9 is another lineage of the same patient
    assert revision_chain(2, revises) == [1, 2, 3]
    assert revision_chain(3, revises) == [1, 2, 3]
    assert revision_chain(9, revises) == [9]
    # a link to a plan outside the lineage (another patient's, say) starts the chain here
    assert revision_chain(5, {5: 4}) == [5]
