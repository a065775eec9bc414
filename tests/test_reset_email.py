"""Self-service reset by e-mail, against a local SMTP server the test starts (aiosmtpd): one answer
and the same timing whether or not an address has an account, limits per address and account."""

from __future__ import annotations

import asyncio
import re
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa

from prescriptions.auth.mail import wait_for_background
from prescriptions.extensions import db
from prescriptions.models import AuditEvent
from tests.factories import login

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

PUBLIC_URL = "https://floorplan.example.org"
SENT = "If that address belongs to an account, a link to choose a new password is on its way."


class Mailbox:
    """An SMTP handler that keeps what it receives; optionally slow, like a real relay."""

    def __init__(self) -> None:
        self.messages: list[object] = []
        self.delay = 0.0
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd API
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.arrived.set()
        return "250 OK"

    def wait(self, count: int, timeout: float = 10.0) -> list[object]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    port = _free_port()
    controller = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(autouse=True)
def _background_jobs_finish() -> Iterator[None]:
    """Mail jobs run on threads: let them finish before the database is emptied."""
    yield
    wait_for_background()


@pytest.fixture
def mail_app(app_factory, mailbox):
    _, port = mailbox
    return app_factory(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_SECURITY="none",
        MAIL_SENDER="FloorPlan <no-reply@floorplan.example.org>",
        PUBLIC_URL=PUBLIC_URL,
    )


def _ask(client, email: str):
    return client.post("/login/forgot", data={"email": email})


def _flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def test_the_link_arrives_and_works_once(mail_app, mailbox, clinician):
    box, _ = mailbox
    client = mail_app.test_client()
    assert "Forgot your password?" in client.get("/login").get_data(as_text=True)
    response = _ask(client, clinician.email.upper())
    assert response.status_code == 302 and response.location.endswith("/login")
    assert any(SENT in m for m in _flashes(client))
    [message] = box.wait(1)
    assert message["To"] == clinician.email
    body = message.get_content()
    link = re.search(re.escape(PUBLIC_URL) + r"(/reset/[\w-]+)", body).group(1)
    new = "a passphrase from the e-mail"
    reader = mail_app.test_client()
    assert reader.post(link, data={"password": new, "confirm": new}).status_code == 302
    assert reader.get(link).status_code == 404
    assert login(mail_app.test_client(), clinician.email, new).status_code == 302
    with mail_app.app_context():
        actions = list(
            db.session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.clinic_id == clinician.clinic_id)
            )
        )
    assert "auth.reset_made" in actions and "auth.reset_used" in actions


def test_the_same_answer_whether_or_not_the_address_exists(mail_app, mailbox, clinician):
    box, _ = mailbox
    known, unknown = mail_app.test_client(), mail_app.test_client()
    a, b = _ask(known, clinician.email), _ask(unknown, "nobody@nowhere.test")
    assert (a.status_code, a.location, a.get_data()) == (b.status_code, b.location, b.get_data())
    assert _flashes(known) == _flashes(unknown)
    assert len(box.wait(1)) == 1
    time.sleep(0.3)
    assert len(box.messages) == 1  # nothing was sent to the unknown address


def test_the_link_ignores_the_host_header(mail_app, mailbox, clinician):
    box, _ = mailbox
    mail_app.test_client().post(
        "/login/forgot", data={"email": clinician.email}, headers={"Host": "evil.example"}
    )
    [message] = box.wait(1)
    assert PUBLIC_URL + "/reset/" in message.get_content()
    assert "evil.example" not in message.get_content()


def test_the_timing_does_not_tell_whether_an_address_has_an_account(
    app_factory, mailbox, clinician
):
    box, port = mailbox
    box.delay = 0.4  # a slow relay: sending during the request would show in its time
    app = app_factory(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_SECURITY="none",
        MAIL_SENDER="no-reply@floorplan.example.org",
        PUBLIC_URL=PUBLIC_URL,
        RESET_LIMIT_PER_ACCOUNT=100,
        RESET_LIMIT_PER_ADDRESS=100,
    )
    client = app.test_client()
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(8):
        for kind, email in (("known", clinician.email), ("unknown", f"nobody{n}@nowhere.test")):
            started = time.perf_counter()
            assert _ask(client, email).status_code == 302
            timings[kind].append(time.perf_counter() - started)
    known, unknown = (statistics.median(timings[k]) for k in ("known", "unknown"))
    print(f"median known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms")
    assert abs(known - unknown) < 0.05, timings
    assert known < box.delay  # the slow relay was never waited for
    assert len(box.wait(8, timeout=20)) == 8


def test_requests_are_limited_per_address_typed(mail_app, mailbox, clinician):
    box, _ = mailbox
    limit = mail_app.config["RESET_LIMIT_PER_ACCOUNT"]
    for email in (clinician.email, "nobody@nowhere.test"):
        client = mail_app.test_client()
        for n in range(limit):
            client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
            assert _ask(client, email).status_code == 302
        client.environ_base["REMOTE_ADDR"] = "198.51.100.99"
        response = _ask(client, email)
        assert response.status_code == 429  # alike for both: the limit says nothing either
        assert "Too many requests for a new password" in response.get_data(as_text=True)
    assert len(box.wait(limit)) == limit


def test_requests_are_limited_per_client_address(mail_app, mailbox, clinician):
    client = mail_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for n in range(mail_app.config["RESET_LIMIT_PER_ADDRESS"]):
        assert _ask(client, f"guess{n}@nowhere.test").status_code == 302
    assert _ask(client, clinician.email).status_code == 429
    neighbour = mail_app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert _ask(neighbour, clinician.email).status_code == 302


def test_a_mail_server_that_is_down_changes_nothing_for_the_person(app_factory, clinician, caplog):
    app = app_factory(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=_free_port(),  # nothing listens there
        MAIL_SECURITY="none",
        MAIL_SENDER="no-reply@floorplan.example.org",
        PUBLIC_URL=PUBLIC_URL,
        MAIL_TIMEOUT=2,
    )
    client = app.test_client()
    with caplog.at_level("WARNING"):
        response = _ask(client, clinician.email)
        assert response.status_code == 302
        deadline = time.monotonic() + 5
        while "could not be sent" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "could not be sent" in caplog.text and clinician.email not in caplog.text


def test_without_mail_there_is_no_self_service_reset(client, clinician):
    assert client.get("/login/forgot").status_code == 404
    assert client.post("/login/forgot", data={"email": clinician.email}).status_code == 404
    page = client.get("/login").get_data(as_text=True)
    assert "/login/forgot" not in page and "administrator can give you a link" in page


def test_bad_input_is_shown_beside_the_field(mail_app, clinician):
    response = mail_app.test_client().post("/login/forgot", data={"email": "a\x00b@x.test"})
    assert response.status_code == 400
    assert "Remove the control characters" in response.get_data(as_text=True)
