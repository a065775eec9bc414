"""The sign-in limit: a pure policy, atomic counters, and real parallel guesses against gunicorn
(issue 12, item 4: 40 parallel wrong guesses must check no more passwords than the limit); and a
reset link used by parallel requests works once."""

from __future__ import annotations

import os
import secrets
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from prescriptions import create_app
from prescriptions.auth.throttle import count_attempt, hand_back
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, SignInCounter, utcnow
from tests.factories import SERVER_URL, empty_server_database, login
from tests.factories import app_config as _config
from tests.live import Browser, create_user, gunicorn, needs_gunicorn, together

# --- the counters -------------------------------------------------------------------------


def test_a_counter_counts_and_restarts_when_its_window_is_over(app):
    window = timedelta(minutes=15)
    with app.app_context():
        now = utcnow()
        assert [count_attempt("account", "a@x.test", window, now) for _ in range(3)] == [1, 2, 3]
        assert count_attempt("account", "b@x.test", window, now) == 1  # each subject its own
        assert count_attempt("address", "a@x.test", window, now) == 1  # and each scope
        hand_back("account", "a@x.test")
        assert count_attempt("account", "a@x.test", window, now) == 3
        later = now + window
        assert count_attempt("account", "a@x.test", window, later) == 1
        assert count_attempt("account", "a@x.test", window, later) == 2
        db.session.commit()
        counter = db.session.get(SignInCounter, ("account", "a@x.test"))
        assert counter.window_start == later


def test_a_right_password_is_not_counted_as_a_failure(app, client, clinician):
    for _ in range(app.config["LOGIN_LIMIT_PER_ACCOUNT"] + 3):
        assert login(client, clinician.email).status_code == 302
        client.post("/logout")
    with app.app_context():
        counter = db.session.get(SignInCounter, ("account", clinician.email))
        assert counter.failures == 0


def test_a_wrong_password_and_an_unknown_account_take_as_long(app, clinician):
    client = app.test_client()
    app.config.update(LOGIN_LIMIT_PER_ACCOUNT=1000, LOGIN_LIMIT_PER_ADDRESS=1000)
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(8):
        for kind, email in (("known", clinician.email), ("unknown", f"nobody{n}@nowhere.test")):
            started = time.perf_counter()
            assert login(client, email, "not the password at all").status_code == 400
            timings[kind].append(time.perf_counter() - started)
    known, unknown = (statistics.median(timings[k]) for k in ("known", "unknown"))
    print(f"wrong password {known * 1000:.1f} ms, unknown account {unknown * 1000:.1f} ms")
    assert abs(known - unknown) < 0.25 * max(known, unknown), timings


# --- real parallel requests -----------------------------------------------------------------


@pytest.fixture(scope="module")
def guessing_server(tmp_path_factory, server_schema) -> Iterator[str]:
    """gunicorn, 3 workers of 8 threads each, on the test database, with one clinician."""
    tmp_path = tmp_path_factory.mktemp("limits")
    url = SERVER_URL or f"sqlite:///{tmp_path / 'limits.sqlite'}"
    env = {
        **os.environ,
        "FLOORPLAN_INSTANCE_PATH": str(tmp_path),
        "FLOORPLAN_SQLALCHEMY_DATABASE_URI": url,
        "FLOORPLAN_SECRET_KEY": secrets.token_urlsafe(32),
        "FLOORPLAN_NEW_PASSWORD": "correct horse battery staple",
        "FLOORPLAN_LOGIN_LIMIT_PER_ADDRESS": "1000",  # the account's limit is the one raced here
    }
    create_user(env, "target@clinic.test", "Guessed Clinic")
    try:
        with gunicorn(env, "-w", "3", "--threads", "8") as base:
            yield base
    finally:
        if SERVER_URL:
            with create_app(_config(SERVER_URL)).app_context():
                empty_server_database()


def _audit_counts(url: str) -> dict[str, int]:
    app = create_app(_config(url))
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.action, sa.func.count()).group_by(AuditEvent.action)
        ).all()
        db.engine.dispose()
    return dict(rows)


@needs_gunicorn
def test_forty_parallel_wrong_guesses_check_only_the_limit(guessing_server, tmp_path_factory):
    browsers = [Browser(guessing_server) for _ in range(40)]
    tokens = [browser.form("/login")["csrf_token"] for browser in browsers]

    def guess(n: int) -> int:
        data = {"csrf_token": tokens[n], "email": "target@clinic.test", "password": f"guess {n}!"}
        return browsers[n].request("/login", data)[0]

    statuses = together(*[(lambda n=n: guess(n)) for n in range(40)])
    counts = _audit_counts(_server_url(tmp_path_factory))
    print(f"statuses {sorted(statuses)}; audit {counts}")
    assert statuses.count(400) == 5 and statuses.count(429) == 35
    assert counts.get("auth.login_failed") == 5  # five passwords checked, no more
    assert counts.get("auth.login_throttled") == 35
    right = Browser(guessing_server)
    fields = right.form("/login")
    status, _, _ = right.request(
        "/login",
        {"csrf_token": fields["csrf_token"], "email": "target@clinic.test",
         "password": "correct horse battery staple"},
    )  # fmt: skip
    assert status == 429  # the account waits out its window, even with the right password


def _server_url(tmp_path_factory) -> str:
    return SERVER_URL or next(
        f"sqlite:///{p}" for p in tmp_path_factory.getbasetemp().glob("limits*/limits.sqlite")
    )


@needs_gunicorn
def test_a_reset_link_used_twice_at_once_works_once(guessing_server, tmp_path_factory):
    from prescriptions.accounts.queries import fetch_user_by_email
    from prescriptions.accounts.resets import make_reset_link
    from prescriptions.audit import SYSTEM

    url = _server_url(tmp_path_factory)
    app = create_app(_config(url))
    with app.app_context():
        user = fetch_user_by_email("target@clinic.test")
        token = make_reset_link(user, "cli", SYSTEM, timedelta(hours=24))
        db.session.commit()
        db.engine.dispose()
    browsers = [Browser(guessing_server) for _ in range(6)]
    forms = [browser.form(f"/reset/{token}") for browser in browsers]

    def use(n: int) -> int:
        new = f"twin passphrase number {n}"
        data = {"csrf_token": forms[n]["csrf_token"], "password": new, "confirm": new}
        return browsers[n].request(f"/reset/{token}", data)[0]

    statuses = together(*[(lambda n=n: use(n)) for n in range(6)])
    assert sorted(statuses) == [302] + [404] * 5, statuses
    assert _audit_counts(url).get("auth.reset_used") == 1
