"""Snapshot in, PDF bytes out: one handout, or many in one file for batch printing."""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO

from reportlab.platypus import Flowable, NextPageTemplate, PageBreak, PageTemplate

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
    cover,
    dose_grid,
    exercise_sections,
    finding_the_muscles,
    no_log_sheets,
    when_to_stop,
)
from pdf.snapshot import HandoutOptions, HandoutSnapshot
from pdf.styles import handout_styles
from pdf.text import date_range, one_line


def _story(snap: HandoutSnapshot, options: HandoutOptions, width: float) -> list[Flowable]:
    st = handout_styles(options.large_print)
    story: list[Flowable] = []
    if not options.log_sheets_only:
        story += cover(snap, st, width)
        story += finding_the_muscles(snap, st)
        story += exercise_sections(snap, st)
        story += dose_grid(snap, st, width)
        story += when_to_stop(snap, st)
    for sheet in log_sheets(snap, st, options.paper):
        if story:
            story.append(PageBreak())
        story.append(sheet)
    return story or no_log_sheets(st)


def _handout(
    index: int, snap: HandoutSnapshot, options: HandoutOptions
) -> tuple[PageTemplate, list[Flowable]]:
    """One handout's page template and flowables; its pages are numbered as group `index`."""
    st = handout_styles(options.large_print)
    geometry = page_geometry(options.paper, st)
    decor = make_decor(
        group=index,
        clinic=snap.clinic.name,
        patient=snap.patient_full_name,
        phone=snap.clinic.phone,
        footer_text=snap.clinic.footer_text,
        draft=snap.is_draft,
        styles=st,
        geometry=geometry,
    )
    template_id = f"handout-{index}"
    return page_template(template_id, decor), _story(snap, options, geometry.frame_width)


def _build(jobs: list[tuple[HandoutSnapshot, HandoutOptions]], meta: dict[str, str]) -> bytes:
    templates: list[PageTemplate] = []
    story: list[Flowable] = []
    for index, (snap, options) in enumerate(jobs):
        template, flowables = _handout(index, snap, options)
        templates.append(template)
        if index:
            story += [NextPageTemplate(template.id), PageBreak()]
        story += flowables
    buffer = BytesIO()
    doc = HandoutDocTemplate(buffer, templates, register_fonts().regular, **meta)
    doc.build(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def _meta(snap: HandoutSnapshot) -> dict[str, str]:
    full_name = one_line(snap.patient_full_name)
    return {
        "title": f"{one_line(snap.title)}: {full_name}" if full_name else one_line(snap.title),
        "author": one_line(snap.clinic.name),
        "subject": (
            f"Home exercise plan for {full_name}, {date_range(snap.start, snap.end)}, "
            f"version {snap.revision}{' (draft)' if snap.is_draft else ''}"
        ),
    }


def render_handout(snapshot: HandoutSnapshot, options: HandoutOptions | None = None) -> bytes:
    """Render one patient handout to PDF bytes."""
    return _build([(snapshot, options or HandoutOptions())], _meta(snapshot))


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
    return _build(jobs, meta)
