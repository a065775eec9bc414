"""Sweeps every route in app.url_map, so a route added later is covered without anyone remembering.

- another clinic's ids answer 404 (never 403, never the data), for every method;
- anonymous requests are sent to sign in;
- clinicians get 403 on administrator routes;
- every response carries the security headers a web scanner's baseline checks for.
A route with an id this file does not know how to fill, and that is not listed as public, fails.
"""

from __future__ import annotations

import io
import secrets
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter

from prescriptions.companion.phone_views import PATIENT_ENDPOINTS
from tests.factories import FOREIGN_TEXT, NEW_PATIENT, login

#: Administrator-only routes outside the admin blueprint.
ADMIN_ONLY = {"exports.clinic_csv"}
#: Reachable without signing in, by design.
PUBLIC = {"static", "health.healthz", "auth.login", "auth.setup", "auth.reset", "auth.forgot"}
# The patient's phone pages (issue 16): no sign-in, the link's token is the capability; their own
# sweep (tests/test_companion_sweep.py) checks no other patient's data and no field beyond the
# allowed ones, and tests/test_companion.py that unknown, revoked and expired links answer alike.
PUBLIC |= PATIENT_ENDPOINTS
#: Which of a foreign clinic's records fills each kind of id in a route.
FOREIGN = {
    "patient_id": "patient",
    "plan_id": "plan",
    "user_id": "user",
    "assessment_id": "assessment",
    "scan_id": "scan",
    "programme_id": "programme",
}
#: Ids that are not records (a plan week): filled with a valid value.
NOT_RECORDS = {"week": 1, "token": "not-a-live-reset-token", "key": "not-a-live-link", "index": 0}
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


def _every_values(rule: Rule, records: dict[str, int]) -> list[dict[str, Any]]:
    """Like `_values`, once for every choice of each `any(...)` argument (every CSV kind)."""
    values = _values(rule, records)
    assert values is not None, rule.rule
    combos = [values]
    for name, converter in rule._converters.items():  # noqa: SLF001 - as in _values
        if isinstance(converter, AnyConverter):
            combos = [{**c, name: item} for c in combos for item in sorted(converter.items)]
    return combos


def _admin_only(rule: Rule) -> bool:
    """Everything under /admin (the admin and audit blueprints), and the listed routes."""
    return rule.rule.startswith("/admin") or rule.endpoint in ADMIN_ONLY


def _url(app: Flask, rule: Rule, values: dict[str, Any]) -> str:
    with app.test_request_context():
        return app.url_for(rule.endpoint, **values)


def _scan(app: Flask, clinic_id: int, plan_id: int, user_id: int) -> int:
    """A scanned sheet waiting to be confirmed, with a kept page image (a stand-in for one read:
    the sweep is about who may open it, tests/sheets/test_scan_page.py reads real sheets)."""
    import json

    import cv2
    import numpy as np

    from prescriptions.extensions import db
    from prescriptions.models import SheetScan

    with app.app_context():
        png = cv2.imencode(".png", np.full((8, 8), 255, np.uint8))[1].tobytes()
        scan = SheetScan(clinic_id=clinic_id, plan_id=plan_id, week=1, batch="sweep",
                         reading=json.dumps({"page": 0, "days": [], "crops": {}}), image=png,
                         created_by_id=user_id)  # fmt: skip
        db.session.add(scan)
        db.session.commit()
        return scan.id


@pytest.fixture
def foreign(app, other_clinic) -> dict[str, Any]:
    """Another clinic's patient, issued plan (items, a logged week), user and scanned sheet."""
    scan = _scan(app, other_clinic["clinic"], other_clinic["plan"], other_clinic["user"])
    return {**other_clinic, "scan": scan}


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


@pytest.fixture
def own(app, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week):
    """The signed-in clinic's patient with an assessment, an issued plan, a logged week and a
    scanned sheet."""
    patient = make_patient(clinician.clinic_id, given_name="Own", family_name="Ownington")
    assessment = make_assessment(patient, clinician.id)
    plan = issue_plan(make_plan(patient))
    log_week(plan, 1)
    scan = _scan(app, clinician.clinic_id, plan, clinician.id)
    with app.app_context():
        from prescriptions.extensions import db
        from prescriptions.models import Plan

        programme = db.session.get(Plan, plan).programme_id
    return {"patient": patient, "plan": plan, "user": clinician.id, "assessment": assessment,
            "programme": programme, "scan": scan}  # fmt: skip


def test_scanner_baseline_on_every_page(app, signed_in, admin_client, own):
    """The passive checks of a web scanner's baseline scan, over every GET route."""
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
        # patient pages are stricter: their URL is the capability, never sent on
        referrer = "no-referrer" if rule.endpoint in PATIENT_ENDPOINTS else "same-origin"
        assert headers.get("Referrer-Policy") == referrer, url
        if rule.endpoint != "companion.worker":  # the service worker script revalidates
            assert headers.get("Cache-Control") == "no-store", url
        assert "Server" not in headers and "X-Powered-By" not in headers, url
        if response.mimetype == "application/pdf" or response.mimetype.startswith("image/"):
            checked += 1
            continue
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and "Werkzeug" not in body, url
        if response.mimetype == "text/html":
            assert "<script>" not in body and " onclick=" not in body, url
        checked += 1
    assert checked >= 15


def _text(response) -> str:
    """What a response shows: a PDF's extracted text, otherwise the body as text."""
    if response.mimetype == "application/pdf":
        reader = PdfReader(io.BytesIO(response.data))
        return "\n".join(page.extract_text() for page in reader.pages)
    if response.mimetype.startswith("image/"):
        return ""  # a picture holds no text to search (the 404 sweep covers whose it is)
    return response.get_data(as_text=True)


def test_no_page_of_a_clinic_shows_another_clinics_records(
    app, signed_in, admin_client, other_clinic, own
):
    """Every GET route, filled with this clinic's records, while the other clinic has patients,
    plans with items, logs and a revision: not one of its names, numbers or notes shows."""
    app.config["PATIENTS_PER_PAGE"] = 1000  # every patient the list could show, on one page
    # pages that exist only with outgoing mail set up (the forgotten-password form)
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_SENDER="clinic@example.test", PUBLIC_URL="https://c.test"
    )
    checked, showing_own = 0, 0
    for rule in _rules(app):
        if "GET" not in rule.methods or rule.endpoint in ("static", "auth.setup"):
            continue
        client = admin_client if _admin_only(rule) else signed_in
        for values in _every_values(rule, own):
            url = _url(app, rule, values)
            response = client.get(url, follow_redirects=True)
            if rule.rule == "/admin/clinic/logo.png" and response.status_code == 404:
                continue  # the clinic has no logo: nothing to show
            if {"token", "key"} & rule.arguments and response.status_code == 404:
                continue  # a made-up link token: unknown links are simply not found
            assert response.status_code == 200, (url, response.status_code)
            text = _text(response)
            leaked = [marker for marker in FOREIGN_TEXT if marker in text]
            assert not leaked, (url, leaked)
            checked += 1
            showing_own += "Ownington" in text
    assert checked >= 15 and showing_own >= 8, (checked, showing_own)


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
    production = app_factory(
        ENV_NAME="production", SECRET_KEY=secrets.token_urlsafe(48)
    ).test_client()
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
    response = signed_in.post("/patients/new", data={**NEW_PATIENT, "given_name": "   "})
    assert response.status_code == 400 and "This field is required." in response.get_data(
        as_text=True
    )
