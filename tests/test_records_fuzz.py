"""Fuzzing the weekly log form (harness: tests/fuzzing.py)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from hypothesis import strategies as st

from prescriptions.domain.adherence import prescribed_per_day
from prescriptions.extensions import db
from prescriptions.mapping.plans import plan_items
from prescriptions.models import LogEntry, Plan
from tests.factories import whole_week
from tests.fuzzing import (
    FUZZ,
    MISSING,
    Data,
    Target,
    World,
    any_rows,
    bad_number,
    bad_text,
    fuzz,
    line,
    not_one_of,
    numbers,
    one_row_kept,
    rows,
)

pytestmark = FUZZ


def test_fuzz_weekly_log(app: Flask, world: World) -> None:
    """One filled day (day 0 of a week not logged yet), the rest of the week sent back empty."""
    plans = [world.issued()]

    def free_week() -> tuple[int, int, int, dict[int, str]]:
        with app.app_context():
            for plan_id in plans:
                plan = db.session.get(Plan, plan_id)
                logged = {
                    e.day: e.version
                    for e in db.session.scalars(
                        sa.select(LogEntry).where(LogEntry.plan_id == plan_id)
                    )
                }
                for week in (1, 2, 3, 4):
                    first = plan.start_date + timedelta(days=7 * (week - 1))
                    if first not in logged:
                        versions = {
                            d: str(logged.get(first + timedelta(days=d), "")) for d in range(7)
                        }
                        prescribed = prescribed_per_day(plan_items(plan.items), week)
                        return plan_id, week, prescribed, versions
        plans.append(world.issued())
        return free_week()

    state: dict[str, int] = {}

    def baseline(n: int) -> tuple[str, Data]:
        plan_id, week, prescribed, versions = free_week()
        state["prescribed"] = prescribed
        filled = {f"days-{d}-version": v for d, v in versions.items()}
        filled |= {"days-0-sessions_done": "1", "days-0-leaks": "2", "days-0-note": "ok"}
        return f"/plans/{plan_id}/weeks/{week}/log", whole_week(filled)

    # Every plan week of the strengthening template prescribes at least 2 sessions a day.
    fuzz(
        app,
        Target(
            "weekly log",
            baseline,
            lambda: world.client,
            # The block's running totals (programme_block_sums) follow the day in the same write.
            writes={
                "log_entry": any_rows,
                "audit_event": rows(1),
                "programme_block_sums": one_row_kept,
            },
            target="log_entry",
            valid={
                "days-0-sessions_done": numbers(0, 2, optional=False),
                "days-0-longest_hold_s": numbers(0, 120),
                "days-0-leaks": numbers(0, 50),
                "days-0-leak_trigger": line(120, required=False),
                "days-0-urgency": st.sampled_from(["", "0", "1", "2", "3"]),
                "days-0-pain": numbers(0, 10),
                "days-0-note": line(300, required=False),
                # a new day carries no version; a tampered one is ignored, never a crash
                "days-0-version": st.sampled_from(["", "x", "²"]),
            },
            invalid={
                "days-0-sessions_done": st.one_of(
                    bad_number(0, 10), st.just(""), st.just("11"), st.just(MISSING)
                ),
                "days-0-longest_hold_s": bad_number(0, 120),
                "days-0-leaks": bad_number(0, 50),
                "days-0-leak_trigger": bad_text(120, required=False),
                "days-0-urgency": not_one_of(["", "0", "1", "2", "3"]),
                "days-0-pain": bad_number(0, 10),
                "days-0-note": bad_text(300, required=False),
                "days-6-sessions_done": st.just(MISSING),
            },
            rejected=(400, 409),
        ),
    )
    assert state["prescribed"] >= 2
