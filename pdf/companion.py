"""The patient's companion link on paper: a QR code with a line of words and the short code.

On the cover it is a flowable; on each log sheet it is drawn in the foot's bottom-right
corner, clear of the sheet reader's code (top right), corner marks and answer areas.
"""

from __future__ import annotations

import hashlib

import segno
from reportlab.lib.colors import black
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from pdf.styles import HandoutStyles
from pdf.text import wrap

MM = 72 / 25.4
SHEET_QR = 17 * MM  #: the QR's side on a log sheet
COVER_QR = 26 * MM
SCAN_WORDS = "Scan with your phone's camera to open your plan, or type this code at"


#: the side a QR form is drawn at, then scaled to where it goes
_UNIT = 100.0


def draw_qr(canv: Canvas, text: str, x: float, y: float, side: float) -> None:
    """A QR code with its lower-left corner at (x, y) in canvas units.

    Drawn once per document as a form XObject (the same link is on every sheet) and placed
    scaled wherever it appears.
    """
    name = "companionqr" + hashlib.sha256(text.encode()).hexdigest()[:16]
    if not canv.hasForm(name):
        canv.beginForm(name, 0, 0, _UNIT, _UNIT)
        _paint(canv, text)
        canv.endForm()
    canv.saveState()
    canv.translate(x, y)
    canv.scale(side / _UNIT, side / _UNIT)
    canv.doForm(name)
    canv.restoreState()


def _paint(canv: Canvas, text: str) -> None:
    matrix = segno.make(text, error="m", micro=False).matrix
    n = len(matrix) + 8  # the four-module quiet zone on every side
    cell = _UNIT / n
    path = canv.beginPath()
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                px, py = (4 + start) * cell, _UNIT - (4 + r + 1) * cell
                path.rect(px, py, (c - start) * cell, cell)
            else:
                c += 1
    canv.setFillColor(black)
    canv.drawPath(path, stroke=0, fill=1)


def code_address(url: str) -> str:
    """Where the short code is typed: the link's site and /p."""
    return url.split("/p/", 1)[0] + "/p"


class CompanionBox(Flowable):
    """The cover's QR code and, beside it, what it is for and the code to type."""

    def __init__(self, url: str, code: str, st: HandoutStyles) -> None:
        super().__init__()
        self.url, self.code, self.st = url, code, st

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        fonts, size = self.st.fonts, self.st.body_size
        room = availWidth - COVER_QR - 3 * MM
        self.lines = [
            *wrap(SCAN_WORDS, fonts.regular, size, room),
            *wrap(f"{code_address(self.url)}:", fonts.regular, size, room),
        ]
        self.width = availWidth
        self.height = max(COVER_QR, size * 1.6 + (len(self.lines) + 2) * size * 1.3)
        return availWidth, self.height

    def draw(self) -> None:
        canv = self.canv
        fonts, size = self.st.fonts, self.st.body_size
        draw_qr(canv, self.url, 0, self.height - COVER_QR, COVER_QR)
        x = COVER_QR + 3 * MM
        y = self.height - size * 1.4
        canv.setFont(fonts.bold, size)
        canv.drawString(x, y, "Your plan on your phone")
        canv.setFont(fonts.regular, size)
        for line in self.lines:
            y -= size * 1.3
            canv.drawString(x, y, line)
        canv.setFont(fonts.bold, size)
        canv.drawString(x, y - size * 1.4, self.code)


def draw_sheet_qr(
    canv: Canvas, url: str, foot: tuple[float, float, float, float], page_h: float
) -> None:
    """The companion QR in the foot's bottom-right corner (foot in top-left page points)."""
    _, _, x1, bottom = foot
    draw_qr(canv, url, x1 - SHEET_QR, page_h - bottom, SHEET_QR)
