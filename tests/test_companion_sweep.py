"""Every patient route, swept: a link shows its own patient's first name, doses and logs only.

Patient A's every other field, patient B's (same clinic, own link, own logs and question) and the
whole of another clinic (FOREIGN_TEXT) are filled with markers; no patient page of A's link may
show one of them, whatever route, and B's link never shows A's logs.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from prescriptions.audit import Actor
from prescriptions.companion.operations import issue_link
from prescriptions.companion.phone_views import PATIENT_ENDPOINTS
from prescriptions.companion.tokens import link_key, token_for
from prescriptions.extensions import db
from prescriptions.models import Patient, User
from tests.factories import FOREIGN_TEXT, committing

#: Patient A's fields a phone page must never show (only the preferred first name may).
A_FIELDS = {
    "given_name": "Gwendolyn",
    "family_name": "Pemberton",
    "preferred_name": "Wendy Pemberton",
    "chart_number": "ZK-88412",
    "date_of_birth": date(1957, 8, 23),
    "address": "41 Juniper Crescent",
    "phone": "07700 900123",
    "email": "wendy@private.example",
    "notes": "Walrus patient note",
    "diagnoses": ["pelvic_pain"],
}
A_HIDDEN = ("Gwendolyn", "Pemberton", "ZK-88412", "1957", "Juniper", "07700", "wendy@",
            "Walrus", "pelvic_pain", "Pelvic pain", "Hexagon Clinic", "5 Mast Road",
            "Doctor Marlowe", "Mantis plan title")  # fmt: skip
B_MARKERS = ("Bartholomew", "Quince", "QB-31337", "Badger day note", "Bison question")


def _key(app) -> bytes:
    return link_key(app.config["SECRET_KEY"])


def _link(app, patient_id: int, user_id: int) -> str:
    with committing(app):
        patient = db.session.get(Patient, patient_id)
        link = issue_link(patient, _key(app), Actor(db.session.get(User, user_id)), None)
        return token_for(_key(app), link.nonce)


def _hidden(page: str) -> dict[str, str]:
    return {n: re.search(rf'name="{n}" value="([^"]+)"', page)[1] for n in ("form_key", "key")}


def _without_hex(text: str) -> str:
    # The calendar's UIDs and each form's idempotency key are 32 hex digits: by chance they
    # spell a digit marker such as "1957" (about one run in twenty-five before this).
    return re.sub(r"[0-9a-f]{32,}", "", text)


@pytest.fixture
def two_patients(app, make_clinic, make_user, make_patient, make_plan, issue_plan, other_clinic):
    clinic = make_clinic(name="Hexagon Clinic", address="5 Mast Road")
    user = make_user(clinic, name="Doctor Marlowe")
    a = make_patient(clinic, **A_FIELDS)
    b = make_patient(
        clinic, given_name="Bartholomew", family_name="Quince", chart_number="QB-31337"
    )
    start = date.today() - timedelta(days=2)
    plans = [issue_plan(make_plan(p, start=start, title="Mantis plan title")) for p in (a, b)]
    tokens = [_link(app, p, user) for p in (a, b)]
    client = app.test_client()
    # B logs a day and asks a question from B's phone
    page = client.get(f"/p/{tokens[1]}/day").get_data(as_text=True)
    client.post(f"/p/{tokens[1]}/day", data={**_hidden(page), "note": "Badger day note",
                                              "question": "Bison question", "pain": "3"})  # fmt: skip
    # A logs too, so A's pages have logs to show
    page = client.get(f"/p/{tokens[0]}/day").get_data(as_text=True)
    client.post(f"/p/{tokens[0]}/day", data={**_hidden(page), "note": "Aardvark day note"})
    return {"a": tokens[0], "b": tokens[1], "plans": plans, "foreign": other_clinic}


def _urls(app, token: str) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint not in PATIENT_ENDPOINTS or "GET" not in rule.methods:
                continue
            values = {"key": token} if "key" in rule.arguments else {}
            if "index" in rule.arguments:
                values["index"] = 0
            urls.append(app.url_for(rule.endpoint, **values))
    query = "?first=08:00&second=12:00&third=18:00&fourth=21:00"
    return [u + query if u.endswith(".ics") else u for u in urls]


def test_no_patient_route_shows_another_patients_data_or_any_other_field(app, two_patients):
    client = app.test_client()
    urls = _urls(app, two_patients["a"])
    assert len(urls) >= 9
    shown_own_log = False
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = _without_hex(response.get_data(as_text=True))
        for marker in (*A_HIDDEN, *B_MARKERS, *FOREIGN_TEXT):
            assert marker not in text, (url, marker)
        if url.endswith("/guide/0"):
            assert "Wendy" not in text or "Hello" not in text
        shown_own_log |= "Aardvark day note" in text
    # the day sheet shows the patient's own note back; the first name greets them
    assert shown_own_log
    assert "Hello Wendy</h1>" in client.get(f"/p/{two_patients['a']}").get_data(as_text=True)
    # and a bad POST re-shows only the patient's own form
    page = client.get(f"/p/{two_patients['a']}/day").get_data(as_text=True)
    bad = client.post(f"/p/{two_patients['a']}/day", data={**_hidden(page), "pain": "99"})
    assert bad.status_code == 400
    assert not any(m in _without_hex(bad.get_data(as_text=True)) for m in (*A_HIDDEN, *B_MARKERS))


def test_a_link_never_shows_another_patients_logs(app, two_patients):
    client = app.test_client()
    for url in _urls(app, two_patients["b"]):
        assert "Aardvark" not in client.get(url).get_data(as_text=True), url
