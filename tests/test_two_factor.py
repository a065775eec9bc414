"""Two-factor sign-in with TOTP: enrolment, one-use codes, recovery codes, limits, the clinic's
requirement and an administrator's reset, all through the test client."""

from __future__ import annotations

import html
import io
import re
import subprocess
import time

import pyotp
import pytest
import sqlalchemy as sa

from prescriptions.auth import totp
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, RecoveryCode, User
from tests.factories import PASSWORD, login

REFUSED = "That code is not right, or it was used already."


def _secret(page: str) -> str:
    match = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>', page)
    assert match, page
    return match.group(1).replace(" ", "")


def _codes(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9-]{14})</code></li>", page)


def code_at(secret: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or a step later: still inside the window)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def enrol(client) -> tuple[str, list[str]]:
    """Turn on two-factor sign-in from the account page; the secret and the recovery codes."""
    assert client.post("/account/two-factor/start").status_code == 302
    page = client.get("/account/two-factor/enrol").get_data(as_text=True)
    secret = _secret(page)
    response = client.post("/account/two-factor/enrol", data={"code": code_at(secret)})
    assert response.status_code == 200, response.data
    codes = _codes(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _actions(app, clinic_id: int) -> list[str]:
    with app.app_context():
        stmt = sa.select(AuditEvent.action).where(AuditEvent.clinic_id == clinic_id)
        return list(db.session.scalars(stmt.order_by(AuditEvent.id)))


def test_enrol_then_sign_in_with_a_code(app, client, clinician):
    login(client, clinician.email)
    secret, _ = enrol(client)
    with app.app_context():
        user = db.session.get(User, clinician.id)
        assert user.totp_secret == secret and user.totp_pending_secret is None
    client.post("/logout")
    response = login(client, clinician.email)
    assert response.status_code == 302 and response.location.endswith("/login/code")
    assert client.get("/patients").status_code == 302  # the password alone signs no one in
    response = client.post("/login/code", data={"code": code_at(secret, 1)})
    assert response.status_code == 302 and response.location == "/"  # the start page
    assert client.get("/patients").status_code == 200
    actions = _actions(app, clinician.clinic_id)
    assert actions[-3:] == ["auth.password_accepted", "auth.second_factor", "auth.login"]
    assert "auth.two_factor_on" in actions


def test_a_code_is_accepted_once(app, client, clinician):
    login(client, clinician.email)
    secret, _ = enrol(client)
    client.post("/logout")
    code = code_at(secret, 1)
    login(client, clinician.email)
    assert client.post("/login/code", data={"code": code}).status_code == 302
    client.post("/logout")
    login(client, clinician.email)
    response = client.post("/login/code", data={"code": code})
    assert response.status_code == 400 and REFUSED in html.unescape(response.get_data(as_text=True))
    assert client.get("/patients").status_code == 302
    assert _actions(app, clinician.clinic_id)[-1] == "auth.second_factor_failed"


def test_the_enrolment_code_cannot_sign_in_again(app, client, clinician):
    login(client, clinician.email)
    assert client.post("/account/two-factor/start").status_code == 302
    secret = _secret(client.get("/account/two-factor/enrol").get_data(as_text=True))
    code = code_at(secret)
    assert client.post("/account/two-factor/enrol", data={"code": code}).status_code == 200
    client.post("/logout")
    login(client, clinician.email)
    assert client.post("/login/code", data={"code": code}).status_code == 400


def test_a_wrong_enrolment_code_leaves_two_factor_off(app, client, clinician):
    login(client, clinician.email)
    client.post("/account/two-factor/start")
    response = client.post("/account/two-factor/enrol", data={"code": "000000"})
    assert response.status_code == 400
    assert REFUSED in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(User, clinician.id).totp_secret is None
    assert _actions(app, clinician.clinic_id)[-1] == "auth.second_factor_failed"


def test_recovery_codes_are_stored_hashed_and_work_once(app, client, clinician):
    login(client, clinician.email)
    _, codes = enrol(client)
    assert len(set(codes)) == 10
    with app.app_context():
        stored = db.session.scalars(
            sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == clinician.id)
        ).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    # shown once: the account page only says how many are left
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert codes[0] not in page and "10 of your 10 recovery codes are left" in page
    client.post("/logout")
    login(client, clinician.email)
    typed = codes[3].upper().replace("-", " ")  # as copied from paper
    response = client.post("/login/code", data={"code": typed}, follow_redirects=True)
    assert response.status_code == 200 and "9 are left" in response.get_data(as_text=True)
    client.post("/logout")
    login(client, clinician.email)
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 400
    assert client.post("/login/code", data={"code": codes[4]}).status_code == 302


def test_wrong_codes_count_against_the_sign_in_limit(app, client, clinician):
    login(client, clinician.email)
    secret, _ = enrol(client)
    client.post("/logout")
    login(client, clinician.email)
    limit = app.config["LOGIN_LIMIT_PER_ACCOUNT"]
    for _ in range(limit):
        assert client.post("/login/code", data={"code": "123456"}).status_code == 400
    response = client.post("/login/code", data={"code": code_at(secret, 1)})  # even the right one
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert login(app.test_client(), clinician.email).status_code == 429  # the password waits too
    actions = _actions(app, clinician.clinic_id)
    assert actions.count("auth.second_factor_failed") == limit
    assert actions[-1] == "auth.login_throttled"


def test_the_second_step_expires_and_needs_the_first(app, client, clinician):
    assert client.get("/login/code").status_code == 302  # no password step yet
    login(client, clinician.email)
    secret, _ = enrol(client)
    client.post("/logout")
    login(client, clinician.email)
    with client.session_transaction() as session:
        pending = session["pending_sign_in"]
        pending["at"] -= app.config["SECOND_FACTOR_TIMEOUT"].total_seconds() + 1
        session["pending_sign_in"] = pending
    response = client.post("/login/code", data={"code": code_at(secret, 1)})
    assert response.status_code == 302 and response.location.endswith("/login")
    assert client.get("/patients").status_code == 302


def test_the_second_step_keeps_where_the_person_was_going(client, clinician):
    login(client, clinician.email)
    secret, _ = enrol(client)
    client.post("/logout")
    client.post("/login?next=/patients/new", data={"email": clinician.email, "password": PASSWORD})
    response = client.post("/login/code", data={"code": code_at(secret, 1)})
    assert response.location.endswith("/patients/new")


def test_a_clinic_can_require_two_factor(app, admin_client, client, clinician):
    response = admin_client.post("/admin/users/two-factor/require")
    assert response.status_code == 302
    response = login(client, clinician.email)
    assert response.location.endswith("/login/enrol")
    assert client.get("/patients").status_code == 302
    page = client.get("/login/enrol").get_data(as_text=True)
    assert '<svg role="img"' in page and "Your clinic asks everyone" in page
    response = client.post("/login/enrol", data={"code": code_at(_secret(page))})
    assert response.status_code == 200 and len(_codes(response.get_data(as_text=True))) == 10
    assert client.get("/patients").status_code == 200
    actions = _actions(app, clinician.clinic_id)
    assert "clinic.two_factor" in actions
    assert actions[-4:] == [
        "auth.password_accepted",
        "auth.two_factor_on",
        "auth.second_factor",
        "auth.login",
    ]
    admin_client.post("/admin/users/two-factor/relax")
    with app.app_context():
        assert not db.session.get(User, clinician.id).clinic.require_two_factor


def test_an_admin_resets_a_second_factor(app, admin_client, client, clinician, admin):
    login(client, clinician.email)
    enrol(client)
    assert "Reset second factor" in admin_client.get("/admin/users").get_data(as_text=True)
    response = admin_client.post(f"/admin/users/{clinician.id}/two-factor/reset")
    assert response.status_code == 302
    assert client.get("/patients").status_code == 302  # their sessions ended
    assert login(client, clinician.email).location == "/"  # the start page: password only now
    with app.app_context():
        user = db.session.get(User, clinician.id)
        assert user.totp_secret is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "auth.two_factor_reset")
        )
        assert (event.clinic_id, event.user_id, event.record_id) == (
            clinician.clinic_id,
            admin.id,
            clinician.id,
        )
    own = admin_client.post(f"/admin/users/{admin.id}/two-factor/reset", follow_redirects=True)
    assert "Ask another administrator" in own.get_data(as_text=True)


def test_the_qr_code_is_inline_svg_the_csp_allows_and_scans(app, client, clinician, tmp_path):
    login(client, clinician.email)
    client.post("/account/two-factor/start")
    response = client.get("/account/two-factor/enrol")
    page = response.get_data(as_text=True)
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    # Inline markup is part of the page, not an image load (img-src does not apply); it must
    # carry no style attribute or element (style-src 'self') and no script.
    assert "style" not in svg and "<script" not in svg and "href" not in svg
    assert 'role="img"' in svg and 'aria-label="' in svg
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "style-src 'self'" in csp
    # Scan it: draw the SVG, rasterise it, read it back with a barcode reader.
    zxingcpp = pytest.importorskip("zxingcpp")
    svg2rlg = pytest.importorskip("svglib.svglib").svg2rlg
    from PIL import Image
    from reportlab.graphics import renderPDF

    drawable = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" width="245" ', 1)
    renderPDF.drawToFile(svg2rlg(io.BytesIO(drawable.encode())), str(tmp_path / "qr.pdf"))
    subprocess.run(
        ["pdftoppm", "-r", "144", "-png", "-singlefile", tmp_path / "qr.pdf", tmp_path / "qr"],
        check=True,
    )
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png"))]
    with app.app_context():
        secret = db.session.get(User, clinician.id).totp_pending_secret
    assert found == [totp.provisioning_uri(secret, clinician.email, "FloorPlan")]


def test_totp_matching_accepts_one_step_of_drift_only():
    secret = pyotp.random_base32(32)
    now = 1_800_000_000.0
    step = totp.current_step(now)
    for offset in (-1, 0, 1):
        assert totp.matching_step(secret, pyotp.TOTP(secret).at(now + 30 * offset), now) == (
            step + offset
        )
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(now + 90), now) is None
    assert totp.matching_step(secret, "12345", now) is None
    assert totp.matching_step(secret, "abcdef", now) is None


def test_new_recovery_codes_need_a_code_and_replace_the_old(app, client, clinician):
    login(client, clinician.email)
    secret, old = enrol(client)
    response = client.post("/account/two-factor/recovery-codes", data={"code": "000000"})
    assert response.status_code == 400 and REFUSED in html.unescape(response.get_data(as_text=True))
    response = client.post("/account/two-factor/recovery-codes", data={"code": code_at(secret, 1)})
    assert response.status_code == 200
    new = _codes(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    # the same code again is refused: codes are good once here too
    again = client.post("/account/two-factor/recovery-codes", data={"code": code_at(secret, 1)})
    assert again.status_code == 400
    client.post("/logout")
    login(client, clinician.email)
    assert client.post("/login/code", data={"code": old[0]}).status_code == 400
    assert client.post("/login/code", data={"code": new[0]}).status_code == 302
    assert "auth.recovery_codes_new" in _actions(app, clinician.clinic_id)


def _refused_for_too_many(response) -> bool:
    text = response.get_data(as_text=True)
    return response.status_code == 429 and "Too many failed attempts" in text


def test_wrong_enrolment_codes_count_against_the_sign_in_limit(app, client, clinician):
    login(client, clinician.email)
    assert client.post("/account/two-factor/start").status_code == 302
    secret = _secret(client.get("/account/two-factor/enrol").get_data(as_text=True))
    for _ in range(app.config["LOGIN_LIMIT_PER_ACCOUNT"]):
        assert client.post("/account/two-factor/enrol", data={"code": "000000"}).status_code == 400
    # even the right code waits now, and two-factor stays off
    assert _refused_for_too_many(
        client.post("/account/two-factor/enrol", data={"code": code_at(secret)})
    )
    assert _actions(app, clinician.clinic_id)[-1] == "auth.login_throttled"
    with app.app_context():
        assert not db.session.get(User, clinician.id).has_two_factor


def test_wrong_codes_for_new_recovery_codes_count_against_the_sign_in_limit(app, client, clinician):
    login(client, clinician.email)
    secret, old = enrol(client)
    for _ in range(app.config["LOGIN_LIMIT_PER_ACCOUNT"]):
        response = client.post("/account/two-factor/recovery-codes", data={"code": "000000"})
        assert response.status_code == 400
    assert _refused_for_too_many(
        client.post("/account/two-factor/recovery-codes", data={"code": code_at(secret, 1)})
    )
    assert _actions(app, clinician.clinic_id)[-1] == "auth.login_throttled"
    with app.app_context():  # the old codes still stand
        assert db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == clinician.id, RecoveryCode.used_at.is_(None))
        ) == len(old)
