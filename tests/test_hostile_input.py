"""Hostile input that once gave a 500 or slipped past a check (issue 12, items 7 and 12)."""

from __future__ import annotations

import csv
import io
import re
import secrets

import pytest

from prescriptions.exports.tables import csv_cell, csv_chunks
from prescriptions.models import Patient
from tests.factories import PASSWORD, count

FORMULA = ("=", "+", "-", "@")


@pytest.fixture
def patient_id(clinician, make_patient, make_assessment):
    pid = make_patient(clinician.clinic_id, given_name="Ann", family_name="Smith;=1+1")
    make_assessment(pid, clinician.id)
    return pid


def _draft(client, patient_id) -> int:
    response = client.post(
        f"/patients/{patient_id}/plans/new",
        data={"template": "strengthening", "start_date": "2026-11-30", "once": "hostile-1"},
    )
    assert response.status_code == 302
    return int(re.search(r"/plans/(\d+)/edit", response.location).group(1))


def _editor_fields(client, plan_id) -> dict[str, str]:
    page = client.get(f"/plans/{plan_id}/edit").get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', body) or re.search(
            r'<option value="([^"]*)"', body
        )
        data[name] = chosen.group(1)
    data.pop("action", None)
    return data


@pytest.mark.parametrize("action", ["up:0", "down:0"])
def test_moving_a_row_whose_week_is_not_a_number_redraws_the_editor(signed_in, patient_id, action):
    plan_id = _draft(signed_in, patient_id)
    data = _editor_fields(signed_in, plan_id)
    week = next(name for name in data if name.endswith("-week"))
    assert week.startswith("items-0-")
    data[week] = "two"
    response = signed_in.post(f"/plans/{plan_id}/edit", data={**data, "action": action})
    assert response.status_code == 200
    assert "Week 1" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "next_path",
    ["/%0d%0aSet-Cookie:%20x=1", "/patients%0aX:1", "/%09/evil.example", "/\\evil.example"],
)
def test_a_next_address_with_control_characters_lands_on_the_start_page(
    client, clinician, next_path
):
    response = client.post(
        f"/login?next={next_path}", data={"email": clinician.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.location == "/"  # the start page, never the crafted address
    assert "\n" not in response.location and "\r" not in response.location


def test_a_plain_next_address_is_still_followed(client, clinician):
    response = client.post(
        "/login?next=/patients%3Fq%3DAnn",
        data={"email": clinician.email, "password": PASSWORD},
    )
    assert response.status_code == 302 and response.location == "/patients?q=Ann"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("Smith;=1+1", "Smith;'=1+1"),
        ("a,+1", "a,'+1"),
        ("a|-1", "a|'-1"),
        ("a\t@SUM(A1)", "a\t'@SUM(A1)"),
        ('a; "=1+1"', 'a; "\'=1+1"'),
        ("line\n=1+1", "line\n'=1+1"),
        ("=1;=2", "'=1;'=2"),
        ("Smith; Jones", "Smith; Jones"),
        ("O'Brien-Smith", "O'Brien-Smith"),
    ],
)
def test_a_formula_after_any_separator_is_neutralised(value, cell):
    assert csv_cell(value) == cell


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_no_spreadsheet_separator_opens_a_formula_cell(separator):
    rows = [{"name": csv_cell(v), "n": 3} for v in ("Smith;=1+1", "x,-2", 'a|"@A1"', "=1")]
    text = "".join(csv_chunks(("name", "n"), [rows]))
    for line in text.lstrip("\ufeff").splitlines():
        # read as a spreadsheet that ignores our quoting and splits on its own separator
        for cell in line.split(separator):
            assert not cell.strip(' "').startswith(FORMULA), (separator, line)
        # and as one that honours the quotes
        for cell in next(csv.reader(io.StringIO(line), delimiter=separator)):
            assert not cell.strip(' "').startswith(FORMULA), (separator, line)


def test_the_plans_csv_quotes_a_family_name_with_a_semicolon(
    app, signed_in, admin_client, patient_id
):
    _draft(signed_in, patient_id)
    text = admin_client.get("/exports/plans.csv").get_data().decode()
    (row,) = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert row["family_name"] == "Smith;'=1+1"
    for line in text.splitlines():
        assert not any(cell.startswith(FORMULA) for cell in line.split(";"))


@pytest.mark.parametrize("blank", ["\u200b\u200b", "\u200d", "\ufeff", " \u2060 ", "\u3164"])
def test_a_family_name_of_invisible_characters_is_not_filled_in(app, signed_in, blank):
    response = signed_in.post(
        "/patients/new",
        data={"given_name": "Ann", "family_name": blank, "chart_number": "ZW-1",
              "cue_set": "female", "once": "zw-1"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    assert count(Patient, app) == 0


def test_invisible_characters_around_a_name_are_trimmed(app, signed_in):
    response = signed_in.post(
        "/patients/new",
        data={"given_name": "\u200bAnn\ufeff", "family_name": "Lee\u200b", "chart_number": "ZW-2",
              "cue_set": "female", "once": "zw-2"},
    )  # fmt: skip
    assert response.status_code == 302
    page = signed_in.get(response.location).get_data(as_text=True)
    assert "Ann Lee" in page


def test_production_sends_hsts_and_a_permissions_policy(app_factory):
    production = app_factory(ENV_NAME="production", SECRET_KEY=secrets.token_urlsafe(48))
    response = production.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    policy = response.headers["Permissions-Policy"]
    assert "camera=()" in policy and "microphone=()" in policy and "geolocation=()" in policy


def test_development_sends_no_hsts(client):
    response = client.get("/login")
    assert "Strict-Transport-Security" not in response.headers
    assert "camera=()" in response.headers["Permissions-Policy"]
