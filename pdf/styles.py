"""Type sizes, colours and paragraph styles for normal and large print, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle

from pdf.fonts import Fonts, register_fonts

INK = HexColor("#1A1A1A")  # near-black: high contrast without the glare of pure black on white
ACCENT = HexColor("#0E4D64")  # headings and rules; contrast over 9:1 on white
ACCENT_SOFT = HexColor("#4C8EA3")  # chart bars
TINT = HexColor("#E9F2F5")  # boxes and table headers
TINT_WARM = HexColor("#FBF1E6")  # the "get help now" grade
TINT_SAFE = HexColor("#F6F6F2")  # the "call us the same day" grade
RULE = HexColor("#8A9BA3")
GRID = HexColor("#5E6E75")
MUTED = HexColor("#3F4A4F")  # secondary text, still well above 7:1 on white
WATERMARK = Color(0.75, 0.1, 0.1, alpha=0.16)


@dataclass(frozen=True, slots=True)
class HandoutStyles:
    """Everything size-dependent: paragraph styles plus the sizes canvas drawing uses."""

    fonts: Fonts
    large: bool
    body_size: float
    leading: float
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    body: ParagraphStyle
    bullet: ParagraphStyle
    step: ParagraphStyle
    label: ParagraphStyle
    note: ParagraphStyle
    callout: ParagraphStyle
    callout_plain: ParagraphStyle  # a bold line inside a box (the safety grades' actions)
    h3_box: ParagraphStyle  # a heading at the top of a box
    clinic_name: ParagraphStyle
    clinic_line: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    header_size: float  # page header and footer
    sheet_title_size: float  # log sheet title
    sheet_size: float  # log sheet labels and instructions
    sheet_small: float  # log sheet column headings
    chart_size: float


def _style(name: str, font: str, size: float, **kw: object) -> ParagraphStyle:
    kw.setdefault("leading", round(size * 1.5, 1))
    kw.setdefault("textColor", INK)
    return ParagraphStyle(name, fontName=font, fontSize=size, alignment=TA_LEFT, **kw)


def _boxed(
    name: str, font: str, size: float, colour: Color, pad: float, before: float
) -> ParagraphStyle:
    """A paragraph in a tinted box, indented by its padding so the box lines up with the margins."""
    return _style(name, font, size, backColor=colour, borderPadding=pad, leftIndent=pad,
                  rightIndent=pad, spaceBefore=before, spaceAfter=pad * 1.8)  # fmt: skip


@cache
def handout_styles(large: bool) -> HandoutStyles:
    """Return the styles for normal (12 pt body) or large (16 pt body) print."""
    fonts = register_fonts()
    reg, bold = fonts.regular, fonts.bold
    body = 16.0 if large else 12.0
    lead = body * 1.5
    gap = body * 0.5
    bullet_indent = body * 1.4
    return HandoutStyles(
        fonts=fonts,
        large=large,
        body_size=body,
        leading=lead,
        title=_style("title", bold, body * 2, leading=body * 2.5, textColor=ACCENT, spaceAfter=gap),
        subtitle=_style("subtitle", bold, body * 1.35, spaceAfter=gap),
        h2=_style(
            "h2",
            bold,
            body * 1.45,
            leading=body * 1.9,
            textColor=ACCENT,
            spaceBefore=body * 0.8,
            spaceAfter=gap * 0.6,
        ),
        h3=_style("h3", bold, body * 1.08, spaceBefore=gap * 0.8, spaceAfter=0),
        body=_style("body", reg, body, spaceAfter=gap * 0.6),
        bullet=_style(
            "bullet",
            reg,
            body,
            leftIndent=bullet_indent,
            bulletIndent=body * 0.2,
            bulletFontName=bold,
            bulletFontSize=body,
            spaceAfter=gap * 0.2,
        ),
        step=_style(
            "step",
            reg,
            body,
            leftIndent=body * 1.8,  # room for a bold "10." before the text
            bulletIndent=0,
            bulletFontName=bold,
            bulletFontSize=body,
            spaceAfter=gap * 0.3,
        ),
        label=_style("label", bold, body, textColor=MUTED),
        note=_boxed("note", reg, body, TINT, gap, before=gap * 1.4),
        callout=_boxed("callout", bold, body * 1.08, TINT_WARM, gap, before=gap * 1.6),
        callout_plain=_style("callout_plain", bold, body, spaceAfter=gap * 0.6),
        h3_box=_style("h3_box", bold, body * 1.2, textColor=ACCENT, spaceAfter=gap * 0.3),
        clinic_name=_style("clinic_name", bold, body * 1.25, textColor=ACCENT),
        # Large print means every text at 16 pt or more: no smaller contact line there.
        clinic_line=_style(
            "clinic_line", reg, body if large else body * 0.92, textColor=MUTED, leading=body * 1.3
        ),
        cell=_style("cell", reg, body, leading=body * 1.3),
        cell_head=_style("cell_head", bold, body, leading=body * 1.3),
        header_size=14.0 if large else 9.5,
        sheet_title_size=body * 1.45,
        sheet_size=body,
        sheet_small=13.0 if large else 10.0,
        chart_size=16.0 if large else 10.0,
    )
