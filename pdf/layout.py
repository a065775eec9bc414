"""Page geometry, the document template, the page header/footer and the numbered canvas."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from pdf.styles import ACCENT, INK, MUTED, RULE, WATERMARK, HandoutStyles
from pdf.text import fit, one_line, wrap

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
        label = f"Page {page} of {pages}"
        label_w = canv.stringWidth(label, fonts.bold, size)
        text_w = g.frame_width - label_w - 6 * mm
        call = f"Questions? Call {self.phone}" if self.phone else "Questions? Ask your therapist"
        canv.saveState()
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.6)
        rule_y = g.footer_y + size * 1.3
        canv.line(g.left, rule_y, g.right, rule_y)
        canv.setFillColor(INK)
        canv.setFont(fonts.bold, size)
        canv.drawRightString(g.right, g.footer_y, label)
        canv.drawString(g.left, g.footer_y, fit(call, fonts.bold, size, text_w))
        if self.footer_text:
            canv.setFillColor(MUTED)
            canv.setFont(fonts.regular, size)
            lines = wrap(self.footer_text, fonts.regular, size, text_w, max_lines=2)
            for i, line in enumerate(lines):
                canv.drawString(g.left, g.footer_y - (i + 1) * size * 1.3, line)
        canv.restoreState()

    def watermark(self, canv: Canvas) -> None:
        """A large, translucent DRAFT across the page, over the content so nothing hides it."""
        g, fonts = self.geometry, self.styles.fonts
        size = g.width * 0.24
        canv.saveState()
        canv.setFillColor(WATERMARK)
        canv.setFont(fonts.bold, size)
        canv.translate(g.width / 2, g.height / 2)
        canv.rotate(50)
        canv.drawCentredString(0, -size * 0.35, "DRAFT")
        canv.restoreState()


def make_decor(
    group: int,
    clinic: str,
    patient: str,
    phone: str,
    footer_text: str,
    draft: bool,
    styles: HandoutStyles,
    geometry: PageGeometry,
) -> PageDecor:
    """Build a PageDecor from raw snapshot text, folded onto single lines."""
    return PageDecor(
        group=group,
        clinic=one_line(clinic),
        patient=one_line(patient),
        phone=one_line(phone),
        footer_text=one_line(footer_text),
        draft=draft,
        styles=styles,
        geometry=geometry,
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


class NumberedCanvas(Canvas):
    """Holds pages back until the end so each footer can say 'Page X of Y' of its own handout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_pages: list[dict[str, Any]] = []
        self.floorplan_decor: PageDecor | None = None

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        """Keep the finished page's state instead of writing it out."""
        self._held_pages.append(dict(self.__dict__))
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
