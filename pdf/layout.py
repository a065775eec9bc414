"""Page geometry, the document template, the page header/footer and the numbered canvas."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reportlab import rl_config
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from pdf.snapshot import HandoutSnapshot
from pdf.styles import ACCENT, INK, MUTED, RULE, WATERMARK, HandoutStyles
from pdf.text import fit, one_line, wrap

# Page and form streams stay binary (deflated only): ASCII85 on top made every one a quarter
# larger and slower to write, and a PDF is never sent as 7-bit text. Process-wide, as
# ReportLab reads it when a document is written.
rl_config.useA85 = 0

PAPER_SIZES: dict[str, tuple[float, float]] = {"a4": A4, "letter": LETTER}
SIDE_MARGIN = 18 * mm


@dataclass(frozen=True, slots=True)
class PageGeometry:
    """Where the header, the footer and the text frame sit on one paper size and print size."""

    width: float
    height: float
    left: float
    right: float
    top: float  # y of the top of the text frame
    bottom: float  # y of the bottom of the text frame
    header_y: float  # baseline of the header line
    footer_y: float  # baseline of the first footer line

    @property
    def frame_width(self) -> float:
        """Width of the text frame."""
        return self.right - self.left

    @property
    def frame_height(self) -> float:
        """Height of the text frame."""
        return self.top - self.bottom


def page_geometry(paper: str, styles: HandoutStyles) -> PageGeometry:
    """Lay out a page: a one-line header, a footer of up to three lines, the frame between."""
    width, height = PAPER_SIZES[paper]
    size = styles.header_size
    header_y = height - 9 * mm - size
    footer_y = 9 * mm + 2 * size * 1.3
    return PageGeometry(
        width=width,
        height=height,
        left=SIDE_MARGIN,
        right=width - SIDE_MARGIN,
        top=header_y - size * 0.6 - 5 * mm,
        bottom=footer_y + size + 4 * mm,
        header_y=header_y,
        footer_y=footer_y,
    )


@dataclass(frozen=True, slots=True)
class PageDecor:
    """The header, footer and watermark of one handout's pages."""

    group: int  # which handout of a batch the page belongs to, for "Page X of Y"
    clinic: str
    patient: str
    phone: str
    footer_text: str
    draft: bool
    styles: HandoutStyles
    geometry: PageGeometry
    emergency: str = ""

    def header(self, canv: Canvas) -> None:
        """Clinic name on the left, patient name on the right, a rule beneath."""
        g, s = self.geometry, self.styles
        size, fonts = s.header_size, s.fonts
        gap = 6 * mm
        patient = fit(self.patient, fonts.regular, size, g.frame_width * 0.45)
        patient_w = canv.stringWidth(patient, fonts.regular, size)
        clinic = fit(self.clinic, fonts.bold, size, g.frame_width - patient_w - gap)
        canv.saveState()
        canv.setFillColor(ACCENT)
        canv.setFont(fonts.bold, size)
        canv.drawString(g.left, g.header_y, clinic)
        canv.setFillColor(INK)
        canv.setFont(fonts.regular, size)
        canv.drawRightString(g.right, g.header_y, patient)
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.6)
        rule_y = g.header_y - size * 0.6
        canv.line(g.left, rule_y, g.right, rule_y)
        canv.restoreState()

    def footer(self, canv: Canvas, page: int, pages: int) -> None:
        """'Page X of Y' on the right; the clinic phone and footer text on the left."""
        g, s = self.geometry, self.styles
        size, fonts = s.header_size, s.fonts
        # The draft mark is text here, once per page, so extracted text never interleaves it.
        label = f"{'DRAFT · ' if self.draft else ''}Page {page} of {pages}"
        label_w = canv.stringWidth(label, fonts.bold, size)
        text_w = g.frame_width - label_w - 6 * mm
        call = f"Questions? Call {self.phone}" if self.phone else "Questions? Ask your therapist"
        small_print = self.footer_text
        if self.emergency:
            small_print = f"In an emergency, call {self.emergency}. {small_print}".strip()
        canv.saveState()
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.6)
        rule_y = g.footer_y + size * 1.3
        canv.line(g.left, rule_y, g.right, rule_y)
        canv.setFillColor(INK)
        canv.setFont(fonts.bold, size)
        canv.drawRightString(g.right, g.footer_y, label)
        canv.drawString(g.left, g.footer_y, fit(call, fonts.bold, size, text_w))
        if small_print:
            canv.setFillColor(MUTED)
            canv.setFont(fonts.regular, size)
            lines = wrap(small_print, fonts.regular, size, text_w, max_lines=2)
            for i, line in enumerate(lines):
                canv.drawString(g.left, g.footer_y - (i + 1) * size * 1.3, line)
        canv.restoreState()

    def watermark(self, canv: Canvas) -> None:
        """A large, translucent DRAFT across the page, drawn as strokes rather than text.

        As lines it never reaches the text layer, so copied or extracted text stays in order.
        """
        g = self.geometry
        height = g.width * 0.17
        advance = height * 0.78
        total = advance * len(_LETTERS) - height * 0.18
        canv.saveState()
        canv.setStrokeColor(WATERMARK)
        canv.setLineWidth(height * 0.14)
        canv.setLineCap(1)
        canv.setLineJoin(1)
        canv.translate(g.width / 2, g.height / 2)
        canv.rotate(50)
        path = canv.beginPath()
        for i, strokes in enumerate(_LETTERS):
            x0, y0 = -total / 2 + i * advance, -height / 2
            for stroke in strokes:
                path.moveTo(x0 + stroke[0] * height, y0 + stroke[1] * height)
                rest = stroke[2:]
                if len(rest) == 6:  # a curve: two control points and an end
                    pts = [(x0 + rest[j] * height, y0 + rest[j + 1] * height) for j in (0, 2, 4)]
                    path.curveTo(*pts[0], *pts[1], *pts[2])
                else:
                    for j in range(0, len(rest), 2):
                        path.lineTo(x0 + rest[j] * height, y0 + rest[j + 1] * height)
        canv.drawPath(path, stroke=1, fill=0)
        canv.restoreState()


# The letters of DRAFT as strokes in a unit-high box: polylines, or (x, y, c1, c2, end) curves.
_LETTERS: tuple[tuple[tuple[float, ...], ...], ...] = (
    ((0, 0, 0, 1), (0, 1, 0.8, 1, 0.8, 0, 0, 0)),  # D
    (
        (0, 0, 0, 1, 0.3, 1),
        (0.3, 1, 0.72, 1, 0.72, 0.5, 0.3, 0.5),
        (0.3, 0.5, 0, 0.5),
        (0.3, 0.5, 0.6, 0),
    ),
    ((0, 0, 0.3, 1, 0.6, 0), (0.12, 0.38, 0.48, 0.38)),  # A
    ((0, 0, 0, 1, 0.58, 1), (0, 0.52, 0.46, 0.52)),  # F
    ((0, 1, 0.6, 1), (0.3, 1, 0.3, 0)),  # T
)


def make_decor(
    snapshot: HandoutSnapshot, group: int, styles: HandoutStyles, geometry: PageGeometry
) -> PageDecor:
    """The page decor of one handout: its snapshot's header and footer text on single lines."""
    clinic = snapshot.clinic
    return PageDecor(
        group=group,
        clinic=one_line(clinic.name),
        patient=one_line(snapshot.patient_full_name),
        phone=one_line(clinic.phone),
        footer_text=one_line(clinic.footer_text),
        draft=snapshot.is_draft,
        styles=styles,
        geometry=geometry,
        emergency=one_line(clinic.emergency_number),
    )


def page_template(template_id: str, decor: PageDecor) -> PageTemplate:
    """A page template whose pages carry the decor's header, footer and watermark."""
    g = decor.geometry
    frame = Frame(
        g.left,
        g.bottom,
        g.frame_width,
        g.frame_height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id=f"{template_id}-body",
    )

    def on_page(canv: Canvas, doc: BaseDocTemplate) -> None:
        """Draw the header now; the footer waits for the page count."""
        decor.header(canv)
        canv.floorplan_decor = decor  # read back by NumberedCanvas.save for the footer

    def on_page_end(canv: Canvas, doc: BaseDocTemplate) -> None:
        """Lay the draft watermark over the finished page."""
        if decor.draft:
            decor.watermark(canv)

    return PageTemplate(
        id=template_id,
        frames=[frame],
        onPage=on_page,
        onPageEnd=on_page_end,
        pagesize=(g.width, g.height),
    )


def pdf_date(moment: datetime) -> str:
    """A PDF date string, 'D:20250303090000Z' (UTC; naive times are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("D:%Y%m%d%H%M%S+00'00'")


class NumberedCanvas(Canvas):
    """Holds pages back until the end so each footer can say 'Page X of Y' of its own handout."""

    def __init__(self, *args: Any, created: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_pages: list[dict[str, Any]] = []
        self._page_bookmarks: list[tuple[str, dict[str, Any]]] = []
        self.floorplan_decor: PageDecor | None = None
        if created is not None:
            # invariant=1 fixes every date to 2000; a fixed real date keeps the bytes identical.
            stamp = pdf_date(created)
            self._doc.info._dateFormatter = lambda *_: stamp
        self.showOutline()

    def bookmarkPage(self, key: str, **kwargs: Any) -> None:  # noqa: N802 - ReportLab's name
        """Note a bookmark on this page; it is made when the page is written out.

        ReportLab points a bookmark at the page the document is writing, and pages are held
        back here until save(): made now, every bookmark would point at the first page.
        """
        self._page_bookmarks.append((key, kwargs))

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        """Keep the finished page's state instead of writing it out."""
        self._held_pages.append(dict(self.__dict__))
        self._page_bookmarks = []
        self._startPage()

    def save(self) -> None:
        """Draw every footer, now that each handout's page count is known, then write."""
        totals = Counter(
            state["floorplan_decor"].group
            for state in self._held_pages
            if state["floorplan_decor"] is not None
        )
        seen: Counter[int] = Counter()
        for state in self._held_pages:
            self.__dict__.update(state)
            decor = self.floorplan_decor
            if decor is not None:
                seen[decor.group] += 1
                decor.footer(self, seen[decor.group], totals[decor.group])
            for key, kwargs in self._page_bookmarks:
                super().bookmarkPage(key, **kwargs)
            super().showPage()
        super().save()


class HandoutDocTemplate(BaseDocTemplate):
    """A document made of one or more handouts, each with its own page template."""

    def __init__(self, buffer: Any, templates: list[PageTemplate], font: str, **meta: str) -> None:
        first = templates[0]
        super().__init__(
            buffer,
            pagesize=first.pagesize,
            pageTemplates=templates,
            leftMargin=SIDE_MARGIN,
            rightMargin=SIDE_MARGIN,
            invariant=1,
            pageCompression=1,
            lang="en",
            creator="FloorPlan",
            # Each page opens by setting this font; the default would pull in Helvetica.
            initialFontName=font,
            **meta,
        )
