"""Fuzzing the administrator's clinic settings and audit filter (harness: tests/fuzzing.py)."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import strategies as st

from prescriptions.domain.vocab import Paper
from prescriptions.extensions import db
from prescriptions.models import Clinic, User
from tests.fuzzing import (
    BAD_DATES,
    FUZZ,
    Data,
    Target,
    bad_text,
    choice,
    dates,
    fuzz,
    line,
    lines,
    not_one_of,
    rows,
    same_or_replaced,
    too_long,
    valid_email_local,
    with_control,
)

pytestmark = FUZZ


def test_fuzz_clinic_settings(app: Flask, admin_client: FlaskClient, admin: User) -> None:
    def baseline(n: int) -> tuple[str, Data]:
        with app.app_context():
            clinic = db.session.get(Clinic, admin.clinic_id)
            version, name = clinic.version, clinic.name
        return "/admin/clinic", {
            "version": str(version),
            "name": name,
            "address": "1 Harbour Road",
            "phone": "+44 20 7946 0001",
            "email": "",
            "paper": "a4",
            "footer_text": f"Open weekdays ({n})",
            "country": "GB",
            "emergency_number": "999",
            "out_of_hours_number": "NHS 111",
        }

    def finish(values: Data, n: int) -> Data:
        return {**values, "phone": f"{values['phone'][:30]} ({n})"}  # always a change

    fuzz(
        app,
        Target(
            "clinic settings",
            baseline,
            lambda: admin_client,
            writes={"clinic": same_or_replaced, "audit_event": rows(1)},
            target="clinic",
            replaces=True,
            valid={
                "name": line(120),
                "address": lines(300),
                "phone": line(30),
                "email": st.one_of(st.just(""), valid_email_local().map(lambda s: f"{s}@x.test")),
                "paper": choice(Paper),
                "footer_text": line(300, required=False),
                "country": choice(["", "GB", "IE", "US", "EU", "XX"]),
                "emergency_number": st.from_regex(r"\A[0-9][0-9 +()-]{0,18}\Z"),
                "out_of_hours_number": line(40, required=False),
            },
            invalid={
                "name": bad_text(120),
                "address": bad_text(300, required=False, multiline=True),
                "phone": bad_text(40),
                "email": st.just("not-an-email"),
                "paper": not_one_of(Paper),
                "footer_text": bad_text(300, required=False),
                "country": not_one_of(["", "GB", "IE", "US", "EU", "XX"]),
                "emergency_number": st.sampled_from(["call us", "<b>9</b>", "+", "9" * 21]),
                "out_of_hours_number": bad_text(40, required=False),
                "version": st.sampled_from(["0", "-1", "x", "", "²"]),
            },
            finish=finish,
            rejected=(400, 409),
        ),
    )


def test_fuzz_audit_filter(app: Flask, admin_client: FlaskClient) -> None:
    from prescriptions.audit.views import AUDIT_GROUPS

    fuzz(
        app,
        Target(
            "audit filter",
            lambda n: (
                "/admin/audit",
                {"action": "", "actor": "", "first": "", "last": "", "page": "1"},
            ),
            lambda: admin_client,
            writes={},
            method="GET",
            accepted=(200,),
            valid={
                "action": choice(AUDIT_GROUPS),
                "actor": line(254, required=False),
                "first": dates(date(2000, 1, 1), date(2100, 1, 1)),
                "last": dates(date(2000, 1, 1), date(2100, 1, 1)),
                "page": st.integers(-(10**20), 10**20).map(str),
            },
            invalid={
                "action": not_one_of(AUDIT_GROUPS),
                "actor": st.one_of(too_long(254), with_control()),
                "first": st.one_of(BAD_DATES, st.just("1999-12-31")),
                "last": st.one_of(BAD_DATES, st.just("9999-12-31")),
            },
        ),
    )
