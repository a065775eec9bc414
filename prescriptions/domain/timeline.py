"""A programme's timeline: its blocks in order, the week today falls in, reviews done and due.

Pure functions over plain values; a review is an assessment between two blocks (CLINICAL.md,
"A programme of blocks": a reassessment before each new block is recommended).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .blocks import WEEKS_PER_BLOCK, block_weeks

#: an assessment this many days before a block ends already counts as its review
REVIEW_EARLY_DAYS = 7


@dataclass(frozen=True)
class BlockFacts:
    """One block as stored: its current plan and the sums of its logged days."""

    number: int
    plan_id: int
    status: str  #: the plan's status
    start: date
    end: date
    days_logged: int = 0
    done: int = 0
    prescribed: int = 0


@dataclass(frozen=True)
class BlockRow:
    """One block of the timeline; `plan_id` None for a block not planned yet."""

    number: int
    weeks: tuple[int, int]
    plan_id: int | None
    status: str  #: the plan's status, or "not planned"
    start: date | None
    end: date | None
    days_logged: int
    adherence: float | None  #: sessions done / prescribed on logged days

    @property
    def label(self) -> str:
        """ "Block 2: weeks 5 to 8"."""
        return f"Block {self.number}: weeks {self.weeks[0]} to {self.weeks[1]}"


@dataclass(frozen=True)
class Review:
    """The review between block `after` and the next: due on a day, done on another or not."""

    after: int
    due_on: date | None
    done_on: date | None


@dataclass(frozen=True)
class Timeline:
    blocks: tuple[BlockRow, ...]
    reviews: tuple[Review, ...]
    week_today: int | None  #: the programme week today falls in, from 1
    block_today: int | None

    @property
    def cancelled_last(self) -> int | None:
        """The latest planned block when it was cancelled: a running programme needs a decision."""
        planned = [b for b in self.blocks if b.plan_id is not None]
        return planned[-1].number if planned and planned[-1].status == "cancelled" else None

    @property
    def next_block(self) -> int | None:
        """The block "plan the next block" would make, or None when every block is planned."""
        planned = [b.number for b in self.blocks if b.plan_id is not None]
        last = max(planned, default=0)
        return last + 1 if last < len(self.blocks) else None


def build_timeline(
    block_count: int, blocks: Sequence[BlockFacts], assessed_on: Sequence[date], today: date
) -> Timeline:
    """The timeline of a programme of `block_count` blocks from its stored blocks."""
    by_number = {b.number: b for b in blocks}
    count = max([block_count, *by_number])
    rows = []
    for number in range(1, count + 1):
        fact = by_number.get(number)
        if fact is None:
            rows.append(
                BlockRow(number, block_weeks(number), None, "not planned", None, None, 0, None)
            )
            continue
        share = fact.done / fact.prescribed if fact.prescribed else None
        rows.append(
            BlockRow(number, block_weeks(number), fact.plan_id, fact.status, fact.start,
                     fact.end, fact.days_logged, share)
        )  # fmt: skip
    week_today = block_today = None
    for row in rows:
        if row.start is not None and row.end is not None and row.start <= today <= row.end:
            block_today = row.number
            week_today = (row.number - 1) * WEEKS_PER_BLOCK + (today - row.start).days // 7 + 1
    reviews = []
    dates = sorted(assessed_on)
    for row in rows[:-1]:
        due = row.end + timedelta(days=1) if row.end is not None else None
        following = by_number.get(row.number + 1)
        done = None
        if row.end is not None:
            first = row.end - timedelta(days=REVIEW_EARLY_DAYS)
            last = following.start if following is not None else None
            done = next((d for d in dates if d >= first and (last is None or d <= last)), None)
        reviews.append(Review(row.number, due, done))
    return Timeline(tuple(rows), tuple(reviews), week_today, block_today)


def programme_end(
    block_end: date, block_number: int, block_count: int, ended_on: date | None = None
) -> date:
    """The day a programme ends, seen from one of its blocks ending on `block_end`.

    A finished or stopped programme ended on `ended_on`; a running one ends when its last block
    would, four weeks a block after this one.
    """
    if ended_on is not None:
        return ended_on
    later = max(block_count - block_number, 0)
    return block_end + timedelta(weeks=WEEKS_PER_BLOCK * later)


def next_block_offered_from(
    start: date, end: date, assessed_on: Sequence[date], today: date
) -> date | None:
    """The day "plan the next block" opens for a block running `start` to `end`, or None if open.

    It opens in the block's last week, or earlier once the patient has been reassessed
    during the block (an assessment after its first day: the review done early).
    """
    opens = end - timedelta(days=6)  # the first day of the last week
    reviewed = any(start < d <= today for d in assessed_on)
    if today >= opens or reviewed:
        return None
    return opens
