"""The renderer's parts on their own: tick-box geometry, text helpers, and what pdf/ imports."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pdf import Dose
from pdf.fonts import register_fonts
from pdf.logsheet import session_boxes
from pdf.text import clean, date_range, dose_lines, dose_sentence, fit, markup, short_range, wrap

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> str:
    out = subprocess.run(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", code, str(ROOT)], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


@pytest.mark.parametrize("count", range(0, 41))
@pytest.mark.parametrize(("width", "height", "preferred"), [(130, 26, 15), (60, 20, 20)])
def test_session_boxes_are_exactly_count_inside_the_cell_and_apart(
    count: int, width: float, height: float, preferred: float
) -> None:
    boxes = session_boxes(count, width, height, preferred)
    assert len(boxes) == count
    for box in boxes:
        assert box.size <= preferred
        assert box.x >= 0 and box.x + box.size <= width + 1e-6
        assert box.y >= 0 and box.y + box.size <= height + 1e-6
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a.x + a.size <= b.x or b.x + b.size <= a.x
            apart = apart or a.y + a.size <= b.y or b.y + b.size <= a.y
            assert apart


def test_markup_escapes_and_keeps_line_breaks() -> None:
    assert markup('A & <b>B</b>\n<font color="red">x</font>') == (
        'A &amp; &lt;b&gt;B&lt;/b&gt;<br/>&lt;font color="red"&gt;x&lt;/font&gt;'
    )


def test_clean_drops_control_characters_and_lone_surrogates() -> None:
    assert clean("a\x00b\x07c\r\nd\te\ud800f") == "abc\nd ef"
    assert clean("  many   spaces \n\n\n\n next ") == "many spaces\n\nnext"


def test_fit_and_wrap_never_exceed_the_width() -> None:
    fonts = register_fonts()
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = "Ł" + "w" * 299 + " and some words after it"
    assert stringWidth(fit(text, fonts.regular, 10, 100), fonts.regular, 10) <= 100
    lines = wrap(text, fonts.bold, 10, 120, max_lines=2)
    assert len(lines) == 2
    assert all(stringWidth(line, fonts.bold, 10) <= 120 for line in lines)


def test_dates_read_plainly() -> None:
    assert date_range(date(2025, 3, 3), date(2025, 3, 30)) == "3 to 30 March 2025"
    assert date_range(date(2025, 3, 28), date(2025, 4, 3)) == "28 March to 3 April 2025"
    assert date_range(date(2025, 12, 29), date(2026, 1, 4)) == (
        "29 December 2025 to 4 January 2026"
    )
    assert short_range(date(2025, 3, 3), date(2025, 3, 9)) == "3–9 Mar"
    assert short_range(date(2025, 3, 31), date(2025, 4, 6)) == "31 Mar–6 Apr"


def test_dose_text() -> None:
    dose = Dose("slow", "Slow holds", "Sitting", 5, 10, 8, 1, 3)
    assert [line.replace("\u00a0", " ") for line in dose_lines(dose, 3)] == [
        "Hold 5 s",
        "Rest 10 s",
        "8 times",
        "Sitting",
    ]
    gentle = Dose("k", "Gentle squeeze", "Lying", 3, 10, 5, 2, 2, effort_pct=40, note="Then drop")
    assert [line.replace("\u00a0", " ") for line in dose_lines(gentle, 3)] == [
        "Hold 3 s",
        "Rest 10 s",
        "2 sets of 5, 2 times a day",
        "Lying, 40% effort",
        "Then drop",
    ]
    assert dose_sentence(dose).replace("\u00a0", " ") == (
        "Slow holds: hold 5 s, rest 10 s, 8 times, sitting"
    )


def test_pdf_imports_neither_the_web_app_nor_the_database() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import pdf, pdf.sample; from pdf import render_handout;"
        "render_handout(pdf.sample.sample_snapshot());"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'sqlalchemy', 'prescriptions', 'flask_sqlalchemy'});"
        "print(','.join(bad))"
    )
    assert run_python(code) == ""


def test_fonts_and_styles_wait_for_the_first_render() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import pdf, pdf.sample, pdf.styles, pdf.fonts;"
        "from reportlab.pdfbase import pdfmetrics;"
        "before = 'FloorPlanSans' in pdfmetrics.getRegisteredFontNames();"
        "info = pdf.styles.handout_styles.cache_info().currsize;"
        "pdf.render_handout(pdf.sample.sample_snapshot());"
        "after = 'FloorPlanSans' in pdfmetrics.getRegisteredFontNames();"
        "print(before, info, after)"
    )
    assert run_python(code) == "False 0 True"


def _sheet_pixels(pdf: bytes, page: int, folder: Path) -> list[int]:
    source = folder / "sheet.pdf"
    source.write_bytes(pdf)
    subprocess.run(  # noqa: S603, S607 - poppler on our own file, fixed arguments
        ["pdftoppm", "-r", "40", "-gray", "-f", str(page), "-l", str(page), str(source),
         str(folder / "page")],
        check=True,
    )  # fmt: skip
    (image,) = folder.glob("page*.pgm")
    data = image.read_bytes()
    image.unlink()
    return list(data[data.index(b"255\n") + 4 :])


@pytest.mark.parametrize("large", [False, True])
def test_circles_drawn_as_shared_forms_look_as_circles_drawn_one_by_one(
    large: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pdf import HandoutOptions, render_handout
    from pdf.logsheet import LogSheet
    from pdf.sample import sample_snapshot

    snap, options = sample_snapshot(), HandoutOptions(large_print=large, log_sheets_only=True)
    shared = render_handout(snap, options)
    monkeypatch.setattr(LogSheet, "plain", True)
    plain = render_handout(snap, options)
    assert shared != plain
    # Each row of circles is one form, every day's row of the same scale reusing it; so is
    # each corner marker (four per paper and print size), and each sheet's own QR code.
    forms = shared.count(b"/Subtype /Form")
    pages = len(re.findall(rb"/Type /Page\b(?!s)", shared))
    assert forms <= 3 + 4 + pages
    assert len(shared) < len(plain) * 0.8
    for page in (1, 2):
        a, b = _sheet_pixels(shared, page, tmp_path), _sheet_pixels(plain, page, tmp_path)
        assert len(a) == len(b)
        assert sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a) < 0.05
