"""The outcomes page's fast path: programme_block_sums follows every log write, and the figures
counted in SQL from it are the plain domain computation over every logged day."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from prescriptions import create_app
from prescriptions.assessments.operations import amend_assessment
from prescriptions.audit import Actor
from prescriptions.commands.demo import seed_demo
from prescriptions.domain.outcomes import (
    BlockSums,
    clinic_figures,
    iciq_pair,
    summarise_blocks,
    summary_figures,
)
from prescriptions.extensions import db
from prescriptions.logs import operations as log_ops
from prescriptions.mapping.plans import plan_items
from prescriptions.models import Assessment, LogEntry, Plan, Programme, ProgrammeBlockSums, User
from prescriptions.plans import operations as plan_ops
from prescriptions.programmes import operations as programme_ops
from prescriptions.programmes import queries
from tests.factories import MIGRATIONS

TODAY = date.today()
BEFORE_SUMS = "e4b8c2d6f1a3"  #: the revision before programme_block_sums
FIRST, LAST = TODAY - timedelta(days=365), TODAY


def _recount(clinic_id: int) -> dict[tuple[int, int], tuple[int, int, int, int, int]]:
    """(programme, block) -> (days, done, prescribed, leaks, leak days), added up here from
    every logged day of the clinic, each counted in its lineage's first plan's block."""
    plans = {
        p.id: p for p in db.session.scalars(sa.select(Plan).where(Plan.clinic_id == clinic_id))
    }
    sums: dict[tuple[int, int], list[int]] = {}
    for day in db.session.scalars(sa.select(LogEntry).where(LogEntry.clinic_id == clinic_id)):
        root = plans[day.lineage_id]
        row = sums.setdefault((root.programme_id, root.block_number), [0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += day.sessions_done
        row[2] += day.sessions_prescribed
        if day.leaks is not None:
            row[3] += day.leaks
            row[4] += 1
    return {key: tuple(row) for key, row in sums.items()}


def _kept(clinic_id: int) -> dict[tuple[int, int], tuple[int, int, int, int, int]]:
    rows = db.session.scalars(
        sa.select(ProgrammeBlockSums).where(ProgrammeBlockSums.clinic_id == clinic_id)
    )
    return {
        (r.programme_id, r.block_number): (
            r.days, r.sessions_done, r.sessions_prescribed, r.leaks, r.leak_days,
        )
        for r in rows
        if r.days
    }  # fmt: skip


def _plain_figures(clinic_id: int, first: date = FIRST):
    """The figures as the domain computes them from every block's sums and every score, for the
    programmes started from `first` to LAST."""
    cohort = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Programme).where(
                Programme.clinic_id == clinic_id, Programme.started_on.between(first, LAST)
            )
        )
    }
    blocks = [
        BlockSums(programme, block, done, prescribed, leaks, leak_days)
        for (programme, block), (_, done, prescribed, leaks, leak_days) in _recount(
            clinic_id
        ).items()
        if programme in cohort
    ]
    scores: dict[int, list[tuple[date, int, int]]] = {}
    for a in db.session.scalars(
        sa.select(Assessment)
        .where(Assessment.clinic_id == clinic_id, Assessment.iciq_total.is_not(None))
        .where(Assessment.voided_at.is_(None))
        .order_by(Assessment.assessed_on, Assessment.id)
    ):
        scores.setdefault(a.patient_id, []).append((a.assessed_on, a.id, a.iciq_total))
    iciq = {}
    for p in cohort.values():
        pair = iciq_pair(p.started_on, p.ended_on, scores.get(p.patient_id, []))
        if pair is not None:
            iciq[p.id] = pair
    statuses = Counter(p.status for p in cohort.values())
    return statuses, blocks, iciq


def _programme(app, rng, clinician, make_patient, make_assessment, make_plan, issue_plan,
               log_week, revise_plan) -> None:  # fmt: skip
    """One patient's programme with random-ish logs over one to three blocks and scores."""
    start = TODAY - timedelta(days=rng.randint(70, 120))
    patient_id = make_patient(clinician.clinic_id)
    offsets = rng.sample([-20, -3, 0, 10, 40, 75, 150], rng.randint(0, 4))
    if offsets and rng.random() < 0.4:  # two scores on one day: the later id counts as later
        offsets.append(rng.choice(offsets))
    scores = [
        make_assessment(
            patient_id,
            clinician.id,
            assessed_on=start + timedelta(days=offset),
            iciq_total=rng.randint(0, 21),
        )  # fmt: skip
        for offset in offsets
    ]
    if scores and rng.random() < 0.6:  # an amended score: the voided one no longer counts
        with app.app_context():
            old = db.session.get(Assessment, rng.choice(scores))
            fields = {
                "assessed_on": old.assessed_on + timedelta(12),
                "iciq_total": rng.randint(0, 21),
            }
            amend_assessment(old, "Typo", Actor(db.session.get(User, clinician.id)), **fields)
            db.session.commit()

    def day(block: int) -> dict:  # fewer leaks in later blocks, so some patients respond
        leaks = rng.choice([None, 0, 1, 2, 3, 5, 8][: 9 - 2 * block])
        return {"sessions_done": rng.randint(0, 3), "leaks": leaks}

    plan_id = issue_plan(make_plan(patient_id, start=start))
    blocks = rng.randint(1, 3)
    for number in range(1, blocks + 1):
        for week in range(1, rng.randint(1, 3) + 1):
            log_week(
                plan_id,
                week,
                days={n: day(number) for n in rng.sample(range(7), rng.randint(1, 7))},
            )
        if rng.random() < 0.3:  # a revision logs into the same lineage
            revision = issue_plan(revise_plan(plan_id))
            log_week(revision, 4, days={n: day(number) for n in range(3)})
            plan_id = revision
        if number == blocks:
            break
        with app.app_context():
            plan = db.session.get(Plan, plan_id)
            actor = Actor(db.session.get(User, clinician.id))
            plan_ops.complete_plan(plan, actor)
            plan_id = plan_ops.create_next_block(
                plan.programme, plan, plan_items(plan.items), {}, actor, block=number + 1,
                start=start + timedelta(days=28 * number),
            ).id  # fmt: skip
            db.session.commit()
        plan_id = issue_plan(plan_id)
    if rng.random() < 0.3:
        with app.app_context():
            programme = db.session.get(Plan, plan_id).programme
            actor = Actor(db.session.get(User, clinician.id))
            programme_ops.stop_programme(programme, "Moved away", actor, on=TODAY - timedelta(5))
            db.session.commit()


def test_the_fast_path_gives_the_plain_figures_on_a_random_clinic(
    app, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week, revise_plan,
    other_clinic,
):  # fmt: skip
    rng = random.Random(14)
    for _ in range(14):
        _programme(app, rng, clinician, make_patient, make_assessment, make_plan, issue_plan,
                   log_week, revise_plan)  # fmt: skip
    with app.app_context():
        clinic_id = clinician.clinic_id
        assert _kept(clinic_id) == _recount(clinic_id)
        statuses, blocks, iciq = _plain_figures(clinic_id)
        adherence, leak_pairs = summarise_blocks(blocks)
        fast_adherence = queries.fetch_block_adherence(clinic_id, FIRST, LAST, "")
        fast_leaks = queries.fetch_leak_pairs(clinic_id, FIRST, LAST, "")
        fast_iciq = queries.fetch_iciq_pairs(clinic_id, FIRST, LAST, "")
        assert fast_adherence == adherence
        assert fast_leaks == leak_pairs and sum(leak_pairs.values()) >= 5
        assert fast_iciq == Counter(iciq.values()) and len(iciq) >= 5
        plain = clinic_figures(dict(statuses), blocks, iciq)
        fast = summary_figures(
            queries.fetch_status_counts(clinic_id, FIRST, LAST, ""),
            fast_adherence,
            fast_leaks,
            fast_iciq,
        )
        assert fast == plain
        assert not any(f.value.startswith("not shown") for f in fast[0][4:])  # real figures
        # A period that splits the cohort (programmes start 70 to 120 days ago): the sums read
        # only the programmes started in it.
        later = TODAY - timedelta(days=95)
        _, some, _ = _plain_figures(clinic_id, later)
        assert 0 < len({b.programme for b in some}) < len({b.programme for b in blocks})
        part_adherence, part_leaks = summarise_blocks(some)
        assert queries.fetch_block_adherence(clinic_id, later, LAST, "") == part_adherence
        assert queries.fetch_leak_pairs(clinic_id, later, LAST, "") == part_leaks


def test_block_sums_follow_each_write_of_a_day(
    app, clinician, make_patient, make_plan, issue_plan, log_week, revise_plan, other_clinic
):
    plan_id = issue_plan(make_plan(make_patient(clinician.clinic_id)))
    log_week(plan_id, 1, days={0: {"sessions_done": 2, "leaks": 3}, 1: {"sessions_done": 1}})
    log_week(plan_id, 1, days={0: {"sessions_done": 3, "leaks": None}, 1: {"leaks": 4}})
    revision = issue_plan(revise_plan(plan_id))
    log_week(revision, 2, days={2: {"sessions_done": 1, "leaks": 0}})
    with app.app_context():
        assert _kept(clinician.clinic_id) == _recount(clinician.clinic_id)
        programme_id = db.session.get(Plan, plan_id).programme_id
        # day 1 kept its sessions (1) and gained leaks; day 0 lost its leaks
        prescribed = _recount(clinician.clinic_id)[(programme_id, 1)][2]
        assert _kept(clinician.clinic_id)[(programme_id, 1)] == (3, 5, prescribed, 4, 2)
        # a day changed after a commit expired it: the old value is loaded, not guessed
        day = db.session.scalars(sa.select(LogEntry).where(LogEntry.plan_id == plan_id)).first()
        db.session.commit()
        day.leaks = 7
        day.sessions_done = 0
        db.session.commit()
        assert _kept(clinician.clinic_id) == _recount(clinician.clinic_id)
        # a removed day takes its values away
        db.session.delete(db.session.get(LogEntry, day.id))
        db.session.commit()
        assert _kept(clinician.clinic_id) == _recount(clinician.clinic_id)
        other = other_clinic["clinic"]
        assert _kept(other) == _recount(other) != {}


def test_a_twin_save_that_fails_leaves_the_sums(
    app, clinician, make_patient, make_plan, issue_plan, log_week
):
    plan_id = issue_plan(make_plan(make_patient(clinician.clinic_id)))
    log_week(plan_id, 1, days={0: {"sessions_done": 2, "leaks": 3}})
    with app.app_context():
        before = _kept(clinician.clinic_id)
        plan = db.session.get(Plan, plan_id)
        twin = log_ops.DayEntry(plan.start_date, None, {"sessions_done": 1, "leaks": 9})
        try:
            log_ops.save_week_log(plan, [twin], {}, 3, Actor(db.session.get(User, clinician.id)))
        except log_ops.LogConflict:
            db.session.rollback()
        else:  # pragma: no cover - the unique day must refuse the twin
            raise AssertionError("a second row for a logged day was saved")
        assert _kept(clinician.clinic_id) == before == _recount(clinician.clinic_id)


def test_refresh_recounts_what_bypassed_the_flush_events(
    app, clinician, make_patient, make_plan, issue_plan, log_week, other_clinic
):
    plan_id = issue_plan(make_plan(make_patient(clinician.clinic_id)))
    log_week(plan_id, 1, days={n: {"sessions_done": 1, "leaks": n} for n in range(5)})
    other = other_clinic["clinic"]
    with app.app_context():
        assert _kept(other) != {}  # another clinic's sums, which a refresh of this one keeps
        db.session.execute(  # no events
            sa.update(LogEntry)
            .where(LogEntry.clinic_id == clinician.clinic_id)
            .values(leaks=LogEntry.leaks + 1)
        )
        assert _kept(clinician.clinic_id) != _recount(clinician.clinic_id)
        programme_ops.refresh_block_sums(clinician.clinic_id)
        db.session.commit()
        assert _kept(clinician.clinic_id) == _recount(clinician.clinic_id)
        assert _kept(other) == _recount(other)


def test_two_days_of_a_new_block_logged_at_once_both_count(
    app, clinician, make_patient, make_plan, issue_plan
):
    """Two transactions each insert a first day of the same block: the second waits on the
    first's sums row (SQLite: on the first's write lock), then adds to it (no lost update, no
    duplicate-key error)."""
    plan_id = issue_plan(make_plan(make_patient(clinician.clinic_id)))
    with app.app_context():
        engine = db.engine
        plan = db.session.get(Plan, plan_id)
        start, clinic_id = plan.start_date, plan.clinic_id
    first_flushed, release_first = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def log_day(offset: int, leaks: int, *, hold: bool) -> None:
        try:
            with Session(engine) as session:
                session.add(
                    LogEntry(clinic_id=clinic_id, plan_id=plan_id, day=start + timedelta(offset),
                             sessions_done=1, sessions_prescribed=2, leaks=leaks)
                )  # fmt: skip
                session.flush()
                if hold:
                    first_flushed.set()
                    release_first.wait(10)
                session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    first = threading.Thread(target=log_day, args=(0, 3), kwargs={"hold": True})
    first.start()
    assert first_flushed.wait(10)
    second = threading.Thread(target=log_day, args=(1, 4), kwargs={"hold": False})
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting on the first transaction's new sums row
    release_first.set()
    first.join(10)
    second.join(10)
    assert errors == []
    with app.app_context():
        programme_id = db.session.get(Plan, plan_id).programme_id
        assert (
            _kept(clinic_id)[(programme_id, 1)]
            == (2, 2, 4, 7, 2)
            == _recount(clinic_id)[(programme_id, 1)]
        )


def test_the_migration_fills_the_sums_from_the_logged_days(tmp_path):
    """Upgrading a database with logged days (the demo's) fills programme_block_sums as the
    flush events would have; downgrading drops it and puts the narrower indexes back."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}", "AUTO_MIGRATE": False,
         "SECRET_KEY": "t"}
    )  # fmt: skip
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        clinic_id = seed_demo(60, "a demo password for the test").clinic_id
        db.session.commit()
        downgrade(directory=MIGRATIONS, revision=BEFORE_SUMS)
        assert "programme_block_sums" not in sa.inspect(db.engine).get_table_names()
        upgrade(directory=MIGRATIONS)
        assert _kept(clinic_id) == _recount(clinic_id) != {}
        db.session.remove()
        db.engine.dispose()


def test_a_first_plan_moved_to_another_block_or_programme_takes_its_sums(
    app, clinician, make_patient, make_plan, issue_plan, log_week, revise_plan
):
    patient = make_patient(clinician.clinic_id)
    plan_id = issue_plan(make_plan(patient))
    log_week(plan_id, 1, days={n: {"sessions_done": 2, "leaks": n} for n in range(4)})
    revision = issue_plan(revise_plan(plan_id))
    log_week(revision, 2, days={0: {"sessions_done": 1, "leaks": 5}})
    with app.app_context():
        first = db.session.get(Plan, plan_id)
        programme = first.programme
        first.block_number = 2  # relabelled by hand (no page does it): the days follow
        db.session.commit()
        assert _kept(clinician.clinic_id) == _recount(clinician.clinic_id)
        assert (programme.id, 2) in _kept(clinician.clinic_id)
        other = Programme(
            clinic_id=programme.clinic_id,
            patient_id=programme.patient_id,
            template_code=programme.template_code,
            status="finished",
            started_on=programme.started_on,
            created_by_id=programme.created_by_id,
        )
        db.session.add(other)
        db.session.flush()
        db.session.expire(first)  # a move from a value never loaded still knows where from
        first.programme_id = other.id
        db.session.commit()
        assert _kept(clinician.clinic_id) == _recount(clinician.clinic_id)
        assert {key[0] for key in _kept(clinician.clinic_id)} == {other.id}


def test_two_edits_of_one_day_from_the_same_reading_count_once(
    app, clinician, make_patient, make_plan, issue_plan, log_week
):
    """Each edit adds the difference from the day it read: the second edit of a day read
    before the first one committed is refused by the row version, so no difference counts
    twice (on SQLite too, where the reads before a write are not in its transaction)."""
    plan_id = issue_plan(make_plan(make_patient(clinician.clinic_id)))
    log_week(plan_id, 1, days={0: {"sessions_done": 1, "leaks": 2}})
    with app.app_context():
        engine = db.engine
    with Session(engine) as first, Session(engine) as second:
        query = sa.select(LogEntry).where(LogEntry.plan_id == plan_id)
        mine, theirs = first.scalars(query).one(), second.scalars(query).one()
        mine.leaks, theirs.leaks = 6, 9
        first.commit()
        with pytest.raises(StaleDataError):
            second.commit()
    with app.app_context():
        assert _kept(clinician.clinic_id) == _recount(clinician.clinic_id)
        programme_id = db.session.get(Plan, plan_id).programme_id
        assert _kept(clinician.clinic_id)[(programme_id, 1)][3] == 6
