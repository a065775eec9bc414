"""Clinic logos: sniffed, size-limited, re-encoded, stored in the database, printed."""

from __future__ import annotations

import io
import re

from PIL import Image
from pypdf import PdfReader

from prescriptions.admin.logos import MAX_PIXELS
from prescriptions.extensions import db
from prescriptions.models import Clinic


def _image(fmt: str, size=(1200, 300), colour=(11, 110, 114)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def _settings(client, **extra):
    page = client.get("/admin/clinic").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    data = {"name": "Harbour", "address": "", "phone": "0123", "email": "", "paper": "a4",
            "footer_text": "", "version": version}  # fmt: skip
    return client.post("/admin/clinic", data={**data, **extra}, content_type="multipart/form-data")


def test_logo_is_re_encoded_as_a_bounded_png(app, admin_client, admin):
    upload = _image("JPEG")
    response = _settings(admin_client, logo_upload=(io.BytesIO(upload), "logo.jpg"))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(Clinic, admin.clinic_id).logo
    assert stored != upload and stored.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(stored)) as image:
        assert image.width <= MAX_PIXELS[0] and image.height <= MAX_PIXELS[1]
    served = admin_client.get("/admin/clinic/logo.png")
    assert served.status_code == 200 and served.mimetype == "image/png"


def test_not_an_image_or_too_large_is_refused_beside_the_field(app, admin_client, admin):
    fake = _settings(admin_client, logo_upload=(io.BytesIO(b"<svg onload=alert(1)>"), "x.png"))
    assert fake.status_code == 400
    assert "Upload a PNG or JPEG image." in fake.get_data(as_text=True)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    assert (
        _settings(admin_client, logo_upload=(io.BytesIO(gif.getvalue()), "x.gif")).status_code
        == 400
    )
    big = io.BytesIO(b"\x89PNG" + b"0" * (app.config["LOGO_MAX_BYTES"] + 10))
    response = _settings(admin_client, logo_upload=(big, "big.png"))
    assert response.status_code == 400 and "larger than 512 KB" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Clinic, admin.clinic_id).logo is None


def test_logo_prints_on_the_handout_and_can_be_removed(app, admin_client, admin, make_patient):
    from tests.factories import new_plan

    _settings(admin_client, logo_upload=(io.BytesIO(_image("PNG")), "logo.png"))
    patient = make_patient(admin.clinic_id)
    plan = new_plan(admin_client, patient)
    pdf = PdfReader(io.BytesIO(admin_client.get(f"/plans/{plan}/handout.pdf").data))
    assert any(page.images for page in pdf.pages)
    assert _settings(admin_client, remove_logo="y").status_code == 302
    with app.app_context():
        assert db.session.get(Clinic, admin.clinic_id).logo is None
    assert admin_client.get("/admin/clinic/logo.png").status_code == 404
