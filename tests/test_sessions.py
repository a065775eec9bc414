"""Session lifetime, session ids, server-side session ending and login rate limits."""

from __future__ import annotations

import time

from prescriptions.extensions import db
from prescriptions.models import AuditEvent, User
from tests.factories import PASSWORD, count, login


def test_idle_timeout(app, signed_in):
    assert signed_in.get("/patients").status_code == 200
    with signed_in.session_transaction() as session:
        session["seen_at"] = time.time() - app.config["IDLE_TIMEOUT"].total_seconds() - 5
    response = signed_in.get("/patients")
    assert response.status_code == 302 and "/login" in response.location
    assert signed_in.get("/patients").status_code == 302  # the session is gone, not just paused


def test_activity_keeps_the_session_alive(app, signed_in):
    with signed_in.session_transaction() as session:
        session["seen_at"] = time.time() - app.config["IDLE_TIMEOUT"].total_seconds() + 60
    assert signed_in.get("/patients").status_code == 200
    with signed_in.session_transaction() as session:
        assert time.time() - session["seen_at"] < 5


def test_absolute_timeout_even_when_active(app, signed_in):
    with signed_in.session_transaction() as session:
        session["auth_at"] = time.time() - app.config["ABSOLUTE_TIMEOUT"].total_seconds() - 5
    response = signed_in.get("/patients")
    assert response.status_code == 302 and "/login" in response.location


def _cookie(client) -> str:
    """The session cookie the browser holds now."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def _contents(app, cookie: str) -> dict:
    """What a session cookie carries (Flask signs it; the test app knows the key)."""
    return dict(app.session_interface.get_signing_serializer(app).loads(cookie))


def test_a_new_session_id_at_every_sign_in(app, client, clinician):
    """Sign-in replaces the session: a new cookie, nothing planted before it kept, a new CSRF
    secret, and Flask-Login's user id carrying the account's current session version, so a
    cookie from an earlier sign-in is worthless once that session ended."""
    client.get("/login")  # an anonymous session with a CSRF secret, as an attacker could obtain
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = _cookie(client)
    anonymous = _contents(app, before)
    assert anonymous.get("planted") == "by an attacker" and "_user_id" not in anonymous

    response = login(client, clinician.email)
    assert any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))
    first_cookie = _cookie(client)
    first = _contents(app, first_cookie)
    assert first_cookie != before
    assert "planted" not in first  # nothing from before sign-in carries over
    assert first["csrf_token"] != anonymous.get("csrf_token")  # a token seen before is useless
    with app.app_context():
        version = db.session.get(User, clinician.id).session_version
    assert first["_user_id"] == f"{clinician.id}:{version}"

    client.post("/logout")
    login(client, clinician.email)
    second_cookie = _cookie(client)
    second = _contents(app, second_cookie)
    assert second_cookie != first_cookie
    assert second["_user_id"] != first["_user_id"]
    assert second["csrf_token"] != first["csrf_token"]
    assert client.get("/patients").status_code == 200
    # the first sign-in's cookie, kept by someone, no longer signs anyone in
    thief = app.test_client()
    thief.set_cookie("session", first_cookie)
    response = thief.get("/patients")
    assert response.status_code == 302 and "/login" in response.location


def test_logout_ends_the_session_on_the_server(app, client, clinician):
    login(client, clinician.email)
    with client.session_transaction() as session:
        stolen = dict(session)  # a copy of the cookie's contents, as an attacker might keep
    client.post("/logout")
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(stolen)
    response = thief.get("/patients")
    assert response.status_code == 302 and "/login" in response.location


def test_deactivation_ends_open_sessions(app, admin_client, clinician):
    other = app.test_client()
    login(other, clinician.email)
    assert other.get("/patients").status_code == 200
    admin_client.post(f"/admin/users/{clinician.id}/deactivate")
    assert other.get("/patients").status_code == 302


def test_login_is_limited_per_account(app, client, clinician):
    limit = app.config["LOGIN_LIMIT_PER_ACCOUNT"]
    for _ in range(limit):
        assert login(client, clinician.email, "wrong password here").status_code == 400
    response = login(client, clinician.email)  # even the right password waits now
    assert response.status_code == 429
    assert "Too many failed attempts. Please wait 15 minutes" in response.get_data(as_text=True)
    assert client.get("/patients").status_code == 302
    # another account from the same address is not blocked by this one's failures
    with app.app_context():
        other_email = db.session.get(User, clinician.id).email.replace("user", "other")
    assert login(client, other_email, "x" * 12).status_code == 400
    assert count(AuditEvent, app, action="auth.login_failed") == limit + 1
    assert count(AuditEvent, app, action="auth.login_throttled") == 1


def test_login_is_limited_per_address(app, clinician):
    limit = app.config["LOGIN_LIMIT_PER_ADDRESS"]
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for n in range(limit):
        login(attacker, f"guess{n}@nowhere.test", "wrong password here")
    response = login(attacker, clinician.email)
    assert response.status_code == 429
    neighbour = app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert login(neighbour, clinician.email, PASSWORD).status_code == 302


def test_old_failures_fall_out_of_the_window(app, client, clinician):
    from datetime import timedelta

    import sqlalchemy as sa

    from prescriptions.models import SignInCounter

    for _ in range(app.config["LOGIN_LIMIT_PER_ACCOUNT"]):
        login(client, clinician.email, "wrong password here")
    assert login(client, clinician.email).status_code == 429
    with app.app_context():  # the window began longer ago than it lasts
        db.session.execute(
            sa.update(SignInCounter).values(
                window_start=SignInCounter.window_start
                - app.config["LOGIN_LIMIT_WINDOW"]
                - timedelta(minutes=1)
            )
        )
        db.session.commit()
    assert login(client, clinician.email).status_code == 302


def test_forms_opened_in_parallel_tabs_after_sign_in_share_a_csrf_secret(app_factory, clinician):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login", data={"email": clinician.email, "password": PASSWORD, "csrf_token": token}
    )
    with client.session_transaction() as session:
        assert "csrf_token" in session  # set at sign-in, before any form is opened
