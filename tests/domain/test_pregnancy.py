"""CLINICAL.md "Pregnancy": exercises lying on the back warn, side-lying or sitting proposed."""

from __future__ import annotations

from dataclasses import replace

from prescriptions.domain.catalogue import REVERSE_KEGEL, SLOW_HOLD
from prescriptions.domain.progression import Item
from prescriptions.domain.rules import PatientFacts, Severity, blocking_issue, check_plan
from prescriptions.domain.vocab import Position, Precaution

PREGNANT = PatientFacts(precautions=frozenset({Precaution.PREGNANT}))


def item(week: int, order: int, exercise: str, position: Position) -> Item:
    return Item(week, order, exercise, position, 5, 10, 8, 1, 3, None)


def pregnancy(findings):
    return [f for f in findings if f.code == "precaution.pregnant_lying"]


def test_lying_on_the_back_warns_once_per_exercise_naming_the_weeks():
    items = [
        item(1, 1, SLOW_HOLD, Position.LYING),
        item(2, 1, SLOW_HOLD, Position.LYING),
        item(2, 2, REVERSE_KEGEL, Position.LYING),
        item(3, 1, SLOW_HOLD, Position.SITTING),
    ]
    found = pregnancy(check_plan(items, PREGNANT))
    assert len(found) == 2
    slow = found[0]
    assert slow.severity == Severity.WARNING and (slow.week, slow.order) == (1, 1)
    assert slow.field == "position"
    assert "weeks 1, 2" in slow.message and "16 weeks" in slow.message
    assert "lying on the side, sitting or standing" in slow.message
    assert "week 2)" in found[1].message
    assert not blocking_issue(found)  # a warning to acknowledge, never a refusal


def test_side_lying_sitting_and_standing_do_not_warn():
    items = [
        item(1, 1, SLOW_HOLD, Position.SIDE_LYING),
        item(1, 2, REVERSE_KEGEL, Position.SITTING),
        item(2, 1, SLOW_HOLD, Position.STANDING),
    ]
    assert pregnancy(check_plan(items, PREGNANT)) == []


def test_not_pregnant_lying_does_not_warn():
    items = [item(1, 1, SLOW_HOLD, Position.LYING)]
    assert pregnancy(check_plan(items, PatientFacts())) == []
    other = PatientFacts(precautions=frozenset({Precaution.PROLAPSE_BEYOND_HYMEN}))
    assert pregnancy(check_plan(items, other)) == []


def test_changing_the_position_clears_the_warning():
    lying = item(1, 1, SLOW_HOLD, Position.LYING)
    assert pregnancy(check_plan([lying], PREGNANT))
    assert not pregnancy(check_plan([replace(lying, position=Position.SIDE_LYING)], PREGNANT))
