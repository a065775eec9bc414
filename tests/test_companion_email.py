"""'Send to patient': the phone link by e-mail through the clinic's SMTP server (aiosmtpd here),
a short plain message with the link and no health details."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa

from prescriptions.audit import Actor
from prescriptions.auth.mail import wait_for_background
from prescriptions.companion.operations import issue_link
from prescriptions.companion.tokens import link_key, token_for
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, Patient, User
from tests.factories import committing, login

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

PUBLIC_URL = "https://clinic.example"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[object] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd API
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Mailbox()
    controller = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    wait_for_background()
    controller.stop()


def test_send_to_patient_mails_the_link_without_health_details(
    app_factory, mailbox, make_clinic, make_user, make_patient, make_plan, issue_plan
):
    handler, port = mailbox
    app = app_factory(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SECURITY="none",
        MAIL_SENDER="Clinic <no-reply@clinic.example>", PUBLIC_URL=PUBLIC_URL,
    )  # fmt: skip
    clinic = make_clinic(name="Seaview Clinic")
    user = make_user(clinic)
    patient = make_patient(
        clinic, given_name="Rosalind", family_name="Thwaite", preferred_name="Ros",
        chart_number="SV-1", email="ros@home.example", diagnoses=["urge_ui"],
    )  # fmt: skip
    issue_plan(make_plan(patient, start=date.today() - timedelta(days=1)))
    key = link_key(app.config["SECRET_KEY"])
    with committing(app):
        link = issue_link(
            db.session.get(Patient, patient), key, Actor(db.session.get(User, user)), None
        )
        token = token_for(key, link.nonce)
        email = db.session.get(User, user).email
    staff = app.test_client()
    login(staff, email)
    page = staff.get(f"/patients/{patient}/companion").get_data(as_text=True)
    assert "Send to patient" in page
    response = staff.post(f"/patients/{patient}/companion/send", data={"email": "ros@home.example"})
    assert response.status_code == 302
    assert handler.arrived.wait(10)
    (message,) = handler.messages
    body = message.get_content()
    assert message["To"] == "ros@home.example"
    assert f"{PUBLIC_URL}/p/{token}" in body
    assert "Hello Ros," in body
    for detail in ("Thwaite", "SV-1", "urge", "Urge", "pelvic", "Pelvic", "incontinence", "leak"):
        assert detail not in body and detail not in message["Subject"], detail
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEvent.action == "companion.send")
            )
            == 1
        )


def test_send_refuses_a_bad_address_an_ended_link_and_mails_only_what_is_on_record(
    app_factory, mailbox, make_clinic, make_user, make_patient, make_plan, issue_plan, monkeypatch
):
    handler, port = mailbox
    app = app_factory(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SECURITY="none",
        MAIL_SENDER="Clinic <no-reply@clinic.example>", PUBLIC_URL=PUBLIC_URL,
    )  # fmt: skip
    clinic = make_clinic(name="Continence Clinic")
    user = make_user(clinic)
    patient = make_patient(clinic, email="ros@home.example")
    plan = make_plan(patient, start=date.today() - timedelta(days=1))
    issue_plan(plan)
    with committing(app):
        issue_link(db.session.get(Patient, patient), link_key(app.config["SECRET_KEY"]),
                   Actor(db.session.get(User, user)), None)  # fmt: skip
        email = db.session.get(User, user).email
    staff = app.test_client()
    login(staff, email)
    send = f"/patients/{patient}/companion/send"
    for bad in ("ros@home.example\r\nBcc: x@evil.example", "ros@home.example\nX: y", "ros"):
        got = staff.post(send, data={"email": bad}, follow_redirects=True)
        assert got.status_code == 200 and "like name@example.com" in got.get_data(as_text=True)
    # the audit row is written before the mail leaves: no record, no mail
    import prescriptions.companion.views as views

    def no_record(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(views, "record_event", no_record)
    assert staff.post(send, data={"email": "ros@home.example"}).status_code == 500
    monkeypatch.undo()
    assert staff.post(send, data={"email": "ros@home.example"}).status_code == 302
    assert handler.arrived.wait(10)
    (message,) = handler.messages
    assert message["Subject"] == "Your exercise plan"  # no clinic name
    # an ended link is not sent
    with committing(app):
        from prescriptions.models import PatientLink, Plan

        row = db.session.get(Plan, plan)
        row.end_date = date.today() - timedelta(days=31)
        row.start_date = row.end_date - timedelta(days=27)
        db.session.scalar(sa.select(PatientLink)).ends_on = date.today() - timedelta(days=1)
    got = staff.post(send, data={"email": "ros@home.example"}, follow_redirects=True)
    assert "does not open any more" in got.get_data(as_text=True)
    wait_for_background()
    assert len(handler.messages) == 1


def test_without_smtp_there_is_no_send_button(app, world_link):
    staff, patient = world_link
    page = staff.get(f"/patients/{patient}/companion").get_data(as_text=True)
    assert "Send to patient" not in page
    assert (
        staff.post(f"/patients/{patient}/companion/send", data={"email": "a@b.example"}).status_code
        == 404
    )


@pytest.fixture
def world_link(app, make_clinic, make_user, make_patient, sign_in_as):
    clinic = make_clinic()
    user = make_user(clinic)
    patient = make_patient(clinic)
    with committing(app):
        issue_link(db.session.get(Patient, patient), link_key(app.config["SECRET_KEY"]),
                   Actor(db.session.get(User, user)), None)  # fmt: skip
    return sign_in_as(user), patient
