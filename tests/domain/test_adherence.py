from datetime import date

from prescriptions.domain.adherence import (
    DayLog,
    overall,
    prescribed_per_day,
    summarise,
    week_days,
    week_of,
)
from prescriptions.domain.progression import BUILTIN_TEMPLATES
from prescriptions.web.charts import bar_chart, progress_charts

START = date(2026, 11, 2)


def test_weeks_and_days():
    assert week_days(START, 2)[0] == date(2026, 11, 9)
    assert week_days(START, 4)[-1] == date(2026, 11, 29)
    assert week_of(START, date(2026, 11, 1)) is None
    assert week_of(START, date(2026, 11, 8)) == 1
    assert week_of(START, date(2026, 11, 9)) == 2
    assert week_of(START, date(2026, 11, 30)) is None


def test_prescribed_per_day_is_the_busiest_exercise():
    items = BUILTIN_TEMPLATES["strengthening"].items
    assert prescribed_per_day(items, 1) == max(i.sessions_per_day for i in items if i.week == 1)
    assert prescribed_per_day((), 1) == 0


def test_summaries_count_only_logged_days():
    logs = [
        DayLog(date(2026, 11, 2), 3, 3, leaks=2, pain=1),
        DayLog(date(2026, 11, 3), 1, 3, leaks=None, pain=4),
        DayLog(date(2026, 11, 10), 0, 3, leaks=0, pain=None),
        DayLog(date(2026, 12, 30), 3, 3),  # outside the plan: ignored
    ]
    weeks = summarise(START, logs)
    assert [w.days_logged for w in weeks] == [2, 1, 0, 0]
    first, second, third, _ = weeks
    assert (first.done, first.prescribed, first.leaks, first.worst_pain) == (4, 6, 2, 4)
    assert first.adherence == 4 / 6
    assert second.adherence == 0 and second.leaks == 0 and second.worst_pain is None
    assert third.adherence is None and third.leaks is None
    assert overall(weeks) == 4 / 9
    assert overall(summarise(START, [])) is None


def test_charts_describe_themselves_in_words():
    weeks = summarise(START, [DayLog(date(2026, 11, 2), 2, 4, leaks=3, pain=2)])
    charts = progress_charts(weeks)
    assert "Week 1: 50%" in charts["adherence"].summary
    assert "Week 2: not logged" in charts["adherence"].summary
    assert charts["leaks"].bars[0].text == "21"  # 3 leaks on one logged day: 21 a week
    bars = bar_chart("x", ["a", "b"], [5, 10], ceiling=10).bars
    assert bars[1].height == 2 * bars[0].height
