"""Snapshot in, PDF bytes out: one handout, or many in one file for batch printing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from functools import partial
from io import BytesIO

from reportlab.platypus import Flowable, NextPageTemplate, PageBreak, PageTemplate

from pdf.flow import Bookmark
from pdf.fonts import register_fonts
from pdf.layout import (
    HandoutDocTemplate,
    NumberedCanvas,
    make_decor,
    page_geometry,
    page_template,
)
from pdf.logsheet import log_sheets
from pdf.sections import (
    Part,
    approach_of,
    cover,
    exercise_sections,
    finding_the_muscles,
    letting_go_first,
    no_log_sheets,
    positions,
    staying_safe,
    week_tables,
)
from pdf.snapshot import HandoutOptions, HandoutSnapshot
from pdf.styles import handout_styles
from pdf.text import date_range, one_line


def _story(
    snap: HandoutSnapshot, options: HandoutOptions, width: float, index: int, level: int
) -> list[Flowable]:
    st = handout_styles(options.large_print)
    story: list[Flowable] = []

    def mark(key: str, title: str) -> Part:
        return Part(f"h{index}-{key}", title, level)

    if level:
        chart = one_line(snap.chart_number)
        story.append(
            Bookmark(f"h{index}", f"Handout {index + 1}" + (f", chart {chart}" if chart else ""))
        )
    if not options.log_sheets_only:
        story += cover(snap, st, width, mark("about", "About your plan"))
        if approach_of(snap) == "down_training":
            story += letting_go_first(st, width)
        story += finding_the_muscles(snap, st, width, mark("muscles", "Finding the right muscles"))
        story += positions(snap, st, width)
        story += exercise_sections(snap, st, width, mark("exercises", "Your exercises"))
        story += week_tables(snap, st, width, mark("weeks", "Week by week"))
        story += staying_safe(snap, st, width, mark("safety", "Staying safe"))
    for n, sheet in enumerate(log_sheets(snap, st, options.paper)):
        if story:
            story.append(PageBreak())
        if n == 0:
            story.append(Bookmark(f"h{index}-sheets", "Log sheets", level))
        story.append(sheet)
    return story or no_log_sheets(st)


def _handout(
    index: int, snap: HandoutSnapshot, options: HandoutOptions, batch: bool
) -> tuple[PageTemplate, list[Flowable]]:
    """One handout's page template and flowables; its pages are numbered as group `index`."""
    st = handout_styles(options.large_print)
    geometry = page_geometry(options.paper, st)
    decor = make_decor(snap, index, st, geometry)
    template_id = f"handout-{index}"
    return page_template(template_id, decor), _story(
        snap, options, geometry.frame_width, index, 1 if batch else 0
    )


def _build(
    jobs: list[tuple[HandoutSnapshot, HandoutOptions]], meta: dict[str, str], created: datetime
) -> bytes:
    templates: list[PageTemplate] = []
    story: list[Flowable] = []
    for index, (snap, options) in enumerate(jobs):
        template, flowables = _handout(index, snap, options, len(jobs) > 1)
        templates.append(template)
        if index:
            story += [NextPageTemplate(template.id), PageBreak()]
        story += flowables
    buffer = BytesIO()
    doc = HandoutDocTemplate(buffer, templates, register_fonts().regular, **meta)
    doc.build(story, canvasmaker=partial(NumberedCanvas, created=created))
    return buffer.getvalue()


def _meta(snap: HandoutSnapshot) -> dict[str, str]:
    # Title and subject show in print queues and browser tabs: no patient name in them.
    return {
        "title": one_line(snap.title) or "Home exercise plan",
        "author": one_line(snap.clinic.name),
        "subject": (
            f"Home exercise plan, {date_range(snap.start, snap.end)}, "
            f"version {snap.revision}{' (draft)' if snap.is_draft else ''}"
        ),
    }


def created_at(snap: HandoutSnapshot) -> datetime:
    """The PDF's creation date: when the plan was issued, else the morning it starts."""
    return snap.issued_at or datetime.combine(snap.start, time())


def render_handout(snapshot: HandoutSnapshot, options: HandoutOptions | None = None) -> bytes:
    """Render one patient handout to PDF bytes."""
    return _build([(snapshot, options or HandoutOptions())], _meta(snapshot), created_at(snapshot))


def render_handouts(jobs: Iterable[tuple[HandoutSnapshot, HandoutOptions]]) -> bytes:
    """Render several handouts into one PDF; each handout's pages count 'Page X of Y' alone."""
    jobs = list(jobs)
    if not jobs:
        raise ValueError("render_handouts needs at least one handout")
    if len(jobs) == 1:
        return render_handout(*jobs[0])
    clinics = list(dict.fromkeys(one_line(snap.clinic.name) for snap, _ in jobs))
    meta = {
        "title": f"Home exercise handouts ({len(jobs)})",
        "author": ", ".join(clinics),
        "subject": f"Batch of {len(jobs)} home exercise handouts",
    }
    return _build(jobs, meta, max(created_at(snap) for snap, _ in jobs))
