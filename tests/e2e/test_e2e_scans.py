"""Scan returned sheets in a real browser at 1366 px and 390 px: print, mark, photograph, upload,
check and save. Each page is checked with axe-core at both widths, must not scroll sideways on a
phone, and is kept as a screenshot (artifacts/screenshots/scans-*.png)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import pytest

from tests.e2e.browsing import (
    DESKTOP,
    Server,
    add_patient,
    issue_plan,
    look_at_both_widths,
    sign_in,
    start_plan,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

expect = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)"
).expect

DPI = 150


def _look(page: Page, name: str) -> None:
    look_at_both_widths(page, f"scans-{name}")


def _marked_week_one(handout: bytes, folder: Path) -> Path:
    """Week 1's sheet of a handout, rasterised, with day 1 marked in biro: two ticks, pain 4."""
    from pypdf import PdfReader, PdfWriter

    from sheets import read_file

    reader, writer = PdfReader(io.BytesIO(handout)), PdfWriter()
    writer.add_page(reader.pages[len(reader.pages) - 5])  # weeks 1-4 and the spare sheet close it
    one = folder / "week1.pdf"
    with one.open("wb") as out:
        writer.write(out)
    tool = shutil.which("pdftoppm")
    assert tool
    subprocess.run([tool, "-r", str(DPI), "-gray", "-png", "-singlefile", str(one),
                    str(folder / "week1")], check=True)  # fmt: skip
    page = cv2.imread(str(folder / "week1.png"), cv2.IMREAD_GRAYSCALE)
    layout = read_file((folder / "week1.png").read_bytes())[0].layout
    k = DPI / 72
    for a in layout.areas:
        if a.day == 0 and (a.field == "session" and (a.index or 0) < 2 or a.value == 4 and
                           a.field == "pain"):  # fmt: skip
            x0, y0, x1, y1 = (int(v * k) for v in a.box)
            cv2.line(page, (x0, y0), (x1, y1), 30, 3)
            cv2.line(page, (x0, y1), (x1, y0), 30, 3)
    path = folder / "photo.jpg"
    cv2.imwrite(str(path), page, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return path


def test_a_returned_sheet_scanned_checked_and_saved(
    clinic: Server, new_page: Callable[..., Page]
) -> None:
    page = new_page(clinic.url, DESKTOP)
    sign_in(page)
    add_patient(page, "Halina", "Kowalska", "RPH-2001")
    page.get_by_role("link", name="New plan").click()
    plan_id = start_plan(page, "Strengthening")
    page.get_by_label("Start date").fill((date.today() - timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Save the plan").click()
    expect(page).to_have_url(re.compile(rf"/plans/{plan_id}$"))  # saved before it is issued
    issue_plan(page)
    handout = page.request.get(f"/plans/{plan_id}/handout.pdf").body()

    page.get_by_role("link", name="Scan returned sheets").click()
    _look(page, "upload")
    with tempfile.TemporaryDirectory() as tmp:
        photo = _marked_week_one(handout, Path(tmp))
        page.get_by_label("Photo or scan of the returned sheets").set_input_files(str(photo))
        page.get_by_role("button", name="Read the sheets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check week 1 from the sheet")
    assert page.locator('[name="days-0-sessions_done"]').input_value() == "2"
    assert page.locator('[name="days-0-pain"]').input_value() == "4"
    assert page.locator('[name="days-1-sessions_done"]').input_value() == ""
    expect(page.locator("figure.scan-cell img").first).to_be_visible()
    _look(page, "confirm")
    page.get_by_role("button", name="Save week 1").click()
    expect(page).to_have_url(re.compile(rf"/plans/{plan_id}#progress$"))
    expect(page.get_by_text(re.compile("Week 1 log saved from the sheet"))).to_be_visible()
    assert not clinic.tracebacks()
