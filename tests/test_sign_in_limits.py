"""The sign-in limit: a pure policy, atomic counters, and real parallel guesses against gunicorn
(issue 12, item 4: 40 parallel wrong guesses must check no more passwords than the limit); and a
reset link used by parallel requests works once."""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from prescriptions import PROJECT_ROOT, create_app
from prescriptions.auth.throttle import count_attempt, hand_back
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, SignInCounter, utcnow
from tests.conftest import SERVER_URL, _config, empty_server_database, login

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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


class Browser:
    """A cookie-keeping client that reads CSRF tokens from forms, as a browser would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            location = error.headers.get("Location", "")
            return error.code, error.read().decode(errors="replace"), location

    def form(self, path: str) -> dict[str, str]:
        status, page, _ = self.request(path)
        assert status == 200, (path, status)
        return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _together(*calls):
    """Run the calls at the same moment in threads; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return results


needs_gunicorn = pytest.mark.skipif(
    shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None,
    reason="gunicorn is not installed",
)


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
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [bin_dir / "flask", "--app", "app", "create-user", "--email", "target@clinic.test",
         "--name", "Target", "--role", "clinician", "--clinic", "Guessed Clinic"],
        cwd=PROJECT_ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    port = _free_port()
    process = subprocess.Popen(
        [bin_dir / "gunicorn", "-w", "3", "--threads", "8", "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded 2-core machine boots workers slowly
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=20)
        if SERVER_URL:
            with create_app(_config(SERVER_URL)).app_context():
                empty_server_database()
        assert b"Traceback" not in errors, errors.decode()[-2000:]


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

    statuses = _together(*[(lambda n=n: guess(n)) for n in range(40)])
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

    statuses = _together(*[(lambda n=n: use(n)) for n in range(6)])
    assert sorted(statuses) == [302] + [404] * 5, statuses
    assert _audit_counts(url).get("auth.reset_used") == 1
