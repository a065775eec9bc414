"""The companion's QR code on the handout: it decodes to the link, and the sheet still reads."""

from __future__ import annotations

import subprocess  # nosec B404 - pdftoppm with fixed arguments on our own temporary files
import tempfile
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from pdf import render_handout
from pdf.sample import sample_snapshot
from pdf.snapshot import HandoutOptions
from sheets import read_file

URL = "https://clinic.example/p/uptv1ivgnzqkne6nglwxh9nfdw1lkgpa"


def _pages(pdf: bytes, first: int, last: int, dpi: int = 150) -> list[np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "h.pdf"
        src.write_bytes(pdf)
        subprocess.run(  # noqa: S603, S607 - fixed arguments
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", str(first), "-l", str(last),
             str(src), str(Path(tmp) / "p")],
            check=True,
        )  # fmt: skip
        return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(Path(tmp).glob("p*.png"))]


def _texts(page: np.ndarray) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)]


def test_the_cover_and_every_log_sheet_carry_the_link_and_the_sheet_still_reads() -> None:
    snap = replace(sample_snapshot(), companion_url=URL, companion_code="ABCD-EFGH-JKMN")
    sheets = render_handout(snap, HandoutOptions(log_sheets_only=True))
    full = render_handout(snap)
    (cover,) = _pages(full, 1, 1, dpi=90)
    assert URL in _texts(cover)
    pages = _pages(sheets, 1, 99, dpi=90)
    assert len(pages) >= 4
    assert all(URL in _texts(page) for page in pages)
    (sheet,) = _pages(sheets, 1, 1)
    ok, png = cv2.imencode(".png", sheet)
    (read,) = read_file(png.tobytes())  # the reader finds its own code, not the link
    assert read.spec.page == 0 and read.days  # its own geometry and answer areas


def test_without_a_link_no_second_code_is_printed() -> None:
    sheets = render_handout(sample_snapshot(), HandoutOptions(log_sheets_only=True))
    (page,) = _pages(sheets, 1, 1, dpi=90)
    assert not any(text.startswith("https://") for text in _texts(page))


@pytest.mark.parametrize(
    ("public_url", "served_at", "link_base"),
    [
        ("https://clinic.example", "http://localhost/", "https://clinic.example/p/"),
        # Under /floorplan (SCRIPT_NAME), PUBLIC_URL the site's origin: the prefix, once.
        ("https://clinic.example/", "http://localhost/floorplan/",
         "https://clinic.example/floorplan/p/"),
    ],
)  # fmt: skip
def test_the_handout_view_prints_the_patients_live_link(app_factory, make_clinic, make_user,
                                                       make_patient, make_plan, issue_plan,
                                                       public_url, served_at, link_base):  # fmt: skip
    from prescriptions.audit import Actor
    from prescriptions.companion.operations import issue_link
    from prescriptions.companion.tokens import link_key, token_for
    from prescriptions.extensions import db
    from prescriptions.models import Patient, User
    from tests.factories import committing, login

    app = app_factory(PUBLIC_URL=public_url)
    clinic = make_clinic()
    user = make_user(clinic)
    patient = make_patient(clinic)
    plan = issue_plan(make_plan(patient))
    key = link_key(app.config["SECRET_KEY"])
    with committing(app):
        link = issue_link(
            db.session.get(Patient, patient), key, Actor(db.session.get(User, user)), None
        )
        url = link_base + token_for(key, link.nonce)
        email = db.session.get(User, user).email
    client = app.test_client()
    login(client, email)
    response = client.get(f"/plans/{plan}/handout.pdf?sheets=1", base_url=served_at)
    assert response.status_code == 200
    (page,) = _pages(response.data, 1, 1, dpi=90)
    assert url in _texts(page)
