"""The programme timeline: blocks in order, the week today, reviews done and due."""

from __future__ import annotations

from datetime import date, timedelta

from prescriptions.domain.timeline import BlockFacts, build_timeline, programme_end

START = date(2026, 9, 7)


def _block(number: int, status: str = "issued", **sums: int) -> BlockFacts:
    start = START + timedelta(days=28 * (number - 1))
    return BlockFacts(number, 100 + number, status, start, start + timedelta(days=27), **sums)


def test_unplanned_blocks_follow_the_planned_ones():
    timeline = build_timeline(3, [_block(1, "completed")], [], START + timedelta(days=40))
    assert [(b.number, b.plan_id, b.status) for b in timeline.blocks] == [
        (1, 101, "completed"), (2, None, "not planned"), (3, None, "not planned"),
    ]  # fmt: skip
    assert [b.label for b in timeline.blocks][1] == "Block 2: weeks 5 to 8"
    assert timeline.next_block == 2 and timeline.week_today is None


def test_the_week_today_counts_from_the_programme_start():
    blocks = [_block(1, "completed"), _block(2)]
    on = START + timedelta(days=28 + 15)  # block 2, its third week
    timeline = build_timeline(3, blocks, [], on)
    assert (timeline.block_today, timeline.week_today) == (2, 7)
    assert build_timeline(3, blocks, [], START + timedelta(days=28)).week_today == 5
    assert build_timeline(3, blocks, [], START + timedelta(days=27)).week_today == 4


def test_a_review_is_done_by_an_assessment_near_the_block_end_else_due():
    blocks = [_block(1, "completed"), _block(2)]
    late_in_block_1 = START + timedelta(days=22)  # 5 days before its end: counts
    too_early = START + timedelta(days=10)
    timeline = build_timeline(3, blocks, [too_early, late_in_block_1], START)
    first, second = timeline.reviews
    assert (first.after, first.done_on) == (1, late_in_block_1)
    assert (second.after, second.done_on) == (2, None)
    assert second.due_on == START + timedelta(days=56)
    assert build_timeline(3, blocks, [too_early], START).reviews[0].done_on is None


def test_adherence_is_done_over_prescribed_on_logged_days():
    timeline = build_timeline(1, [_block(1, days_logged=10, done=21, prescribed=30)], [], START)
    (block,) = timeline.blocks
    assert (block.days_logged, block.adherence) == (10, 0.7)
    assert timeline.reviews == () and timeline.next_block is None
    empty = build_timeline(1, [_block(1)], [], START).blocks[0]
    assert empty.adherence is None


def test_a_programme_ends_with_its_last_block_or_when_it_ended():
    end = date(2026, 3, 1)
    assert programme_end(end, 1, 3) == end + timedelta(weeks=8)
    assert programme_end(end, 3, 3) == end
    assert programme_end(end, 4, 3) == end  # a block past the count never ends it earlier
    assert programme_end(end, 1, 3, ended_on=date(2026, 2, 10)) == date(2026, 2, 10)


def test_the_next_block_opens_in_the_last_week_or_after_a_reassessment():
    from prescriptions.domain.timeline import next_block_offered_from

    end = START + timedelta(days=27)
    last_week = end - timedelta(days=6)
    assert next_block_offered_from(START, end, [], START) == last_week
    assert next_block_offered_from(START, end, [], last_week - timedelta(days=1)) == last_week
    assert next_block_offered_from(START, end, [], last_week) is None
    assert next_block_offered_from(START, end, [], end + timedelta(days=10)) is None
    # the baseline on the first day is no review; a reassessment during the block is
    day_10 = START + timedelta(days=10)
    assert next_block_offered_from(START, end, [START], day_10) == last_week
    assert next_block_offered_from(START, end, [START, day_10], day_10) is None
    # an assessment dated after today (a typo) opens nothing yet
    assert next_block_offered_from(START, end, [day_10], START + timedelta(days=5)) == last_week


def test_a_cancelled_latest_block_is_named():
    assert build_timeline(3, [_block(1, "cancelled")], [], START).cancelled_last == 1
    done_then_cancelled = [_block(1, "completed"), _block(2, "cancelled")]
    assert build_timeline(3, done_then_cancelled, [], START).cancelled_last == 2
    assert build_timeline(3, [_block(1, "cancelled"), _block(2)], [], START).cancelled_last is None
