"""Stored programmes, plans, logs and assessments into timelines and block facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ..domain.blocks import BLOCK_TEMPLATES, WEEKS_PER_BLOCK, LoggedDay
from ..domain.outcomes import BlockSpan, Change, change_of, programme_week_leaks
from ..domain.timeline import BlockFacts, Timeline, build_timeline
from ..domain.vocab import PlanStatus
from ..models import Assessment, LogEntry, Plan, Programme

#: which revision of a block stands for it: the issued one, else completed, draft, ...
_STANDING = {
    PlanStatus.ISSUED.value: 5,
    PlanStatus.COMPLETED.value: 4,
    PlanStatus.DRAFT.value: 3,
    PlanStatus.CANCELLED.value: 2,
    PlanStatus.SUPERSEDED.value: 1,
}


def block_plans(programme: Programme, plans: Sequence[Plan]) -> dict[int, Plan]:
    """Block number -> the plan that stands for that block of the programme."""
    chosen: dict[int, Plan] = {}
    for plan in plans:
        if plan.programme_id != programme.id:
            continue
        best = chosen.get(plan.block_number)
        rank = (_STANDING.get(plan.status, 0), plan.id)
        if best is None or rank > (_STANDING.get(best.status, 0), best.id):
            chosen[plan.block_number] = plan
    return chosen


def block_facts(
    programme: Programme, plans: Sequence[Plan], sums: dict[int, tuple[int, int, int]]
) -> list[BlockFacts]:
    """The stored blocks of a programme; `sums` maps a lineage key to (days, done, prescribed)."""
    lineages: dict[int, set[int]] = {}
    for plan in plans:
        if plan.programme_id == programme.id:
            lineages.setdefault(plan.block_number, set()).add(plan.lineage_key)
    facts = []
    for number, plan in sorted(block_plans(programme, plans).items()):
        days = done = prescribed = 0
        for key in lineages.get(number, ()):
            d, n, p = sums.get(key, (0, 0, 0))
            days, done, prescribed = days + d, done + n, prescribed + p
        facts.append(
            BlockFacts(number, plan.id, plan.status, plan.start_date, plan.end_date, days, done,
                       prescribed)
        )  # fmt: skip
    return facts


def programme_timeline(
    programme: Programme,
    plans: Sequence[Plan],
    sums: dict[int, tuple[int, int, int]],
    assessed_on: Sequence[date],
    today: date,
) -> Timeline:
    """A programme's timeline from the patient's plans, log sums and assessment dates."""
    return build_timeline(
        programme.block_count, block_facts(programme, plans, sums), assessed_on, today
    )


def logged_days(plan: Plan, logs: Sequence[LogEntry]) -> list[LoggedDay]:
    """A block's logged days as the block rules read them (a note naming a flare is a flare)."""
    return [
        LoggedDay(
            day=e.day,
            week=min(max((e.day - plan.start_date).days // 7 + 1, 1), WEEKS_PER_BLOCK),
            sessions_done=e.sessions_done,
            sessions_prescribed=e.sessions_prescribed,
            longest_hold_s=e.longest_hold_s,
            pain=e.pain,
            flare="flare" in (e.note or "").casefold(),
        )
        for e in logs
        if plan.start_date <= e.day <= plan.end_date
    ]


def block_template_code(programme: Programme, approach: str) -> str:
    """The template whose blocks a programme follows (a clinic template: its approach's)."""
    if programme.template_code in BLOCK_TEMPLATES:
        return programme.template_code
    return approach if approach in BLOCK_TEMPLATES else "strengthening"


def lineage_sums(logs: Sequence[LogEntry]) -> dict[int, tuple[int, int, int]]:
    """Lineage key -> (days logged, sessions done, prescribed), from loaded log rows."""
    sums: dict[int, tuple[int, int, int]] = {}
    for e in logs:
        if e.lineage_id is None:  # a day kept on its own revision only (migration a7c3e9d1f2b4)
            continue
        d, n, p = sums.get(e.lineage_id, (0, 0, 0))
        sums[e.lineage_id] = (d + 1, n + e.sessions_done, p + e.sessions_prescribed)
    return sums


#: assessment columns behind each outcome measure
ASSESSED = {
    "oxford": "oxford_grade",
    "endurance": "endurance_s",
    "repetitions": "repetitions",
    "pads": "pads_per_day",
    "iciq": "iciq_total",
    "pain": "pain",
}


@dataclass(frozen=True)
class RecordOutcomes:
    """What the record's outcome charts and changes are drawn from."""

    dates: tuple[str, ...]  #: assessment dates, oldest first, as chart labels
    series: dict[str, list[float | None]]  #: measure code -> values by assessment
    weeks: tuple[tuple[str, str, float], ...]  #: (label, axis, leaks a week) by programme week
    blocks: tuple[tuple[str, float | None], ...]  #: adherence by block
    changes: tuple[Change, ...]


def record_outcomes(
    assessments: Sequence[Assessment],
    logs: Sequence[LogEntry],
    programmes: Sequence[tuple[Programme, Timeline]],
) -> RecordOutcomes:
    """A patient's outcomes: assessments oldest first, logs, and each programme's timeline."""
    series = {code: [getattr(a, column) for a in assessments] for code, column in ASSESSED.items()}
    several = len(programmes) > 1
    spans = [
        BlockSpan(n, b.number, b.start, b.end)
        for n, (_, timeline) in enumerate(reversed(programmes), 1)
        for b in timeline.blocks
        if b.start is not None and b.end is not None
    ]
    weeks = programme_week_leaks(
        ((e.day, e.leaks) for e in logs if e.lineage_id is not None), spans, several=several
    )
    blocks = [
        (f"{'P' + str(n) + ' ' if several else ''}Block {b.number}", b.adherence)
        for n, (_, timeline) in enumerate(reversed(programmes), 1)
        for b in timeline.blocks
        if b.plan_id is not None
    ]
    changes = [change_of("leaks_week", [v for _, _, v in weeks])]
    changes += [change_of(code, values) for code, values in series.items()]
    return RecordOutcomes(
        tuple(a.assessed_on.strftime("%d %b") for a in assessments),
        series,
        tuple(weeks),
        tuple(blocks),
        tuple(c for c in changes if c is not None),
    )
