"""The patient's companion: the link, the phone pages, logs from the phone, and their limits."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from prescriptions.audit import Actor, verify_chain
from prescriptions.companion.operations import issue_link, revoke_link
from prescriptions.companion.tokens import code_for, link_key, token_for
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, LogEntry, Patient, PatientLink, Plan, User
from tests.factories import committing


@pytest.fixture
def world(app, make_clinic, make_user, make_patient, make_assessment, make_plan, issue_plan):
    """One clinic, one patient on an issued plan that started yesterday, with a live link."""
    clinic = make_clinic(name="Harbour Physio", address="1 Quay Street", phone="+44 1 234")
    user = make_user(clinic, name="Tess Therapist")
    patient = make_patient(
        clinic,
        given_name="Annabel",
        family_name="Quigley",
        preferred_name="Bel Q",
        chart_number="HX-4471",
        date_of_birth=date(1961, 3, 9),
        address="22 Privet Lane",
        diagnoses=["stress_ui"],
    )
    make_assessment(patient, user)
    plan = make_plan(patient, start=date.today() - timedelta(days=1))
    issue_plan(plan)
    with committing(app):
        link = issue_link(db.session.get(Patient, patient), _key(app), _by(user), None)
        nonce = link.nonce
    return {
        "clinic": clinic, "user": user, "patient": patient, "plan": plan,
        "token": token_for(_key(app), nonce), "code": code_for(_key(app), nonce),
    }  # fmt: skip


def _key(app) -> bytes:
    return link_key(app.config["SECRET_KEY"])


def _by(user_id: int) -> Actor:
    return Actor(db.session.get(User, user_id))


def _form(page: bytes) -> dict[str, str]:
    text = page.decode()
    return {
        "form_key": re.search(r'name="form_key" value="([^"]+)"', text)[1],
        "key": re.search(r'name="key" value="([^"]+)"', text)[1],
    }


def _entry(app, plan_id: int) -> LogEntry | None:
    with app.app_context():
        return db.session.scalar(
            sa.select(LogEntry).where(LogEntry.plan_id == plan_id, LogEntry.day == date.today())
        )


def test_the_token_has_more_than_128_bits_and_only_its_hash_is_stored(app, world):
    assert len(world["token"]) * 6 >= 128
    with app.app_context():
        link = db.session.scalar(sa.select(PatientLink))
        stored = " ".join(str(v) for v in vars(link).values())
    assert world["token"] not in stored
    assert world["code"].replace("-", "") not in stored


def test_the_phone_page_shows_today_and_nothing_identifying(client, world):
    response = client.get(f"/p/{world['token']}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "<title>Your exercise plan</title>" in text
    assert "Hello Bel" in text
    for secret in ("Quigley", "Annabel", "HX-4471", "1961", "Privet", "Quay Street",
                   "Harbour Physio", "Tess Therapist", "stress", "Stress"):  # fmt: skip
        assert secret not in text, secret
    assert "hold your breath" not in text.lower()
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert 'name="robots" content="noindex' in text
    assert "Set-Cookie" not in response.headers


def test_the_typed_code_opens_the_same_page(client, world):
    response = client.get("/p", query_string={"code": world["code"].lower().replace("-", " ")})
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 200


def test_one_tap_logs_a_session_once_per_key_as_the_patient(app, client, world):
    page = client.get(f"/p/{world['token']}").data
    form = _form(page)
    for _ in range(3):  # a retried tap, same key
        assert client.post(f"/p/{world['token']}/tap", data=form).status_code == 303
    entry = _entry(app, world["plan"])
    assert entry.sessions_done == 1
    assert entry.entered_by_id is None and entry.entered_by_link_id is not None
    assert entry.patient_entry == {"sessions_done": 1}
    form["key"] = "another-key-123"
    answer = client.post(
        f"/p/{world['token']}/tap", data=form, headers={"Accept": "application/json"}
    )
    assert answer.json == {"ok": True, "counted": True, "full": False}
    assert _entry(app, world["plan"]).sessions_done == 2


def test_a_post_without_the_links_form_key_writes_nothing(app, client, world):
    form = _form(client.get(f"/p/{world['token']}").data)
    form["form_key"] = "forged"
    assert client.post(f"/p/{world['token']}/tap", data=form).status_code == 400
    assert _entry(app, world["plan"]) is None


def test_patient_writes_are_audited_with_the_link_as_actor(app, client, world):
    form = _form(client.get(f"/p/{world['token']}").data)
    client.post(f"/p/{world['token']}/tap", data=form)
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "companion.session")
        )
        link_id = db.session.scalar(sa.select(PatientLink.id))
        assert event.actor == f"patient-link:{link_id}" and event.user_id is None
        assert event.clinic_id == world["clinic"]
        from prescriptions.audit import audit_key

        assert verify_chain(audit_key(), world["clinic"]) is None


def test_the_day_sheet_and_a_question_reach_the_therapist(app, client, world, sign_in_as):
    form = _form(client.get(f"/p/{world['token']}/day").data)
    bad = client.post(f"/p/{world['token']}/day", data={**form, "pain": "11"})
    assert bad.status_code == 400 and "A number from 0 to 10." in bad.get_data(as_text=True)
    assert _entry(app, world["plan"]) is None
    data = {**form, "leaks": "2", "leak_trigger": "sneezing", "urgency": "1", "pain": "7",
            "longest_hold_s": "6", "note": "tired", "question": "Can I do them standing?"}  # fmt: skip
    assert client.post(f"/p/{world['token']}/day", data=data).status_code == 303
    entry = _entry(app, world["plan"])
    assert (entry.leaks, entry.pain, entry.urgency, entry.leak_trigger) == (2, 7, 1, "sneezing")
    start = sign_in_as(world["user"]).get("/").get_data(as_text=True)
    assert "Can I do them standing?" in start
    assert "7/10" in start


def test_a_later_staff_entry_keeps_the_patients_on_record(app, client, world, log_week):
    form = _form(client.get(f"/p/{world['token']}/day").data)
    client.post(f"/p/{world['token']}/day", data={**form, "leaks": "3", "pain": "2"})
    today = (date.today() - (date.today() - timedelta(days=1))).days  # day 1 of week 1
    log_week(world["plan"], 1, days={today: {"sessions_done": 2, "leaks": 1, "pain": 2}})
    entry = _entry(app, world["plan"])
    assert (entry.sessions_done, entry.leaks) == (2, 1)
    assert entry.entered_by_id == world["user"]
    assert entry.patient_entry["leaks"] == 3  # the patient's own, kept beside
    # a later tap from the phone leaves the staff values as they are
    form = _form(client.get(f"/p/{world['token']}").data)
    client.post(f"/p/{world['token']}/tap", data=form)
    entry = _entry(app, world["plan"])
    assert entry.sessions_done == 2 and entry.patient_entry["sessions_done"] == 1


@pytest.mark.parametrize("how", ["unknown", "revoked", "reissued", "expired"])
def test_dead_links_answer_like_a_missing_one(app, client, world, how):
    missing = client.get("/p/" + "A" * 32)
    token = world["token"]
    if how == "unknown":
        token = "B" * 32
    elif how in ("revoked", "reissued"):
        with committing(app):
            link = db.session.scalar(sa.select(PatientLink))
            if how == "revoked":
                revoke_link(link, _by(world["user"]))
            else:
                issue_link(link.patient, _key(app), _by(world["user"]), link)
    else:
        _expire(app, world["plan"])
    for path in ("", "/day", "/week", "/reminders", "/print", "/guide/0"):
        got = client.get(f"/p/{token}{path}")
        assert (got.status_code, got.data) == (missing.status_code, missing.data), path
    got = client.post(f"/p/{token}/tap", data={"form_key": "x", "key": "abcdefgh"})
    assert (got.status_code, got.data) == (missing.status_code, missing.data)


def test_the_calendar_has_a_reminder_for_each_session_of_every_day(app, client, world):
    page = client.get(f"/p/{world['token']}/reminders")
    assert page.status_code == 200
    with app.app_context():
        plan = db.session.get(Plan, world["plan"])
        per_week = {}
        for item in plan.items:
            per_week[item.week] = max(per_week.get(item.week, 0), item.sessions_per_day)
    most = max(per_week.values())
    times = {"first": "07:30", "second": "12:00", "third": "18:15", "fourth": "21:00"}
    response = client.get(f"/p/{world['token']}/calendar.ics", query_string=times)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == sum(7 * n for n in per_week.values())
    assert all(e.walk("VALARM") for e in events)
    assert events[0]["DTSTART"].dt.strftime("%H:%M") == "07:30"
    too_few = client.get(f"/p/{world['token']}/calendar.ics", query_string={"first": "25:00"})
    assert too_few.status_code == 400 and "24-hour" in too_few.get_data(as_text=True)
    assert most >= 1


def test_patient_routes_are_rate_limited_per_link(app_factory, world):
    app = app_factory(COMPANION_LIMIT_PER_LINK=3)
    client = app.test_client()
    codes = [client.get(f"/p/{world['token']}").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_patient_routes_are_rate_limited_per_address(app_factory, world):
    app = app_factory(COMPANION_LIMIT_PER_ADDRESS=2)
    client = app.test_client()
    codes = [client.get(f"/p/{'C' * 31}{n}").status_code for n in range(4)]
    assert codes == [404, 404, 429, 429]


def test_the_therapist_shows_reissues_and_revokes_the_link(app, world, sign_in_as):
    staff = sign_in_as(world["user"])
    page = staff.get(f"/patients/{world['patient']}/companion").get_data(as_text=True)
    assert world["code"] in page and "FLOORPLAN_PUBLIC_URL is not set" in page
    assert staff.post(f"/patients/{world['patient']}/companion/issue").status_code == 302
    client = app.test_client()
    assert client.get(f"/p/{world['token']}").status_code == 404  # the old one stopped at once
    assert staff.post(f"/patients/{world['patient']}/companion/revoke").status_code == 302
    page = staff.get(f"/patients/{world['patient']}/companion").get_data(as_text=True)
    assert "Revoked" in page


@pytest.mark.parametrize("prefix", ["", "/floorplan"])
def test_with_a_public_url_the_page_shows_the_link_and_its_qr(app_factory, world, prefix):
    # Under a path prefix (SCRIPT_NAME), PUBLIC_URL the site's origin: the prefix, once.
    app = app_factory(PUBLIC_URL="https://clinic.example")
    staff = app.test_client()
    from tests.factories import login

    with app.app_context():
        email = db.session.get(User, world["user"]).email
    login(staff, email)
    page = staff.get(
        f"/patients/{world['patient']}/companion", base_url=f"http://localhost{prefix}/"
    ).get_data(as_text=True)
    shown = re.search(r'Link: <code class="wrap">([^<]+)</code>', page)
    assert shown and shown.group(1) == f"https://clinic.example{prefix}/p/{world['token']}"
    assert "data:image/svg+xml" in page
    assert f"at <code>{prefix}/p</code>" in page  # where to type the handout's code


def test_every_patient_page_answers(client, world):
    for path in ("", "/day", "/week", "/reminders", "/print", "/guide/0"):
        response = client.get(f"/p/{world['token']}{path}")
        assert response.status_code == 200, path
        assert "hold your breath" not in response.get_data(as_text=True).lower(), path
    assert client.get("/p/sw.js").status_code == 200
    assert client.get("/p").status_code == 200


def test_the_plan_page_shows_the_link_and_the_week_log_shows_the_patients_entry(
    client, world, sign_in_as
):
    form = _form(client.get(f"/p/{world['token']}").data)
    client.post(f"/p/{world['token']}/tap", data=form)
    staff = sign_in_as(world["user"])
    page = staff.get(f"/plans/{world['plan']}").get_data(as_text=True)
    assert "Phone link: issued" in page and "last used" in page
    assert "no QR code on the handout: FLOORPLAN_PUBLIC_URL is not set" in page
    week = staff.get(f"/plans/{world['plan']}/weeks/1/log").get_data(as_text=True)
    assert "From the phone: 1 sessions" in week


def test_yesterdays_sheet_can_be_filled_in_later_but_not_a_day_outside_the_window(
    app, client, world
):
    yesterday = date.today() - timedelta(days=1)
    page = client.get(f"/p/{world['token']}/day", query_string={"on": yesterday.isoformat()})
    assert yesterday.strftime("%A %d %B %Y") in page.get_data(as_text=True)
    data = {**_form(page.data), "on": yesterday.isoformat(), "leaks": "4"}
    assert client.post(f"/p/{world['token']}/day", data=data).status_code == 303
    with app.app_context():
        entry = db.session.scalar(sa.select(LogEntry).where(LogEntry.day == yesterday))
        assert entry.leaks == 4 and entry.entered_by_link_id is not None
    # a day before the plan, in the future or not a day: refused with a message, nothing saved
    later = (date.today() + timedelta(days=1)).isoformat()
    for n, on in enumerate(("2001-01-01", later, "yesterday")):
        data = {**_form(page.data), "key": f"other-key-{n}", "on": on, "leaks": "1"}
        got = client.post(f"/p/{world['token']}/day", data=data)
        assert got.status_code == 400, on
        assert "can no longer be filled in from your phone" in got.get_data(as_text=True)
        got = client.post(
            f"/p/{world['token']}/day", data=data, headers={"Accept": "application/json"}
        )
        assert (got.status_code, got.json) == (400, {"ok": False, "error": "day"})
    assert _entry(app, world["plan"]) is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LogEntry.id))) == 1


def _expire(app, plan_id: int) -> None:
    """The plan, and the programme it is the block of, ended 31 days ago."""
    with committing(app):
        plan = db.session.get(Plan, plan_id)
        plan.end_date = date.today() - timedelta(days=31)
        plan.start_date = plan.end_date - timedelta(days=27)
        plan.issued_at = plan.issued_at - timedelta(days=60)
        plan.programme.status, plan.programme.ended_on = "finished", plan.end_date


def test_a_link_stays_open_while_the_programme_runs_and_ends_after_it(app, client, world):
    """Block 1 of 3 ended 31 days ago: the programme runs on, so does the link; once it
    stopped 31 days ago, the link is closed."""
    with committing(app):
        plan = db.session.get(Plan, world["plan"])
        plan.end_date = date.today() - timedelta(days=31)
        plan.start_date = plan.end_date - timedelta(days=27)
        assert (plan.block_number, plan.programme.block_count) == (1, 3)
    assert client.get(f"/p/{world['token']}").status_code == 200
    with committing(app):
        programme = db.session.get(Plan, world["plan"]).programme
        programme.status, programme.ended_on = "stopped", date.today() - timedelta(days=31)
    assert client.get(f"/p/{world['token']}").status_code == 404


def test_an_ended_link_stays_ended_when_a_new_plan_is_issued(
    app, client, world, make_plan, issue_plan, sign_in_as
):
    assert client.get(f"/p/{world['token']}").status_code == 200
    _expire(app, world["plan"])
    assert client.get(f"/p/{world['token']}").status_code == 404
    # a new episode: the patient's next plan does not bring the old link back
    issue_plan(make_plan(world["patient"], start=date.today()))
    for path in ("", "/day", "/week"):
        assert client.get(f"/p/{world['token']}{path}").status_code == 404, path
    assert client.get(f"/p/{world['code']}").status_code == 404
    # a reissue does
    staff = sign_in_as(world["user"])
    assert staff.post(f"/patients/{world['patient']}/companion/issue").status_code == 302
    with app.app_context():
        link = db.session.scalar(sa.select(PatientLink))
        token = token_for(_key(app), link.nonce)
        # the new plan is block 1 of a new three-block programme: 30 days after its last block
        assert link.ends_on == date.today() + timedelta(days=27 + 2 * 28 + 30)
    assert client.get(f"/p/{token}").status_code == 200


def test_a_link_issued_from_the_plan_page_keeps_its_end_even_unopened(
    app, client, world, make_plan, issue_plan, sign_in_as
):
    staff = sign_in_as(world["user"])
    assert staff.post(f"/patients/{world['patient']}/companion/issue").status_code == 302
    with committing(app):
        link = db.session.scalar(sa.select(PatientLink))
        token = token_for(_key(app), link.nonce)
        link.ends_on = date.today() - timedelta(days=1)  # its plan ended 31 days ago
    issue_plan(make_plan(world["patient"], start=date.today()))  # issued after that
    assert client.get(f"/p/{token}").status_code == 404


def test_a_tap_counts_on_the_day_the_phone_sent_within_the_window(app, client, world):
    form = _form(client.get(f"/p/{world['token']}").data)
    yesterday = date.today() - timedelta(days=1)
    json = {"Accept": "application/json"}
    sent = client.post(
        f"/p/{world['token']}/tap", data={**form, "on": yesterday.isoformat()}, headers=json
    )
    assert sent.json == {"ok": True, "counted": True, "full": False}
    with app.app_context():
        entry = db.session.scalar(sa.select(LogEntry).where(LogEntry.day == yesterday))
        assert entry.sessions_done == 1
    assert _entry(app, world["plan"]) is None
    # a day before the plan, in the future or not a day: a JSON refusal, nothing written
    for n, on in enumerate(("2001-01-01", (date.today() + timedelta(days=1)).isoformat(), "x")):
        got = client.post(
            f"/p/{world['token']}/tap", data={**form, "key": f"key-{n}-abcdef", "on": on},
            headers=json,
        )  # fmt: skip
        assert (got.status_code, got.json) == (400, {"ok": False, "error": "day"}), on
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LogEntry.id))) == 1


def test_an_archived_patients_link_does_not_open_and_can_still_be_revoked(
    app, client, world, sign_in_as
):
    missing = client.get("/p/" + "A" * 32)
    assert client.get(f"/p/{world['token']}").status_code == 200
    staff = sign_in_as(world["user"])
    assert staff.post(f"/patients/{world['patient']}/archive").status_code == 302
    for key in (world["token"], world["code"]):
        got = client.get(f"/p/{key}")
        assert (got.status_code, got.data) == (missing.status_code, missing.data)
    show = staff.get(f"/patients/{world['patient']}").get_data(as_text=True)
    assert f"/patients/{world['patient']}/companion" in show
    manage = staff.get(f"/patients/{world['patient']}/companion").get_data(as_text=True)
    assert "the patient is archived" in manage and ">Revoke</button>" in manage
    assert staff.post(f"/patients/{world['patient']}/companion/revoke").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(PatientLink.revoked_at)) is not None


def test_the_stored_hashes_are_keyed_and_a_new_secret_key_ends_the_link(app_factory, world):
    import hashlib

    from prescriptions.companion.queries import fetch_printed_keys

    plain = {hashlib.sha256(t.encode()).hexdigest()
             for t in (world["token"], world["code"].replace("-", ""))}  # fmt: skip
    rotated = app_factory(SECRET_KEY="another-secret-key-" + "x" * 32)
    with rotated.app_context():
        link = db.session.scalar(sa.select(PatientLink))
        assert {link.token_hash, link.code_hash}.isdisjoint(plain)  # nothing to test guesses on
        new_key = link_key(rotated.config["SECRET_KEY"])
        assert fetch_printed_keys(world["clinic"], {world["patient"]}, new_key) == {}
    phone = rotated.test_client()
    missing = phone.get("/p/" + "A" * 32)
    for key in (world["token"], world["code"], token_for(new_key, link.nonce)):
        got = phone.get(f"/p/{key}")
        assert (got.status_code, got.data) == (missing.status_code, missing.data), key
    from tests.factories import login

    staff = rotated.test_client()
    with rotated.app_context():
        login(staff, db.session.get(User, world["user"]).email)
    page = staff.get(f"/patients/{world['patient']}/companion").get_data(as_text=True)
    assert "no longer opens: the server's secret key has changed" in page
    assert code_for(new_key, link.nonce) not in page and world["code"] not in page
    assert staff.post(f"/patients/{world['patient']}/companion/issue").status_code == 302
    with rotated.app_context():
        link = db.session.scalar(sa.select(PatientLink))
        fresh = token_for(new_key, link.nonce)
    assert phone.get(f"/p/{fresh}").status_code == 200


def test_the_per_address_limit_counts_an_ipv6_64_as_one_address(app_factory, world):
    app = app_factory(COMPANION_LIMIT_PER_ADDRESS=2)
    codes = [
        app.test_client()
        .get(f"/p/{'D' * 32}", environ_base={"REMOTE_ADDR": f"2001:db8::{n}"})
        .status_code
        for n in range(1, 4)
    ]
    assert codes == [404, 404, 429]
    other = app.test_client().get(f"/p/{'D' * 32}", environ_base={"REMOTE_ADDR": "2001:db8:1::1"})
    assert other.status_code == 404  # another /64


def test_error_pages_on_patient_routes_are_the_companions_own(client, world, monkeypatch):
    import prescriptions.companion.phone_views as views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "today_page", broken)
    answers = {
        "routing 404": client.get(f"/p/{world['token']}/no/such/page"),
        "405": client.post(f"/p/{world['token']}/week"),
        "500": client.get(f"/p/{world['token']}"),
    }
    for name, got in answers.items():
        text = got.get_data(as_text=True)
        assert got.status_code in (404, 405, 500), name
        assert "<title>Your exercise plan</title>" in text, name
        assert "/login" not in text and "FloorPlan" not in text, name
        assert got.headers["Referrer-Policy"] == "no-referrer", name
        assert got.headers["Cache-Control"] == "no-store", name


def test_a_page_view_saves_last_used_at_most_every_few_minutes(app, client, world):
    from prescriptions.models import utcnow

    def last_used():
        with app.app_context():
            return db.session.scalar(sa.select(PatientLink.last_used_at))

    assert last_used() is None
    assert client.get(f"/p/{world['token']}/week").status_code == 200
    first = last_used()
    assert first is not None and abs(utcnow() - first) < timedelta(minutes=1)
    with committing(app):
        db.session.scalar(sa.select(PatientLink)).last_used_at = first - timedelta(minutes=2)
    client.get(f"/p/{world['token']}")
    assert last_used() == first - timedelta(minutes=2)  # a recent use: no write
    with committing(app):
        db.session.scalar(sa.select(PatientLink)).last_used_at = first - timedelta(minutes=9)
    client.get(f"/p/{world['token']}")
    assert last_used() > first - timedelta(minutes=1)
    assert client.get("/p/" + "E" * 32).status_code == 404


def test_a_links_token_and_code_in_any_spelling_share_one_count(app_factory, world):
    from prescriptions.models import SignInCounter

    app = app_factory(COMPANION_LIMIT_PER_LINK=3)
    client = app.test_client()
    code = world["code"]
    keys = [world["token"], code, code.lower(), code.replace("-", ""), world["token"]]
    assert [client.get(f"/p/{k}").status_code for k in keys] == [200, 200, 200, 429, 429]
    for n in range(5):  # made-up keys leave no per-link counter behind
        client.get(f"/p/{'F' * 31}{n}")
    with app.app_context():
        scopes = db.session.execute(
            sa.select(SignInCounter.scope, SignInCounter.subject).where(
                SignInCounter.scope == "patient-link"
            )
        ).all()
        assert len(scopes) == 1


def test_the_service_worker_is_counted_and_old_counters_are_cleared(app_factory, world):
    from prescriptions.models import SignInCounter, utcnow

    app = app_factory(COMPANION_LIMIT_PER_ADDRESS=2)
    with committing(app):
        db.session.add(SignInCounter(scope="patient-address", subject="203.0.113.9",
                                     failures=7, window_start=utcnow() - timedelta(days=2)))  # fmt: skip
    client = app.test_client()
    assert [client.get("/p/sw.js").status_code for _ in range(3)] == [200, 200, 429]
    with app.app_context():
        subjects = set(db.session.scalars(sa.select(SignInCounter.subject)))
        assert "203.0.113.9" not in subjects


def test_the_calendars_uids_name_no_plan_and_no_software(app, client, world):
    times = {"first": "07:30", "second": "12:00", "third": "18:15", "fourth": "21:00"}
    got = client.get(f"/p/{world['token']}/calendar.ics", query_string=times)
    uids = [str(e["UID"]) for e in Calendar.from_ical(got.data).walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    assert all("floorplan" not in u.lower() and not u.startswith(f"{world['plan']}-") for u in uids)
    again = client.get(f"/p/{world['token']}/calendar.ics", query_string=times)
    assert [str(e["UID"]) for e in Calendar.from_ical(again.data).walk("VEVENT")] == uids


def test_an_unknown_key_costs_the_same_reads_as_an_ended_link(app, client, world):
    assert client.get(f"/p/{world['token']}").status_code == 200
    from sqlalchemy import event

    def reads(path: str) -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            client.get(path)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return sum(1 for s in seen if s.lstrip().upper().startswith("SELECT"))

    _expire(app, world["plan"])
    client.get(f"/p/{world['token']}")  # found ended: kept so on the link
    client.get("/p")  # the first request's own checks (set-up done, counters cleared)
    assert reads(f"/p/{world['token']}/week") == reads("/p/" + "G" * 32 + "/week")


def test_the_therapists_link_actions_need_the_sessions_csrf_token(app_factory, world):
    from tests.factories import PASSWORD

    app = app_factory(WTF_CSRF_ENABLED=True)
    staff = app.test_client()
    with app.app_context():
        email = db.session.get(User, world["user"]).email
        before = db.session.scalar(sa.select(PatientLink.nonce))
    page = staff.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    staff.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    base = f"/patients/{world['patient']}/companion"
    assert staff.get(base).status_code == 200
    for action in ("issue", "revoke", "send"):
        got = staff.post(f"{base}/{action}", data={"email": "a@b.example"})
        assert got.status_code in (400, 404), action
    with app.app_context():
        link = db.session.scalar(sa.select(PatientLink))
        assert link.nonce == before and link.revoked_at is None
    page = staff.get(base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    assert staff.post(f"{base}/revoke", data={"csrf_token": token}).status_code == 302


def test_every_patient_answer_carries_the_patient_headers(app_factory, world):
    app = app_factory(COMPANION_LIMIT_PER_LINK=12)
    client = app.test_client()
    token = world["token"]
    paths = ["", "/day", "/week", "/reminders", "/print", "/guide/0", "/calendar.ics"]
    answers = [client.get(f"/p/{token}{p}") for p in paths]
    answers += [client.get("/p"), client.get("/p", query_string={"code": "nope"})]
    answers += [client.get(f"/p/{'H' * 32}{p}") for p in paths]  # unknown: the missing page
    answers += [client.get(f"/p/{token}") for _ in range(6)]  # the last ones are 429s
    assert answers[-1].status_code == 429
    for got in answers:
        where = (got.request.path, got.status_code)
        assert got.headers["Referrer-Policy"] == "no-referrer", where
        assert "noindex" in got.headers["X-Robots-Tag"], where
        assert got.headers["Cache-Control"] == "no-store", where
        assert "Set-Cookie" not in got.headers, where
    worker = client.get("/p/sw.js")
    assert worker.headers["Referrer-Policy"] == "no-referrer"
