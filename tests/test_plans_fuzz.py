"""Fuzzing the plan forms: new plan, the editor, issue, cancel, copy, templates, clinic exercises
(harness: tests/fuzzing.py)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Flask
from hypothesis import strategies as st

from prescriptions.domain.catalogue import BUILTIN_EXERCISES, FIELD_BOUNDS
from prescriptions.domain.progression import BUILTIN_TEMPLATES
from prescriptions.domain.vocab import CueSet, Kind, Paper
from tests.factories import editor_data
from tests.fuzzing import (
    BAD_DATES,
    FUZZ,
    MISSING,
    TAMPERED_ONCE,
    Data,
    Diff,
    Rows,
    Target,
    World,
    any_rows,
    bad_number,
    bad_text,
    choice,
    dates,
    fuzz,
    line,
    lines,
    not_one_of,
    rows,
    subsets,
)

pytestmark = FUZZ


PLAN_START = (date(2000, 1, 1), date(2100, 12, 31))


BAD_STARTS = st.one_of(
    BAD_DATES, st.sampled_from(["1999-12-31", "2101-01-01", ""]), st.just(MISSING)
)


def test_fuzz_new_plan(app: Flask, world: World) -> None:
    pid = world.patient_id
    fuzz(
        app,
        Target(
            "new plan",
            lambda n: (
                f"/patients/{pid}/plans/new",
                # the patient's programme from the last round is running: a new one stops it
                {
                    "template": "strengthening",
                    "start_date": "2026-11-30",
                    "once": f"plan-{n}",
                    "end_running": "stop",
                    "end_reason": "A separate programme",
                },
            ),
            lambda: world.client,
            writes={
                "plan": rows(1),
                "plan_item": lambda a, r: a > 0 and r == 0,
                "submission": rows(1),
                # a new programme, and the running one stopped when there is one (its row
                # replaced): plan.create, programme.start and programme.stop audited
                "programme": lambda a, r: (a, r) in ((1, 0), (2, 1)),
                "audit_event": lambda a, r: r == 0 and 1 <= a <= 3,
            },
            target="plan",
            valid={
                "once": TAMPERED_ONCE,
                "template": choice(BUILTIN_TEMPLATES),
                "start_date": dates(*PLAN_START),
            },
            invalid={
                "template": st.one_of(
                    st.just(MISSING),
                    st.sampled_from(["clinic:999999", "clinic:²"]),
                    not_one_of(BUILTIN_TEMPLATES),
                ),
                "start_date": BAD_STARTS,
            },
        ),
    )


PLAN_SAVE_WRITES: dict[str, Rows] = {
    "plan": rows(1, 1),
    "plan_item": any_rows,
    "audit_event": rows(1),
}


def editor_target(world: World, name: str, plan_id: int, **overrides: Any) -> Target:
    low, high = FIELD_BOUNDS["reps"]
    defaults: dict[str, Any] = {
        "writes": PLAN_SAVE_WRITES,
        "target": "plan",
        "replaces": True,
        "valid": {
            "title": line(120),
            "notes_to_patient": lines(1500),
            "paper": st.one_of(st.just(""), choice(Paper)),
            "cue_set": st.one_of(st.just(""), choice(CueSet)),
            "large_print": st.sampled_from(["y", MISSING]),
            "start_date": dates(*PLAN_START),
            "items-0-note": line(200, required=False),
        },
        "invalid": {
            "title": bad_text(120),
            "notes_to_patient": bad_text(1500, required=False, multiline=True),
            "start_date": BAD_STARTS,
            "paper": not_one_of([*Paper, ""]),
            "cue_set": not_one_of([*CueSet, ""]),
            "items-0-reps": bad_number(low, high),
            "items-0-sets": bad_number(*FIELD_BOUNDS["sets"]),
            "items-0-sessions_per_day": st.one_of(
                st.just(""), bad_number(*FIELD_BOUNDS["sessions_per_day"])
            ),
            "items-0-week": st.sampled_from(["0", "5", "x", "", "²"]),
            "items-0-exercise": not_one_of(BUILTIN_EXERCISES),
            "items-0-position": st.sampled_from(["upside_down", ""]),
            "items-0-note": bad_text(200, required=False),
            "version": st.sampled_from(["0", "-1", "x", "", "²"]),
        },
        "rejected": (400, 409),
        "others": (200,),  # a mutated "action" is a structural action: the editor again
    }
    defaults.update(overrides)

    def baseline(n: int) -> tuple[str, Data]:
        return f"/plans/{plan_id}/edit", {**editor_data(world.client, plan_id), "action": "save"}

    return Target(name, baseline, lambda: world.client, **defaults)


def test_fuzz_plan_editor_save(app: Flask, world: World) -> None:
    fuzz(app, editor_target(world, "plan editor save", world.draft()))


ACTIONS = st.one_of(
    st.builds(
        lambda verb, number: f"{verb}:{number}",
        st.sampled_from(["add", "remove", "up", "down", "copy"]),
        st.one_of(st.integers(0, 60), st.sampled_from(["²", "-1", "99999999999999999999", ""])),
    ),
    st.text(max_size=20),
)


def test_fuzz_plan_editor_actions(app: Flask, world: World) -> None:
    """Structural actions (add, remove, move, copy a week) re-show the editor and never save."""

    def never_saves(values: Data, status: int, changes: Diff) -> None:
        action = values.get("action", "save")
        action = action[0] if isinstance(action, list) and action else action
        if action not in ("save", [], MISSING):
            assert status == 200 and not changes, (status, changes)

    plan_id = world.draft()
    fuzz(
        app,
        editor_target(
            world,
            "plan editor actions",
            plan_id,
            valid={"action": ACTIONS.filter(lambda a: a != "save")},
            invalid={},
            target=None,
            optional_write=True,
            accepted=(200, 302),
            check=never_saves,
        ),
    )


class Drafts:
    """The plan an action is fuzzed on, replaced by a fresh draft once an action succeeds."""

    def __init__(self, world: World, *, warnings: bool) -> None:
        self.world, self.warnings = world, warnings
        self.current = world.draft(warnings=warnings)

    def replace(self, values: Data) -> None:
        self.current = self.world.draft(warnings=self.warnings)


def test_fuzz_issue(app: Flask, world: World) -> None:
    drafts = Drafts(world, warnings=True)

    def baseline(n: int) -> tuple[str, Data]:
        page = world.client.get(f"/plans/{drafts.current}").get_data(as_text=True)
        keys = re.findall(r'name="acknowledge" value="([^"]+)"', page)
        assert keys, "the draft should have warnings to acknowledge"
        version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
        return f"/plans/{drafts.current}/issue", {"acknowledge": keys, "version": version}

    fuzz(
        app,
        Target(
            "issue",
            baseline,
            lambda: world.client,
            writes={
                "plan": rows(1, 1),
                "warning_ack": lambda a, r: a > 0 and r == 0,
                "audit_event": rows(1),
            },
            target="plan",
            replaces=True,
            invalid={
                "acknowledge": st.one_of(
                    st.just(MISSING), st.just([]), st.lists(st.text(), min_size=1)
                )
            },
            rejected=(400,),  # the plan page again, the message beside the warnings
            others=(409,),  # a version that is not the one on the page
            after_write=drafts.replace,
        ),
    )


def test_fuzz_cancel(app: Flask, world: World) -> None:
    drafts = Drafts(world, warnings=False)
    fuzz(
        app,
        Target(
            "cancel",
            lambda n: (f"/plans/{drafts.current}/cancel", {"reason": "Patient moved away"}),
            lambda: world.client,
            writes={"plan": rows(1, 1), "audit_event": rows(1)},
            target="plan",
            replaces=True,
            valid={"reason": line(300)},
            invalid={"reason": bad_text(300)},
            rejected=(302,),
            after_write=drafts.replace,
        ),
    )


def _stop_programmes(app: Flask, patient_ids: list[int]) -> None:
    """The copy started a programme for its patient: stop it, so the next copy may start one."""
    from prescriptions.extensions import db
    from prescriptions.models import Programme

    with app.app_context():
        db.session.execute(
            sa.update(Programme)
            .where(Programme.patient_id.in_(patient_ids), Programme.status == "running")
            .values(status="stopped", ended_on=date.today(), status_reason="fuzz: next round")
        )
        db.session.commit()


def test_fuzz_copy(app: Flask, world: World, make_patient: Any) -> None:
    charts = ["OTHER-1", "Z9/ü", "K-77"]
    others = [make_patient(world.user.clinic_id, chart_number=chart) for chart in charts]
    plan_id = world.draft()
    fuzz(
        app,
        Target(
            "copy",
            lambda n: (
                f"/plans/{plan_id}/copy",
                {"chart_number": "OTHER-1", "start_date": "2026-12-07", "once": f"copy-{n}"},
            ),
            lambda: world.client,
            writes={
                "plan": rows(1),
                "plan_item": lambda a, r: a > 0 and r == 0,
                "submission": rows(1),
                # a plan for a patient with no programme starts one: both are audited
                "programme": rows(1),
                "audit_event": rows(2),
            },
            target="plan",
            valid={
                "once": TAMPERED_ONCE,
                "chart_number": st.sampled_from(charts),
                "start_date": dates(*PLAN_START),
            },
            invalid={
                "chart_number": st.one_of(bad_text(40), st.just("NOPE-1")),
                "start_date": BAD_STARTS,
            },
            # 400: the message beside the field; 200: text that is no chart number lists the
            # patients it matches, to choose from
            rejected=(400, 200),
            after_write=lambda values: _stop_programmes(app, others),
        ),
    )


def test_fuzz_save_template(app: Flask, world: World) -> None:
    plan_id = world.draft()
    fuzz(
        app,
        Target(
            "save template",
            lambda n: (
                f"/plans/{plan_id}/save-template",
                {"name": "My strength", "once": f"tpl-{n}"},
            ),
            lambda: world.client,
            writes={"clinic_template": rows(1), "submission": rows(1), "audit_event": rows(1)},
            target="clinic_template",
            valid={"once": TAMPERED_ONCE, "name": line(120)},
            invalid={"name": bad_text(120)},
            rejected=(302,),
        ),
    )


def test_fuzz_clinic_exercise(app: Flask, world: World) -> None:
    baseline = {
        "name": "Bridge with squeeze",
        "kind": "contract",
        "params": ["hold_s", "rest_s"],
        "summary": "Builds strength in a position you use every day.",
        "steps": "Lie on your back.\nLift your hips.",
        "breathing": "Breathe out as you lift.",
        "feel": "A lift inside while your buttocks stay soft.",
        "mistakes": "Holding your breath.",
    }
    params = ["hold_s", "rest_s", "effort_pct"]
    fuzz(
        app,
        Target(
            "clinic exercise",
            lambda n: ("/exercises", {**baseline, "once": f"exercise-{n}"}),
            lambda: world.client,
            writes={"clinic_exercise": rows(1), "submission": rows(1), "audit_event": rows(1)},
            target="clinic_exercise",
            valid={
                "once": TAMPERED_ONCE,
                "name": line(80),
                "kind": choice(Kind),
                "params": subsets(params),
                "summary": line(300),
                "steps": lines(3000, required=True),
                # a handout exercise always gives breathing, feel and mistakes
                "breathing": lines(1000, required=True),
                "feel": lines(1000, required=True),
                "mistakes": lines(2000, required=True),
            },
            invalid={
                "name": bad_text(80),
                "kind": not_one_of(Kind),
                "params": st.lists(not_one_of(params), min_size=1, max_size=2),
                "summary": bad_text(300),
                "steps": bad_text(3000, multiline=True),
                "breathing": bad_text(1000, multiline=True),
                "feel": bad_text(1000, multiline=True),
                "mistakes": bad_text(2000, multiline=True),
            },
        ),
    )
