"""Fuzzing the handout options, batch printing and the PDF renderer with any Unicode
(harness: tests/fuzzing.py)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from prescriptions.domain.vocab import Paper
from prescriptions.extensions import db
from prescriptions.models import Clinic, Patient, Plan, PlanItem
from tests.fuzzing import (
    FUZZ,
    MISSING,
    SEARCH,
    Data,
    Diff,
    LoggedErrors,
    Target,
    World,
    choice,
    fuzz,
    fuzz_settings,
    is_pdf,
    not_one_of,
    rows,
    search_every_nasty_text,
)

pytestmark = FUZZ


def test_fuzz_handout_options(app: Flask, world: World) -> None:
    plan_id = world.issued()

    def pdf_when_ok(values: Data, status: int, changes: Diff) -> None:
        if status == 200:
            assert changes == {"audit_event": (1, 0)}

    fuzz(
        app,
        Target(
            "handout options",
            lambda n: (
                f"/plans/{plan_id}/handout.pdf",
                {"paper": "", "large_print": "", "sheets": MISSING},
            ),
            lambda: world.client,
            writes={"audit_event": rows(1)},  # the print is audited
            method="GET",
            accepted=(200,),
            valid={
                "paper": st.one_of(st.just(""), choice(Paper)),
                "large_print": st.sampled_from(["", "1", "0"]),
                "sheets": st.sampled_from(["y", "", MISSING]),
            },
            invalid={"paper": not_one_of([*Paper, ""]), "large_print": not_one_of(["", "1", "0"])},
            check=pdf_when_ok,
        ),
        examples=20,
    )


def test_fuzz_batch_print(app: Flask, world: World) -> None:
    current = [str(world.issued()), str(world.issued())]
    fuzz(
        app,
        Target(
            "batch print",
            lambda n: ("/print", {"plans": [current[0]]}),
            lambda: world.client,
            writes={"audit_event": rows(1)},
            target="audit_event",
            accepted=(200,),
            valid={"plans": st.lists(st.sampled_from(current), min_size=1, unique=True)},
            invalid={
                "plans": st.one_of(
                    st.just(MISSING),
                    st.just([]),
                    st.lists(
                        st.sampled_from(["0", "x", "²", "99999999999999999999", "-1"]), min_size=1
                    ),
                )
            },
        ),
        examples=20,
    )


def test_fuzz_batch_print_search(app: Flask, world: World) -> None:
    world.issued()
    fuzz(
        app,
        Target(
            "batch print search",
            lambda n: ("/print", {"q": "Hoa"}),
            lambda: world.client,
            writes={},
            method="GET",
            accepted=(200,),
            rejected=(),
            valid={"q": SEARCH},
        ),
        examples=20,
    )
    search_every_nasty_text(world.client, "/print")


def test_fuzz_handout_renders_any_unicode(app: Flask, world: World) -> None:
    """Whatever text is stored (even what the forms would refuse), the handout is a PDF."""
    plan_id = world.issued()
    errors = LoggedErrors()

    def text(max_len: int) -> st.SearchStrategy[str]:
        # NUL is the one character PostgreSQL cannot store; everything else is fair game.
        return st.text(
            st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=max_len
        )

    @fuzz_settings(20)
    @given(
        given_name=text(100).filter(lambda s: bool(s.strip())),
        family_name=text(100),
        preferred_name=text(100),
        notes=text(400),
        title=text(120).filter(lambda s: bool(s.strip())),
        notes_to_patient=text(1500),
        item_note=text(200),
        footer=text(300),
        large_print=st.booleans(),
    )
    def run(
        given_name: str,
        family_name: str,
        preferred_name: str,
        notes: str,
        title: str,
        notes_to_patient: str,
        item_note: str,
        footer: str,
        large_print: bool,
    ) -> None:
        with app.app_context():
            plan = db.session.get(Plan, plan_id)
            patient = db.session.get(Patient, world.patient_id)
            clinic = db.session.get(Clinic, world.user.clinic_id)
            patient.given_name, patient.family_name = given_name, family_name
            patient.preferred_name, patient.notes = preferred_name, notes
            plan.title, plan.notes_to_patient = title, notes_to_patient
            first = db.session.scalars(
                sa.select(PlanItem)
                .where(PlanItem.plan_id == plan_id)
                .order_by(PlanItem.id)
                .limit(1)
            ).one()
            first.note = item_note
            clinic.footer_text = footer
            db.session.commit()
        errors.texts.clear()
        query = {"large_print": "1" if large_print else "0"}
        response = world.client.get(f"/plans/{plan_id}/handout.pdf", query_string=query)
        logged = "\n".join(errors.texts)
        assert response.status_code == 200, f"{response.status_code}\n{logged}"
        assert response.mimetype == "application/pdf"
        assert is_pdf(response.get_data())

    app.logger.addHandler(errors)
    try:
        run()
    finally:
        app.logger.removeHandler(errors)
