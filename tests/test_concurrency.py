"""Real concurrent workers (gunicorn, 3 processes) on the test database: no lost updates, no
"database is locked", and double submissions that make one record."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator

import pytest

from prescriptions import create_app
from tests.factories import PASSWORD, SERVER_URL, empty_server_database
from tests.factories import app_config as _config
from tests.live import Browser, create_user, gunicorn, needs_gunicorn, together

pytestmark = needs_gunicorn


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
    create_user(env, "live@clinic.test", "Live Clinic")
    try:
        with gunicorn(env, "-w", "3") as base:
            yield base
    finally:
        if SERVER_URL:
            with create_app(_config(SERVER_URL)).app_context():
                empty_server_database()


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

    statuses = together(
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
    assert together(*calls) == [302] * 12
    _, page, _ = browsers[0].request("/patients?q=MANY")
    assert "12 patients" in page


def test_a_double_click_makes_one_patient(server):
    browser = Browser(server)
    browser.login("live@clinic.test")
    once = browser.form("/patients/new")["once"]
    twins = together(
        lambda: _new_patient(browser, "TWIN-1", once), lambda: _new_patient(browser, "TWIN-1", once)
    )
    assert [status for status, _, _ in twins] == [302, 302]
    assert twins[0][2] == twins[1][2] or "/patients" in twins[1][2]
    _, page, _ = browser.request("/patients?q=TWIN")
    assert "1 patient" in page
