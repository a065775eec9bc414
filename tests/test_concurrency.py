"""Real concurrent workers (gunicorn, 3 processes) on the test database: no lost updates, no
"database is locked", and double submissions that make one record."""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from prescriptions import PROJECT_ROOT, create_app
from tests.factories import PASSWORD, SERVER_URL, empty_server_database
from tests.factories import app_config as _config

pytestmark = pytest.mark.skipif(
    shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None,
    reason="gunicorn is not installed",
)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


class Browser:
    """A cookie-keeping client that reads CSRF tokens from forms, as a browser would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=20) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            return (
                error.code,
                error.read().decode(errors="replace"),
                error.headers.get("Location", ""),
            )

    def form(self, path: str) -> dict[str, str]:
        status, page, _ = self.request(path)
        assert status == 200, (path, status)
        return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))

    def login(self, email: str) -> None:
        fields = self.form("/login")
        status, _, _ = self.request(
            "/login", {"csrf_token": fields["csrf_token"], "email": email, "password": PASSWORD}
        )
        assert status == 302


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, server_schema) -> Iterator[str]:
    """gunicorn with three workers on the test database, and a clinician in it."""
    tmp_path = tmp_path_factory.mktemp("live")
    url = SERVER_URL or f"sqlite:///{tmp_path / 'live.sqlite'}"
    env = {
        **os.environ,
        "FLOORPLAN_INSTANCE_PATH": str(tmp_path),
        "FLOORPLAN_SQLALCHEMY_DATABASE_URI": url,
        "FLOORPLAN_SECRET_KEY": secrets.token_urlsafe(32),
        "FLOORPLAN_NEW_PASSWORD": PASSWORD,
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [bin_dir / "flask", "--app", "app", "create-user", "--email", "live@clinic.test",
         "--name", "Live", "--role", "clinician", "--clinic", "Live Clinic"],
        cwd=PROJECT_ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    port = _free_port()
    process = subprocess.Popen(
        [bin_dir / "gunicorn", "-w", "3", "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded machine starts three workers slowly
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
        assert b"database is locked" not in errors
        assert b"Traceback" not in errors, errors.decode()[-2000:]


def _together(*calls):
    """Run the calls at the same moment in threads; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _new_patient(browser: Browser, chart: str, once: str | None = None) -> tuple[int, str, str]:
    fields = browser.form("/patients/new")
    data = {
        "csrf_token": fields["csrf_token"],
        "once": once or fields["once"],
        "given_name": "Con",
        "family_name": "Current",
        "chart_number": chart,
        "cue_set": "neutral",
    }
    return browser.request("/patients/new", data)


def test_two_clinicians_saving_the_same_patient(server):
    first, second = Browser(server), Browser(server)
    first.login("live@clinic.test")
    second.login("live@clinic.test")
    status, _, location = _new_patient(first, "LU-1")
    assert status == 302
    patient = re.search(r"/patients/(\d+)", location).group(1)
    forms = [b.form(f"/patients/{patient}/edit") for b in (first, second)]
    assert forms[0]["version"] == forms[1]["version"]

    def save(browser: Browser, form: dict[str, str], name: str):
        data = {**form, "given_name": "Con", "family_name": name, "chart_number": "LU-1",
                "cue_set": "neutral"}  # fmt: skip
        return browser.request(f"/patients/{patient}/edit", data)[0]

    statuses = _together(
        lambda: save(first, forms[0], "First"), lambda: save(second, forms[1], "Second")
    )
    assert sorted(statuses) == [302, 409]
    winner = "First" if statuses[0] == 302 else "Second"
    _, page, _ = first.request(f"/patients/{patient}")
    assert f"Con {winner}" in page


def test_many_writers_at_once_all_succeed(server):
    browsers = [Browser(server) for _ in range(3)]
    for browser in browsers:
        browser.login("live@clinic.test")
    calls = [(lambda b=browsers[n % 3], n=n: _new_patient(b, f"MANY-{n}")[0]) for n in range(12)]
    assert _together(*calls) == [302] * 12
    _, page, _ = browsers[0].request("/patients?q=MANY")
    assert "12 patients" in page


def test_a_double_click_makes_one_patient(server):
    browser = Browser(server)
    browser.login("live@clinic.test")
    once = browser.form("/patients/new")["once"]
    twins = _together(
        lambda: _new_patient(browser, "TWIN-1", once), lambda: _new_patient(browser, "TWIN-1", once)
    )
    assert [status for status, _, _ in twins] == [302, 302]
    assert twins[0][2] == twins[1][2] or "/patients" in twins[1][2]
    _, page, _ = browser.request("/patients?q=TWIN")
    assert "1 patient" in page
