"""Sweeps every route in app.url_map, so a route added later is covered without anyone remembering.

- another clinic's ids answer 404 (never 403, never the data), for every method;
- anonymous requests are sent to sign in;
- clinicians get 403 on administrator routes;
- every response carries the security headers a web scanner's baseline checks for.
A route with an id this file does not know how to fill, and that is not listed as public, fails.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter

from prescriptions.extensions import db
from prescriptions.models import User
from tests.conftest import login
from tests.test_plans import issue, new_plan

#: Administrator-only routes outside the admin blueprint.
ADMIN_ONLY = {"exports.clinic_csv"}
#: Reachable without signing in, by design.
PUBLIC = {"static", "health.healthz", "auth.login", "auth.setup"}
#: Which of a foreign clinic's records fills each kind of id in a route.
FOREIGN = {
    "patient_id": "patient",
    "plan_id": "plan",
    "user_id": "user",
    "assessment_id": "assessment",
}
#: Ids that are not records (a plan week): filled with a valid value.
NOT_RECORDS = {"week": 1}
METHODS = ("GET", "POST")


def _rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def _values(rule: Rule, records: dict[str, int]) -> dict[str, Any] | None:
    """URL values for a rule from the given records, or None if an argument is unknown."""
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():  # noqa: SLF001 - werkzeug keeps them here
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif name in FOREIGN:
            values[name] = records[FOREIGN[name]]
        elif name in NOT_RECORDS:
            values[name] = NOT_RECORDS[name]
        else:
            return None
    return values


def _admin_only(rule: Rule) -> bool:
    return rule.endpoint.startswith("admin.") or rule.endpoint in ADMIN_ONLY


def _url(app: Flask, rule: Rule, values: dict[str, Any]) -> str:
    with app.test_request_context():
        return app.url_for(rule.endpoint, **values)


@pytest.fixture
def foreign(app, other_clinic) -> dict[str, int]:
    """Another clinic's patient, issued plan and user."""
    client = app.test_client()
    with app.app_context():
        login(client, db.session.get(User, other_clinic["user"]).email)
    plan = new_plan(client, other_clinic["patient"], once="foreign")
    issue(client, plan)
    return {**other_clinic, "plan": plan}


def test_every_route_is_swept_or_public(app):
    unknown = [
        r.rule
        for r in _rules(app)
        if r.endpoint not in PUBLIC and _values(r, {k: 1 for k in FOREIGN.values()}) is None
    ]
    assert not unknown, f"routes with ids this sweep cannot fill: {unknown}"


def test_another_clinics_ids_are_404_everywhere(app, signed_in, admin_client, foreign):
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in PUBLIC or not any(n in FOREIGN for n in rule.arguments):
            continue
        url = _url(app, rule, _values(rule, foreign))
        client = admin_client if _admin_only(rule) else signed_in
        for method in METHODS:
            if method not in rule.methods:
                continue
            response = client.open(url, method=method, data={"reason": "x", "name": "x"})
            assert response.status_code == 404, (method, url, response.status_code)
            assert b"Secret" not in response.data and b"Foreigner" not in response.data
            checked += 1
    assert checked >= 20


def test_anonymous_requests_are_sent_to_sign_in(app, client, clinician, foreign):
    for rule in _rules(app):
        if rule.endpoint in PUBLIC:
            continue
        url = _url(app, rule, _values(rule, foreign))
        for method in METHODS:
            if method in rule.methods:
                response = client.open(url, method=method)
                assert response.status_code == 302, (method, url, response.status_code)
                assert "/login" in response.location, (method, url)


def test_clinicians_are_refused_on_admin_routes(app, signed_in, clinician, foreign):
    own = {"patient": 0, "plan": 0, "user": clinician.id, "assessment": 0}
    admin_rules = [r for r in _rules(app) if _admin_only(r)]
    assert admin_rules
    for rule in admin_rules:
        url = _url(app, rule, _values(rule, own))
        for method in METHODS:
            if method in rule.methods:
                assert signed_in.open(url, method=method).status_code == 403, (method, url)


def _own_records(app, signed_in, clinician, make_patient, make_assessment) -> dict[str, int]:
    patient = make_patient(clinician.clinic_id, given_name="Own")
    assessment = make_assessment(patient, clinician.id)
    plan = new_plan(signed_in, patient, once="own")
    issue(signed_in, plan)
    return {"patient": patient, "plan": plan, "user": clinician.id, "assessment": assessment}


def test_scanner_baseline_on_every_page(
    app, signed_in, admin_client, clinician, make_patient, make_assessment
):
    """The passive checks of a web scanner's baseline scan, over every GET route."""
    own = _own_records(app, signed_in, clinician, make_patient, make_assessment)
    checked = 0
    for rule in _rules(app):
        if "GET" not in rule.methods or rule.endpoint in ("static", "auth.setup"):
            continue
        client = admin_client if _admin_only(rule) else signed_in
        url = _url(app, rule, _values(rule, own))
        response = client.get(url)
        assert response.status_code < 500, url
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, url
        assert "unsafe-inline" not in csp
        assert headers.get("X-Content-Type-Options") == "nosniff", url
        assert headers.get("Referrer-Policy") == "same-origin", url
        assert headers.get("Cache-Control") == "no-store", url
        assert "Server" not in headers and "X-Powered-By" not in headers, url
        if response.mimetype == "application/pdf":
            checked += 1
            continue
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and "Werkzeug" not in body, url
        if response.mimetype == "text/html":
            assert "<script>" not in body and " onclick=" not in body, url
        checked += 1
    assert checked >= 15


def test_static_files_may_be_cached_but_still_carry_the_headers(client, clinician):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Cache-Control") != "no-store"


def test_session_cookie_flags(app_factory, clinician):
    plain = app_factory().test_client()
    response = login(plain, clinician.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    production = app_factory(ENV_NAME="production", SECRET_KEY="p" * 40).test_client()
    cookie = login(production, clinician.email).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_ids_too_large_for_the_database_are_404(signed_in):
    for path in (
        "/plans/99999999999999999999",
        "/plans/2147483648/handout.pdf",
        "/patients/2147483648",
    ):
        assert signed_in.get(path).status_code == 404, path


def test_search_with_control_characters(signed_in, clinician, make_patient):
    make_patient(clinician.clinic_id, family_name="Nul")
    assert signed_in.get("/patients?q=a%00b").status_code == 200
    assert "Nul" in signed_in.get("/patients?q=%00Nul").get_data(as_text=True)
    assert signed_in.get("/print?q=a%00b").status_code == 200


def test_a_name_of_spaces_is_no_name(app, signed_in):
    from tests.test_patients import NEW

    response = signed_in.post("/patients/new", data={**NEW, "given_name": "   "})
    assert response.status_code == 400 and "This field is required." in response.get_data(
        as_text=True
    )
