"""The handout's one typeface: DejaVu Sans, shipped with the package and embedded as a subset."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).with_name("fonts")


@dataclass(frozen=True, slots=True)
class Fonts:
    """Registered font names."""

    regular: str
    bold: str


@cache
def register_fonts() -> Fonts:
    """Register DejaVu Sans (regular and bold) with ReportLab, once per process."""
    fonts = Fonts(regular="FloorPlanSans", bold="FloorPlanSans-Bold")
    # validate=0 skips checksumming the font files: they ship with the package.
    pdfmetrics.registerFont(TTFont(fonts.regular, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(fonts.bold, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    # No italics in a patient handout: <i> falls back to the upright faces.
    addMapping(fonts.regular, 0, 0, fonts.regular)
    addMapping(fonts.regular, 1, 0, fonts.bold)
    addMapping(fonts.regular, 0, 1, fonts.regular)
    addMapping(fonts.regular, 1, 1, fonts.bold)
    return fonts
