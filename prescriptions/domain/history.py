"""What changed between two revisions of a plan, week by week (for the revision history)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .catalogue import BUILTIN_EXERCISES, PARAM_LABELS, Exercise
from .progression import DOSE_FIELDS, Item
from .vocab import Position, label

#: fields compared between matched items; `order` is left out because inserting one item
#: renumbers the rest, which is not a change the clinician made to them
COMPARED_FIELDS = DOSE_FIELDS

_LABELS = {"position": ("position", ""), **PARAM_LABELS, "note": ("note", "")}


def revision_chain(plan_id: int, revises: Mapping[int, int | None]) -> list[int]:
    """Every revision of the plan, first to latest, from each plan's `revises` link."""
    root = plan_id
    while revises.get(root) is not None and revises[root] in revises:
        root = revises[root]  # type: ignore[assignment]
    children = {parent: child for child, parent in revises.items() if parent is not None}
    chain = [root]
    while chain[-1] in children and children[chain[-1]] not in chain:
        chain.append(children[chain[-1]])
    return chain


@dataclass(frozen=True)
class WeekChange:
    """The differences in one week between an old and a new list of items."""

    week: int
    added: tuple[Item, ...]
    removed: tuple[Item, ...]
    changed: tuple[tuple[Item, Item, tuple[str, ...]], ...]  #: (old, new, changed field names)


def _changed_fields(old: Item, new: Item) -> tuple[str, ...]:
    return tuple(name for name in COMPARED_FIELDS if getattr(old, name) != getattr(new, name))


def _compare_week(week: int, old: list[Item], new: list[Item]) -> WeekChange:
    unmatched_old = sorted(old, key=lambda i: i.order)
    pairs: list[tuple[Item, Item]] = []
    # same exercise in the same position first, so reordering or a new position elsewhere
    # does not pair the wrong items; then same exercise in order
    pending = sorted(new, key=lambda i: i.order)
    for same_position in (True, False):
        still: list[Item] = []
        for item in pending:
            match = next(
                (
                    o
                    for o in unmatched_old
                    if o.exercise == item.exercise
                    and (not same_position or o.position == item.position)
                ),
                None,
            )
            if match is None:
                still.append(item)
            else:
                unmatched_old.remove(match)
                pairs.append((match, item))
        pending = still
    changed = tuple(
        (o, n, fields)
        for o, n in sorted(pairs, key=lambda p: p[1].order)
        if (fields := _changed_fields(o, n))
    )
    return WeekChange(
        week=week,
        added=tuple(pending),
        removed=tuple(unmatched_old),
        changed=changed,
    )


def compare_items(old: Sequence[Item], new: Sequence[Item]) -> tuple[WeekChange, ...]:
    """Week-by-week differences between two item lists; weeks without changes are left out."""
    result = []
    for week in sorted({i.week for i in old} | {i.week for i in new}):
        change = _compare_week(
            week, [i for i in old if i.week == week], [i for i in new if i.week == week]
        )
        if change.added or change.removed or change.changed:
            result.append(change)
    return tuple(result)


def _value(name: str, value: object) -> str:
    if value is None or value == "":
        return "none"
    if name == "position":
        return label(Position(str(value))).lower()
    if name == "note":
        return f"“{value}”"
    return f"{value}{_LABELS[name][1]}"


def dose_text(item: Item) -> str:
    """Short dose summary, e.g. "sitting, hold 6 s, rest 10 s, 8 reps, 3 sessions a day"."""
    parts = [label(item.position).lower()]
    if item.hold_s is not None:
        parts.append(f"hold {item.hold_s} s")
    if item.rest_s is not None:
        parts.append(f"rest {item.rest_s} s")
    parts.append(f"{item.reps} reps")
    if item.sets != 1:
        parts.append(f"{item.sets} sets")
    parts.append(f"{item.sessions_per_day} sessions a day")
    if item.effort_pct is not None:
        parts.append(f"effort {item.effort_pct}%")
    return ", ".join(parts)


def _name(code: str, exercises: Mapping[str, Exercise]) -> str:
    exercise = exercises.get(code)
    return exercise.name if exercise is not None else code


def describe_change(
    change: WeekChange, exercises: Mapping[str, Exercise] | None = None
) -> tuple[str, ...]:
    """Short lines for one week's changes, e.g. "Week 2 · Slow hold: hold 6 s → 8 s"."""
    catalogue = BUILTIN_EXERCISES if exercises is None else exercises
    lines = []
    head = f"Week {change.week} · "
    for old, new, names in change.changed:
        diffs = ", ".join(
            f"{_LABELS[n][0]} {_value(n, getattr(old, n))} → {_value(n, getattr(new, n))}"
            for n in names
        )
        lines.append(f"{head}{_name(new.exercise, catalogue)}: {diffs}")
    for item in change.added:
        lines.append(f"{head}added {_name(item.exercise, catalogue)}: {dose_text(item)}")
    for item in change.removed:
        lines.append(f"{head}removed {_name(item.exercise, catalogue)}: {dose_text(item)}")
    return tuple(lines)


def describe_changes(
    changes: Iterable[WeekChange], exercises: Mapping[str, Exercise] | None = None
) -> tuple[str, ...]:
    """All lines for a revision, week by week."""
    return tuple(line for change in changes for line in describe_change(change, exercises))
