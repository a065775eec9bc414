"""First-run setup, sign-in, sign-out, passwords, accounts and CSRF."""

from __future__ import annotations

import re

import pytest

from prescriptions.auth.passwords import password_problem
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, Clinic, User
from tests.factories import PASSWORD, SETUP, count, login


def test_every_page_leads_to_setup_before_anyone_exists(client):
    for path in ("/", "/patients", "/login", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.location.endswith("/setup")
    assert client.get("/setup").status_code == 200


def test_setup_creates_clinic_and_admin_then_disappears(app, client):
    response = client.post("/setup", data=SETUP)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert (user.email, user.role, user.clinic.name) == (
            "ada@harbour.test",
            "admin",
            "Harbour Physio",
        )
        assert user.password_hash.startswith("scrypt:")
    # signed in straight away
    assert client.get("/patients").status_code == 200
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data=SETUP).status_code == 404
    assert count(User, app) == 1


def test_setup_bad_input_keeps_what_was_typed_and_writes_nothing(app, client):
    response = client.post("/setup", data={**SETUP, "password": "short", "confirm": "short"})
    assert response.status_code == 400
    assert b"Use at least 12 characters." in response.data
    assert b'value="Harbour Physio"' in response.data
    assert count(User, app) == 0 and count(Clinic, app) == 0


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("a" * 11, "at least 12"),
        ("a" * 129, "at most 128"),
        ("1qaz2wsx3edc", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
        ("ada@harbour.test", "your name or email"),
    ],
)
def test_password_policy_refuses(password, problem):
    assert problem in password_problem(password, email="ada@harbour.test", name="Ada")


def test_password_policy_accepts_a_long_phrase():
    assert password_problem("a" * 6 + "quiet river stones", email="x@y.test") is None
    assert password_problem("x" * 60 + "Long pass phrase " * 4) is None


def test_login_and_logout(client, clinician):
    response = login(client, clinician.email)
    assert response.status_code == 302 and response.location.endswith("/")
    assert client.get("/patients").status_code == 200
    assert client.post("/logout").status_code == 302
    response = client.get("/patients")
    assert response.status_code == 302 and "/login" in response.location


def test_signing_out_keeps_nothing_of_the_session_but_the_goodbye(client, clinician):
    login(client, clinician.email)
    client.get("/patients")
    with client.session_transaction() as held:
        assert {"_user_id", "auth_at", "seen_at"} <= set(held)
    client.post("/logout")
    with client.session_transaction() as held:
        assert set(held) == {"_flashes"}


def test_logout_is_post_only(signed_in):
    assert signed_in.get("/logout").status_code == 405
    assert signed_in.get("/patients").status_code == 200


def test_wrong_password_and_unknown_account_get_the_same_message(app, client, clinician):
    wrong = login(client, clinician.email, "not the password at all")
    unknown = login(client, "nobody@nowhere.test", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    message = b"That email and password don&#39;t match an active account."
    assert message in wrong.data and message in unknown.data
    assert count(AuditEvent, app, action="auth.login_failed") == 2


def test_every_login_attempt_is_audited(app, client, clinician):
    login(client, clinician.email)
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "auth.login"))
        assert event.actor == clinician.email and event.user_id == clinician.id


def test_login_follows_only_local_next(client, clinician):
    response = client.post(
        "/login?next=https://evil.example/x", data={"email": clinician.email, "password": PASSWORD}
    )
    assert response.location.endswith("/") and "evil" not in response.location
    client.post("/logout")
    response = client.post(
        "/login?next=/patients/new", data={"email": clinician.email, "password": PASSWORD}
    )
    assert response.location.endswith("/patients/new")


def test_deactivated_user_cannot_sign_in_and_is_signed_out(app, admin_client, signed_in, clinician):
    response = admin_client.post(f"/admin/users/{clinician.id}/deactivate")
    assert response.status_code == 302
    assert signed_in.get("/patients").status_code == 302  # the open session ended
    assert login(signed_in, clinician.email).status_code == 400


def test_csrf_is_enforced(app_factory, clinician):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"email": clinician.email, "password": PASSWORD})
    assert response.status_code == 400
    assert b"The form expired" in response.data
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": clinician.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_change_password_ends_other_sessions(app, client, clinician):
    other = app.test_client()
    login(other, clinician.email)
    login(client, clinician.email)
    new = "a different long passphrase"
    response = client.post(
        "/account/password", data={"current": PASSWORD, "password": new, "confirm": new}
    )
    assert response.status_code == 302
    assert client.get("/patients").status_code == 200  # this session carries on
    assert other.get("/patients").status_code == 302  # the other one ended
    assert login(other, clinician.email, new).status_code == 302


def test_change_password_needs_the_current_one(signed_in):
    new = "a different long passphrase"
    response = signed_in.post(
        "/account/password", data={"current": "wrong", "password": new, "confirm": new}
    )
    assert response.status_code == 400
    assert b"That is not your current password." in response.data


def test_admin_adds_a_clinician(app, admin_client, admin):
    data = {
        "name": "Ben Clinician",
        "email": "Ben@Harbour.test",
        "role": "clinician",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "once": "token-1",
    }
    assert admin_client.post("/admin/users", data=data).status_code == 302
    assert admin_client.post("/admin/users", data=data).status_code == 302  # double click
    with app.app_context():
        users = db.session.scalars(db.select(User).where(User.email == "ben@harbour.test")).all()
        assert len(users) == 1 and users[0].clinic_id == admin.clinic_id
    assert login(app.test_client(), "ben@harbour.test").status_code == 302


def test_admin_user_form_errors_beside_fields(app, admin_client, admin):
    data = {"name": "", "email": admin.email, "role": "superuser", "password": "x", "confirm": "y"}
    response = admin_client.post("/admin/users", data=data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "This field is required." in text
    assert "An account with this email already exists." in text
    assert "Not a valid choice." in text
    assert count(User, app) == 2


def test_clinicians_cannot_open_admin_pages(signed_in):
    assert signed_in.get("/admin/users").status_code == 403
    assert signed_in.get("/admin/clinic").status_code == 403


def test_clinic_settings(app, admin_client, admin):
    page = admin_client.get("/admin/clinic").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    data = {
        "name": "Harbour Physio",
        "address": "1 Quay Road",
        "phone": "0123 456",
        "email": "",
        "paper": "letter",
        "footer_text": "Open weekdays",
        "version": version,
    }
    assert admin_client.post("/admin/clinic", data=data).status_code == 302
    with app.app_context():
        clinic = db.session.get(Clinic, admin.clinic_id)
        assert (clinic.paper, clinic.footer_text) == ("letter", "Open weekdays")
    # the same stale form again is a conflict, and the saved data survives
    response = admin_client.post("/admin/clinic", data={**data, "footer_text": "stale"})
    assert response.status_code == 409
    bad = admin_client.post("/admin/clinic", data={**data, "phone": "", "paper": "a3"})
    assert bad.status_code == 400


def test_create_user_command(app, runner, make_clinic, monkeypatch):
    monkeypatch.setenv("FLOORPLAN_NEW_PASSWORD", PASSWORD)
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "c@x.test",
            "--name",
            "C",
            "--role",
            "admin",
            "--clinic",
            "New",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "c@x.test"))
        assert user.clinic.name == "New" and user.role == "admin"
    make_clinic(name="Second")
    result = runner.invoke(
        args=["create-user", "--email", "d@x.test", "--name", "D", "--role", "clinician"]
    )
    assert result.exit_code != 0 and "'New', 'Second'" in result.output
    monkeypatch.setenv("FLOORPLAN_NEW_PASSWORD", "short")
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "e@x.test",
            "--name",
            "E",
            "--role",
            "clinician",
            "--clinic",
            "New",
        ]
    )
    assert result.exit_code != 0 and "at least 12" in result.output


def test_create_user_prompts_for_the_password(app, runner, make_clinic, monkeypatch):
    monkeypatch.delenv("FLOORPLAN_NEW_PASSWORD", raising=False)
    make_clinic(name="Only")
    result = runner.invoke(
        args=["create-user", "--email", "p@x.test", "--name", "P", "--role", "clinician"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert login(app.test_client(), "p@x.test").status_code == 302
