"""Fuzzing the sign-in, first-run setup, password and account forms (harness: tests/fuzzing.py)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import strategies as st

from prescriptions.auth.passwords import password_problem
from prescriptions.domain.vocab import Paper, Role
from prescriptions.extensions import db
from prescriptions.models import User
from tests.factories import PASSWORD, login
from tests.fuzzing import (
    FUZZ,
    MISSING,
    TAMPERED_ONCE,
    Data,
    Target,
    bad_text,
    choice,
    fuzz,
    line,
    not_one_of,
    rows,
    strong_password,
    too_long,
    valid_email_local,
)

pytestmark = FUZZ


def test_fuzz_login(app: Flask, clinician: User) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = app.config["LOGIN_LIMIT_PER_ADDRESS"] = 10**6
    email = clinician.email
    fuzz(
        app,
        Target(
            "login",
            lambda n: ("/login", {"email": email, "password": PASSWORD}),
            app.test_client,  # a fresh client each time: a signed-in one is just redirected
            writes={"user_account": rows(1, 1)},  # last_login_at (auth.* audit rows left out)
            target="user_account",
            replaces=True,
            valid={"email": st.sampled_from([email.upper(), f"  {email} ", email.title()])},
            invalid={
                "email": st.one_of(
                    st.just(MISSING), st.just(""), too_long(254), st.just("nobody@clinic.test")
                ),
                "password": st.one_of(
                    st.just(MISSING),
                    st.just(""),
                    too_long(128),
                    st.text().filter(lambda p: p != PASSWORD),
                ),
            },
            rejected=(400, 429),
        ),
    )


def test_fuzz_setup(app: Flask) -> None:
    def reset(values: Data) -> None:
        """Undo a completed setup, so the next example meets the setup form again."""
        with app.app_context():
            for table in ("audit_event", "submission", "user_account", "clinic"):
                db.session.execute(sa.delete(db.metadata.tables[table]))
            db.session.commit()
        app.extensions.pop("floorplan.setup_done", None)

    def baseline(n: int) -> tuple[str, Data]:
        password = f"a fresh setup phrase {n}"
        return "/setup", {
            "clinic_name": "Harbour Physio",
            "clinic_phone": "+44 20 7946 0000",
            "paper": "a4",
            "name": "Ada Admin",
            "email": f"ada{n}@harbour.test",
            "password": password,
            "confirm": password,
        }

    def finish(values: Data, n: int) -> Data:
        values["email"] = f"{values['email'].partition('@')[0]}.n{n}@harbour.test"
        return {**values, "confirm": values["password"]}

    fuzz(
        app,
        Target(
            "setup",
            baseline,
            app.test_client,
            writes={"clinic": rows(1), "user_account": rows(1), "audit_event": rows(2)},
            target="user_account",
            valid={
                "clinic_name": line(120),
                "clinic_phone": line(40),
                "paper": choice(Paper),
                "name": line(120),
                "email": valid_email_local().map(lambda s: f"{s}@harbour.test"),
                "password": strong_password(),
            },
            invalid={
                "clinic_name": bad_text(120),
                "clinic_phone": bad_text(40),
                "paper": not_one_of(Paper),
                "name": bad_text(120),
                "email": st.one_of(bad_text(254), st.just("not-an-email"), st.just("a@b@c")),
                "password": st.sampled_from(["short", "password1234", "aaaaaaaaaaaaaaa", ""]),
                "confirm": st.just("something else entirely"),
            },
            finish=finish,
            accept=lambda v: (
                password_problem(v["password"], email=v["email"], name=v["name"]) is None
            ),
            after_write=reset,
        ),
    )


def test_fuzz_change_password(app: Flask, signed_in: FlaskClient, clinician: User) -> None:
    # The current password is checked under the sign-in limits (tested in test_password_reset).
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = app.config["LOGIN_LIMIT_PER_ADDRESS"] = 10**6
    current = {"password": PASSWORD}

    def baseline(n: int) -> tuple[str, Data]:
        new = f"another good phrase {n}"
        return "/account/password", {
            "current": current["password"],
            "password": new,
            "confirm": new,
        }

    def changed(values: Data) -> None:
        current["password"] = values["password"]

    fuzz(
        app,
        Target(
            "change password",
            baseline,
            lambda: signed_in,  # re-signed in after a change, so one client does
            writes={"user_account": rows(1, 1), "audit_event": rows(1)},
            target="user_account",
            replaces=True,
            valid={"password": strong_password()},
            invalid={
                "current": st.one_of(st.just(MISSING), st.just("not my password at all")),
                "password": st.sampled_from(
                    ["short", "password1234", "aaaaaaaaaaaaaaa", "x" * 129]
                ),
                "confirm": st.just("something else entirely"),
            },
            finish=lambda values, n: {**values, "confirm": values["password"]},
            accept=lambda v: password_problem(v["password"], email=clinician.email) is None,
            after_write=changed,
        ),
    )


def test_fuzz_admin_add_user(app: Flask, admin_client: FlaskClient) -> None:
    def baseline(n: int) -> tuple[str, Data]:
        password = f"welcome aboard phrase {n}"
        return "/admin/users", {
            "name": "Ben Clinician",
            "email": f"ben{n}@clinic.test",
            "role": "clinician",
            "password": password,
            "confirm": password,
            "once": f"user-{n}",
        }

    def finish(values: Data, n: int) -> Data:
        values["email"] = f"{values['email'].partition('@')[0]}.n{n}@clinic.test"
        return {**values, "confirm": values["password"]}

    fuzz(
        app,
        Target(
            "admin add user",
            baseline,
            lambda: admin_client,
            writes={"user_account": rows(1), "submission": rows(1), "audit_event": rows(1)},
            target="user_account",
            valid={
                "once": TAMPERED_ONCE,
                "name": line(120),
                "email": valid_email_local().map(lambda s: f"{s}@clinic.test"),
                "role": choice(Role),
                "password": strong_password(),
            },
            invalid={
                "name": bad_text(120),
                "email": st.one_of(bad_text(254), st.just("not-an-email")),
                "role": not_one_of(Role),
                "password": st.sampled_from(["short", "password1234", ""]),
                "confirm": st.just("something else entirely"),
            },
            finish=finish,
            accept=lambda v: (
                password_problem(v["password"], email=v["email"], name=v["name"]) is None
            ),
        ),
    )


def test_signed_in_fixture_still_signs_in(app: Flask, clinician: User) -> None:
    """The cheap hashing (`pytestmark`) is on before the fixtures' accounts are made, and still
    lets them sign in through the real form."""
    with app.app_context():
        assert db.session.get(User, clinician.id).password_hash.startswith("scrypt:1024:8:1$")
    assert login(app.test_client(), clinician.email).status_code == 302
