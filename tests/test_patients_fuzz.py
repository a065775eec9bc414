"""Fuzzing the patient and assessment forms and the patient list (harness: tests/fuzzing.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from hypothesis import strategies as st

from prescriptions.domain.vocab import CueSet, Diagnosis, Precaution, Relaxation
from prescriptions.extensions import db
from prescriptions.models import Patient
from tests.fuzzing import (
    BAD_DATES,
    FUZZ,
    MISSING,
    SEARCH,
    TAMPERED_ONCE,
    Data,
    Target,
    World,
    bad_number,
    bad_text,
    choice,
    dates,
    fuzz,
    line,
    lines,
    not_one_of,
    numbers,
    rows,
    same_or_replaced,
    search_every_nasty_text,
    subsets,
    valid_email_local,
)

pytestmark = FUZZ


def patient_fields(n: int) -> Data:
    return {
        "given_name": "Maria",
        "family_name": f"Fuzz{n}",
        "preferred_name": "",
        "date_of_birth": "1970-05-17",
        "chart_number": f"F{n:05d}",
        "cue_set": "female",
        "diagnoses": ["stress_ui"],
        "precautions": [],
        "phone": "",
        "email": "",
        "address": "",
        "notes": "",
    }


CHART = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,20}", fullmatch=True)


PATIENT_VALID = {
    "given_name": line(100),
    "family_name": line(100),
    "preferred_name": line(100, required=False),
    "date_of_birth": st.one_of(st.just(""), dates(date(1900, 1, 1), date.today())),
    "chart_number": CHART,
    "cue_set": choice(CueSet),
    "diagnoses": subsets(Diagnosis),
    "precautions": subsets(Precaution),
    "phone": line(40, required=False),
    "email": st.one_of(st.just(""), valid_email_local().map(lambda s: f"{s}@example.org")),
    "address": lines(300),
    "notes": lines(5000),
}


PATIENT_INVALID = {
    "given_name": bad_text(100),
    "family_name": bad_text(100),
    "preferred_name": bad_text(100, required=False),
    "date_of_birth": st.one_of(
        BAD_DATES, st.just("1899-12-31"), st.just((date.today() + timedelta(days=1)).isoformat())
    ),
    "chart_number": st.one_of(
        bad_text(40), st.sampled_from(["-leading", "has space", "a#b", "EXISTING-1"])
    ),
    "cue_set": not_one_of(CueSet),
    "diagnoses": st.lists(not_one_of(Diagnosis), min_size=1, max_size=2),
    "precautions": st.lists(not_one_of(Precaution), min_size=1, max_size=2),
    "phone": bad_text(40, required=False),
    "email": st.sampled_from(["not-an-email", "a@b@c", "@example.org"]),
    "address": bad_text(300, required=False, multiline=True),
    "notes": bad_text(5000, required=False, multiline=True),
}


def unique_chart(values: Data, n: int) -> Data:
    return {**values, "chart_number": f"{values['chart_number']}-n{n}"}


def test_fuzz_new_patient(app: Flask, world: World, make_patient: Any) -> None:
    make_patient(world.user.clinic_id, chart_number="EXISTING-1")
    fuzz(
        app,
        Target(
            "new patient",
            lambda n: ("/patients/new", {**patient_fields(n), "once": f"patient-{n}"}),
            lambda: world.client,
            writes={"patient": rows(1), "submission": rows(1), "audit_event": rows(1)},
            target="patient",
            valid={**PATIENT_VALID, "once": TAMPERED_ONCE},
            invalid=PATIENT_INVALID,
            finish=unique_chart,
        ),
    )


def test_fuzz_edit_patient(app: Flask, world: World, make_patient: Any) -> None:
    make_patient(world.user.clinic_id, chart_number="EXISTING-1")
    pid = world.patient_id

    def baseline(n: int) -> tuple[str, Data]:
        with app.app_context():
            version = db.session.get(Patient, pid).version
        return f"/patients/{pid}/edit", {**patient_fields(n), "version": str(version)}

    fuzz(
        app,
        Target(
            "edit patient",
            baseline,
            lambda: world.client,
            writes={"patient": same_or_replaced, "audit_event": rows(1)},
            target="patient",
            replaces=True,
            valid=PATIENT_VALID,
            invalid={**PATIENT_INVALID, "version": st.sampled_from(["0", "-1", "x", "", "²"])},
            finish=unique_chart,
            rejected=(400, 409),
        ),
    )


def test_fuzz_patient_list_query(app: Flask, world: World) -> None:
    fuzz(
        app,
        Target(
            "patient list",
            lambda n: ("/patients", {"q": "Hoa", "sort": "name", "page": "1", "archived": ""}),
            lambda: world.client,
            writes={},
            method="GET",
            accepted=(200,),
            rejected=(),
            valid={
                "q": SEARCH,
                "sort": st.sampled_from(["name", "chart", "recent"]),
                "page": st.integers(-(10**20), 10**20).map(str),
                "archived": st.sampled_from(["", "1", "0"]),
            },
        ),
    )
    search_every_nasty_text(world.client, "/patients")


def test_fuzz_new_assessment(app: Flask, world: World) -> None:
    pid = world.patient_id
    scores = {
        "oxford_grade": (0, 5),
        "endurance_s": (0, 60),
        "repetitions": (0, 30),
        "fast_contractions": (0, 30),
        "pain": (0, 10),
        "leaks_per_week": (0, 500),
        "pads_per_day": (0, 30),
        "iciq_total": (0, 21),
    }
    baseline = {
        "assessed_on": (date.today() - timedelta(days=1)).isoformat(),
        "oxford_grade": "3",
        "endurance_s": "4",
        "repetitions": "6",
        "fast_contractions": "5",
        "relaxation": "full",
        "pain": "1",
        "leaks_per_week": "5",
        "pads_per_day": "1",
        "technique_confirmed": "y",
        "iciq_total": "9",
        "notes": "",
    }
    fuzz(
        app,
        Target(
            "new assessment",
            lambda n: (f"/patients/{pid}/assessments/new", {**baseline, "once": f"assess-{n}"}),
            lambda: world.client,
            writes={"assessment": rows(1), "submission": rows(1), "audit_event": rows(1)},
            target="assessment",
            valid={
                "once": TAMPERED_ONCE,
                **{name: numbers(*bounds) for name, bounds in scores.items()},
                "assessed_on": dates(date(2000, 1, 1), date.today()),
                "relaxation": st.one_of(st.just(""), choice(Relaxation)),
                "technique_confirmed": st.sampled_from(["y", MISSING]),
                "notes": lines(5000),
            },
            invalid={
                **{name: bad_number(*bounds) for name, bounds in scores.items()},
                "assessed_on": st.one_of(
                    BAD_DATES,
                    st.just(MISSING),
                    st.just((date.today() + timedelta(days=1)).isoformat()),
                ),
                "relaxation": not_one_of([*Relaxation, ""]),
                "notes": bad_text(5000, required=False, multiline=True),
            },
        ),
    )
