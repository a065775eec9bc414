"""A programme of four-week blocks, and the next block proposed from what the patient did.

Pure functions over plain values (CLINICAL.md, "A programme of blocks"). Every proposed change
carries its reason in plain words that name the figures it used; the clinician edits anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from statistics import mean

from .catalogue import (
    BELLY_BREATHING,
    CONTRACT_HOLD_WARN_S,
    KNACK,
    QUICK_FLICKS,
    RELAX_HOLD_WARN_S,
    REVERSE_KEGEL,
    SESSIONS_WARN,
    SLOW_HOLD,
)
from .progression import (
    BUILTIN_TEMPLATES,
    DOWN_TRAINING,
    AssessmentFacts,
    Item,
    add_drops,
    count_item,
    fix_rests,
    hold_item,
    limit_load,
    renumber,
)
from .vocab import Position

DEFAULT_BLOCKS = 3  #: three four-week blocks: the 12-week guideline minimum
MIN_BLOCKS, MAX_BLOCKS = 1, 6
WEEKS_PER_BLOCK = 4

# The thresholds of CLINICAL.md's block rules.
PROGRESS_ADHERENCE = 0.70  #: at least this share of sessions done to progress
STEP_BACK_ADHERENCE = 0.40  #: under this share, step back one week
MIN_LOGGED_DAYS = 7  #: fewer logged days in the last two weeks: no progression
HOLD_DAYS_NEEDED = 4  #: the prescribed hold reached on at least this many ...
HOLD_DAYS_WINDOW = 7  #: ... of the last this-many logged days
PAIN_RISE_ALLOWED = 1.0  #: last week's mean pain at most the first week's mean + this
PAIN_RISE_STEP_BACK = 2.0  #: a rise of this much or more steps back
GENTLE_EFFORT_PCT = 50  #: down-training's gentle squeeze: about half effort
COORDINATION_EFFORT_PCT = 70  #: block 3 of down-training, only with low, stable pain
COORDINATION_PAIN_MAX = 3  #: ... pain at this or less


def block_weeks(block: int) -> tuple[int, int]:
    """The programme weeks a block covers: block 2 is weeks 5 to 8."""
    first = (block - 1) * WEEKS_PER_BLOCK + 1
    return first, first + WEEKS_PER_BLOCK - 1


# --- Block templates (blocks 2 and 3; later blocks keep block 3's dose) ----------------------

_ST = Position.STANDING
_SIT = Position.SITTING
_FN = Position.FUNCTIONAL
_L = Position.LYING

_KNACK_ALWAYS = "Squeeze before every cough, sneeze, laugh and lift."
_EVERYDAY = (
    "Standing up from a chair: squeeze as you rise.",
    "Walking: a few squeezes as you walk.",
    "On the stairs: squeeze as you step up.",
    "Lifting: squeeze before you lift, and keep breathing.",
)
_GENTLE = "About half your strongest squeeze. Let go fully after each one."
_WARM_UP = "A warm-up: a few slow breaths before the rest."
_SQUEEZE_RELEASE = "Squeeze, then let go fully: the letting go matters as much as the squeeze."
_TOILET = "On the toilet: feet on a low stool, lean forward, breathe out slowly. Never strain."

_STRENGTHENING_2 = tuple(
    item
    for week, (reps, flicks_at) in enumerate(((10, _ST), (10, _ST), (12, _FN), (12, _FN)), 1)
    for item in (
        hold_item(week, 1, SLOW_HOLD, _ST if week < 4 else _FN, 10, 10, reps, 3),
        count_item(week, 2, QUICK_FLICKS, flicks_at, 10),
        count_item(week, 3, KNACK, _FN, 3, _KNACK_ALWAYS),
    )
)

_STRENGTHENING_3 = tuple(
    item
    for week in range(1, WEEKS_PER_BLOCK + 1)
    for item in (
        hold_item(week, 1, SLOW_HOLD, _FN, 10, 10, 12, 3, note=_EVERYDAY[week - 1]),
        count_item(week, 2, QUICK_FLICKS, _FN, 10),
        count_item(week, 3, KNACK, _FN, 3, _KNACK_ALWAYS),
    )
)


def _down_training(block: int) -> tuple[Item, ...]:
    """Block 2: drops, and gentle squeezes each followed by a full drop. Block 3: squeeze and
    release, up to about 70% effort (kept lower by the proposal unless pain is low and steady)."""
    items = []
    for week in range(1, WEEKS_PER_BLOCK + 1):
        where = _ST if block == 3 or week > 2 else _SIT
        toilet = _TOILET if block == 3 and week == 1 else ""
        effort = 50 if block == 2 else (60 if week < 3 else 70)
        squeeze = _GENTLE if block == 2 else _SQUEEZE_RELEASE
        items += [
            hold_item(week, 1, BELLY_BREATHING, _L, 4, 6, 5, 2, note=_WARM_UP),
            hold_item(week, 2, REVERSE_KEGEL, where, 5, 10, 10, 2, note=toilet),
            hold_item(week, 3, SLOW_HOLD, where, 5, 10, 8, 2, effort, squeeze),
        ]
    return tuple(items)


_STRENGTHENING_BLOCKS = {2: _STRENGTHENING_2, 3: _STRENGTHENING_3}

#: template code -> block number -> the block's four weeks of items
BLOCK_TEMPLATES: dict[str, dict[int, tuple[Item, ...]]] = {
    "strengthening": _STRENGTHENING_BLOCKS,
    "post_prostatectomy": _STRENGTHENING_BLOCKS,
    "postpartum": _STRENGTHENING_BLOCKS,
    "balanced": {
        n: renumber(add_drops(list(items), every_week=False))
        for n, items in _STRENGTHENING_BLOCKS.items()
    },
    "down_training": {2: _down_training(2), 3: _down_training(3)},
}


def block_items(template_code: str, block: int) -> tuple[Item, ...]:
    """The template's items for a block: block 1 is the template itself; 4 and later keep 3."""
    if block <= 1:
        return BUILTIN_TEMPLATES[template_code].items
    blocks = BLOCK_TEMPLATES.get(template_code, _STRENGTHENING_BLOCKS)
    return blocks[min(block, max(blocks))]


# --- What the last block shows ------------------------------------------------------------


@dataclass(frozen=True)
class LoggedDay:
    """One logged day of a block, as the block rules need it."""

    day: date
    week: int  #: week within the block, 1-4
    sessions_done: int
    sessions_prescribed: int
    longest_hold_s: int | None = None
    pain: int | None = None
    flare: bool = False  #: the patient noted a flare-up that day


@dataclass(frozen=True)
class Evidence:
    """The figures of a block's last two weeks that the rules decide on."""

    days_logged: int
    done: int
    prescribed: int
    first_pain: float | None  #: mean pain of the first of the two weeks
    last_pain: float | None  #: mean pain of the last week
    flare_days: int
    holds: tuple[int, ...]  #: longest holds of the last logged days, newest last

    @property
    def adherence(self) -> float | None:
        """Sessions done over sessions prescribed on the logged days."""
        return self.done / self.prescribed if self.prescribed else None

    @property
    def pain_rise(self) -> float | None:
        """How much the mean pain rose from the first week to the last (None if unknown)."""
        if self.first_pain is None or self.last_pain is None:
            return None
        return self.last_pain - self.first_pain


def gather_evidence(days: Iterable[LoggedDay]) -> Evidence:
    """The figures of the last two weeks of a block (weeks 3 and 4)."""
    window = sorted((d for d in days if d.week > WEEKS_PER_BLOCK - 2), key=lambda d: d.day)
    weeks = sorted({d.week for d in window})

    def week_pain(week: int) -> float | None:
        pains = [d.pain for d in window if d.week == week and d.pain is not None]
        return mean(pains) if pains else None

    return Evidence(
        days_logged=len(window),
        done=sum(d.sessions_done for d in window),
        prescribed=sum(d.sessions_prescribed for d in window),
        first_pain=week_pain(weeks[0]) if len(weeks) > 1 else None,
        last_pain=week_pain(weeks[-1]) if len(weeks) > 1 else None,
        flare_days=sum(d.flare for d in window),
        holds=tuple(d.longest_hold_s for d in window if d.longest_hold_s is not None)[
            -HOLD_DAYS_WINDOW:
        ],
    )


# --- The proposal ---------------------------------------------------------------------------


class Step(StrEnum):
    """What the next block does with one exercise."""

    PROGRESS = "progress"
    REPEAT = "repeat"
    STEP_BACK = "step_back"
    NEW = "new"  #: the next block adds it
    DROPPED = "dropped"  #: the next block no longer has it


@dataclass(frozen=True)
class Decision:
    """One exercise's step into the next block, with its reasons in plain words."""

    exercise: str
    step: Step
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class BlockProposal:
    """A proposed next block: its items, and for each exercise what changed and why."""

    block: int
    items: tuple[Item, ...]
    decisions: tuple[Decision, ...]
    evidence: Evidence

    def reason(self, exercise: str) -> str:
        """The reasons for one exercise's dose, as one sentence."""
        found = next((d for d in self.decisions if d.exercise == exercise), None)
        return " ".join(found.reasons) if found else ""


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"


def _overall(evidence: Evidence) -> tuple[Step, list[str]]:
    """The step every exercise takes unless its own figures say otherwise, and why."""
    n, adherence, rise = evidence.days_logged, evidence.adherence, evidence.pain_rise
    if n < MIN_LOGGED_DAYS:
        return Step.REPEAT, [
            f"Only {n} day{'' if n == 1 else 's'} logged in the last two weeks (at least "
            f"{MIN_LOGGED_DAYS} are needed to judge progress): repeating the last week's dose."
        ]
    done = (
        f"{evidence.done} of {evidence.prescribed} sessions done ({_pct(adherence or 0)}) "
        f"over {n} logged days"
    )
    pain = (
        f"pain averaged {evidence.first_pain:.1f} then {evidence.last_pain:.1f}"
        if rise is not None
        else ""
    )
    if evidence.flare_days:
        days = evidence.flare_days
        return Step.STEP_BACK, [f"A flare-up was noted on {days} day{'' if days == 1 else 's'}:"
                                " stepping back one week."]  # fmt: skip
    if rise is not None and rise >= PAIN_RISE_STEP_BACK:
        return Step.STEP_BACK, [f"Pain rose ({pain}): stepping back one week."]
    if adherence is None or adherence < STEP_BACK_ADHERENCE:
        return Step.STEP_BACK, [f"{done[0].upper()}{done[1:]}: stepping back one week."]
    if adherence < PROGRESS_ADHERENCE:
        return Step.REPEAT, [f"{done[0].upper()}{done[1:]}: repeating the last week's dose."]
    if rise is not None and rise > PAIN_RISE_ALLOWED:
        return Step.REPEAT, [f"Pain is rising ({pain}): repeating the last week's dose."]
    why = f"{done[0].upper()}{done[1:]}" + (f", {pain}" if pain else "")
    return Step.PROGRESS, [f"{why}: moving on to the next step."]


def _week_dose(items: Sequence[Item], code: str, week: int) -> list[Item]:
    """One exercise's items of a week, or of the nearest earlier week that has it."""
    for w in range(week, 0, -1):
        found = [i for i in items if i.exercise == code and i.week == w]
        if found:
            return found
    return [i for i in items if i.exercise == code][:1]


def _every_week(items: Sequence[Item]) -> list[Item]:
    return [replace(i, week=w) for w in range(1, WEEKS_PER_BLOCK + 1) for i in items]


def _start_hold(items: list[Item], start: int, cap: int) -> list[Item]:
    """Slow holds from `start`, a second a week towards the template's hold, never above cap."""
    out = []
    for item in items:
        if item.exercise == SLOW_HOLD and item.hold_s:
            target = min(max(item.hold_s, start), cap)
            hold = min(target, start + item.week - 1)
            item = replace(item, hold_s=hold)
        out.append(item)
    return out


def _hold_check(evidence: Evidence, prescribed: int) -> tuple[bool, str]:
    reached = sum(h >= prescribed for h in evidence.holds)
    shown = len(evidence.holds)
    text = (
        f"Longest hold reached the prescribed {prescribed} s on {reached} of the last "
        f"{shown} logged days"
    )
    return reached >= HOLD_DAYS_NEEDED, text


def _logged_hold(evidence: Evidence) -> int | None:
    """The hold the patient managed on most of the last logged days (the median, rounded down)."""
    if not evidence.holds:
        return None
    ordered = sorted(evidence.holds)
    return ordered[(len(ordered) - 1) // 2]


def propose_next_block(
    template_code: str,
    approach: str,
    block: int,
    last_items: Sequence[Item],
    days: Iterable[LoggedDay],
    reassessment: AssessmentFacts | None = None,
) -> BlockProposal:
    """The next block (number `block`) from the last block's items and logged days."""
    evidence = gather_evidence(days)
    overall, overall_reasons = _overall(evidence)
    template = block_items(template_code, block)
    last_codes = list(dict.fromkeys(i.exercise for i in sorted(last_items, key=_key)))
    next_codes = list(dict.fromkeys(i.exercise for i in template))
    items: list[Item] = []
    decisions: list[Decision] = []
    rise = evidence.pain_rise
    for code in last_codes:
        step, reasons = overall, list(overall_reasons)
        last_week = _week_dose(last_items, code, WEEKS_PER_BLOCK)
        if code == SLOW_HOLD and step == Step.PROGRESS and last_week[0].hold_s:
            ok, text = _hold_check(evidence, last_week[0].hold_s)
            if not ok:
                step, reasons = Step.REPEAT, [f"{text}: repeating the last week's dose."]
            else:
                reasons = [*reasons, f"{text}."]
        if step == Step.PROGRESS and code not in next_codes:
            decisions.append(Decision(code, Step.DROPPED, (f"Block {block} moves on from it.",)))
            continue
        if step == Step.PROGRESS:
            chosen = [i for i in template if i.exercise == code]
        elif step == Step.REPEAT:
            chosen = _every_week(last_week)
        else:
            chosen = _every_week(_week_dose(last_items, code, WEEKS_PER_BLOCK - 1))
        if code == SLOW_HOLD:
            chosen, more = _tune_squeeze(
                chosen, step, approach, block, last_week, evidence, reassessment, rise
            )
            reasons.extend(more)
        items.extend(chosen)
        decisions.append(Decision(code, step, tuple(reasons)))
    if overall == Step.PROGRESS:
        for code in next_codes:
            if code not in last_codes:
                items.extend(i for i in template if i.exercise == code)
                decisions.append(Decision(code, Step.NEW, (f"New in block {block}.",)))
    items = fix_rests(sorted(items, key=_key), approach)
    items = limit_load(_within_limits(items))
    return BlockProposal(block, renumber(items), tuple(decisions), evidence)


def _key(item: Item) -> tuple[int, int]:
    return item.week, item.order


def _tune_squeeze(
    chosen: list[Item],
    step: Step,
    approach: str,
    block: int,
    last_week: list[Item],
    evidence: Evidence,
    reassessment: AssessmentFacts | None,
    rise: float | None,
) -> tuple[list[Item], list[str]]:
    """Starting hold and effort of the slow squeeze in the next block, with the reasons."""
    reasons: list[str] = []
    adherence = evidence.adherence or 0
    logged = _logged_hold(evidence) if adherence >= PROGRESS_ADHERENCE else None
    measured = reassessment.endurance_s if reassessment else None
    candidates = [h for h in (logged, measured) if h]
    if step == Step.PROGRESS and candidates:
        start = min(max(candidates), CONTRACT_HOLD_WARN_S)
        chosen = _start_hold(chosen, start, CONTRACT_HOLD_WARN_S)
        source = (
            f"longest hold logged {logged} s on most of the last days"
            if logged is not None and logged >= (measured or 0)
            else f"held {measured} s at the reassessment"
        )
        reasons.append(f"Starting at {start} s: {source}.")
    if approach == DOWN_TRAINING:
        effort_before = last_week[0].effort_pct or GENTLE_EFFORT_PCT
        stable_low = (
            rise is not None
            and rise <= 0
            and evidence.last_pain is not None
            and evidence.last_pain <= COORDINATION_PAIN_MAX
        )
        if rise is not None and rise > 0:
            chosen = [
                replace(i, effort_pct=min(i.effort_pct or 100, effort_before)) for i in chosen
            ]
            reasons.append(f"Pain rose a little: effort stays at about {effort_before}%.")
        elif not stable_low and any((i.effort_pct or 0) > GENTLE_EFFORT_PCT for i in chosen):
            chosen = [replace(i, effort_pct=min(i.effort_pct or 100, GENTLE_EFFORT_PCT))
                      for i in chosen]  # fmt: skip
            reasons.append(
                f"Effort stays at about {GENTLE_EFFORT_PCT}% until pain is "
                f"{COORDINATION_PAIN_MAX}/10 or less and steady."
            )
    return chosen, reasons


def _within_limits(items: Iterable[Item]) -> list[Item]:
    """Holds and sessions never above the limits a plan is warned at."""
    out = []
    for item in items:
        cap = CONTRACT_HOLD_WARN_S if item.exercise != REVERSE_KEGEL else RELAX_HOLD_WARN_S
        if item.hold_s is not None and item.hold_s > cap:
            item = replace(item, hold_s=cap)
        if item.sessions_per_day > SESSIONS_WARN:
            item = replace(item, sessions_per_day=SESSIONS_WARN)
        out.append(item)
    return out


# --- What changed, in the patient's words -------------------------------------------------


def patient_reason(decision: Decision, evidence: Evidence) -> str:
    """What changed for one exercise since the last block and why, in plain words for the
    patient's handout (no figures to decode, nothing that blames)."""
    step = decision.step
    if step == Step.NEW:
        return "New in these weeks."
    if step == Step.DROPPED:
        return "No longer in your plan: you have moved on from it."
    adherence, rise = evidence.adherence, evidence.pain_rise
    if evidence.days_logged < MIN_LOGGED_DAYS:
        return (
            "The same as your last week: a few more days on your log sheets will show us "
            "when you are ready for the next step."
        )
    if step == Step.STEP_BACK:
        if evidence.flare_days:
            return "A little easier than your last week, to settle things after your flare-up."
        if rise is not None and rise >= PAIN_RISE_STEP_BACK:
            return "A little easier than your last week, because your pain went up."
        return "A little easier than your last week, so that it fits more easily into your day."
    if step == Step.REPEAT:
        if adherence is not None and adherence < PROGRESS_ADHERENCE:
            return "The same as your last week, so it can become a daily habit before we add more."
        if rise is not None and rise > PAIN_RISE_ALLOWED:
            return "The same as your last week, because your pain went up a little."
        return (
            "The same as your last week: your longest squeezes are not yet as long as the "
            "time we asked for. Keep going, you are getting there."
        )
    return "A step up from your last block: you kept up with your sessions. Well done."
