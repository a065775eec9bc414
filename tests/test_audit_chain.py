"""Issue 12, items 2 and 5: the audit chain's head is anchored outside the table (a checkpoint),
each clinic has a chain of its own, verified in chunks, and reads never take SQLite's write lock."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from prescriptions.audit import SYSTEM, Actor, audit_key, record_event, verify_chain
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, Clinic, Patient, User
from prescriptions.patients.operations import create_patient
from tests.factories import SERVER_URL, committing


def _events(app: Flask, clinic_id: int, n: int) -> None:
    with committing(app):
        clinic = db.session.get(Clinic, clinic_id)
        for i in range(n):
            record_event(SYSTEM, "clinic.update", clinic, f"change {i}", clinic_id=clinic_id)


def _checkpoint(runner: Any, path: Any) -> Any:
    """Run audit-verify and keep the checkpoint it prints, as an operator would."""
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    line = result.output.strip().splitlines()[-1]
    assert json.loads(line)["format"] == "floorplan-audit-checkpoint"
    path.write_text(line)
    return path


def _delete_newest(app: Flask, clinic_id: int | None, n: int | None) -> None:
    with committing(app):
        chain = (
            AuditEvent.clinic_id.is_(None)
            if clinic_id is None
            else AuditEvent.clinic_id == clinic_id
        )
        ids = db.session.scalars(
            sa.select(AuditEvent.id).where(chain).order_by(AuditEvent.id.desc())
        ).all()
        doomed = ids if n is None else ids[:n]
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id.in_(doomed)))


@pytest.mark.parametrize("deleted", [3, None], ids=["newest-3", "all"])
def test_deleting_the_newest_rows_is_caught_by_a_checkpoint(
    app, runner, make_clinic, tmp_path, deleted
):
    clinic = make_clinic()
    _events(app, clinic, 6)
    checkpoint = _checkpoint(runner, tmp_path / "checkpoint.json")
    assert (
        runner.invoke(args=["audit-verify", "--since-checkpoint", str(checkpoint)]).exit_code == 0
    )

    _delete_newest(app, clinic, deleted)
    # Without the checkpoint the shortened chain still checks out: that is what it cannot prove.
    assert runner.invoke(args=["audit-verify"]).exit_code == 0
    result = runner.invoke(args=["audit-verify", "--since-checkpoint", str(checkpoint)])
    assert result.exit_code == 1
    assert f"clinic {clinic}'s audit chain" in result.output
    assert "the newest rows were deleted" in result.output


def test_rows_chained_onto_a_shortened_end_are_caught(app, runner, make_clinic, tmp_path):
    clinic = make_clinic()
    _events(app, clinic, 5)
    checkpoint = _checkpoint(runner, tmp_path / "checkpoint.json")
    _delete_newest(app, clinic, 2)
    _events(app, clinic, 4)  # new events chain onto the shortened end (SQLite reuses the ids)
    assert runner.invoke(args=["audit-verify"]).exit_code == 0
    result = runner.invoke(args=["audit-verify", "--since-checkpoint", str(checkpoint)])
    assert result.exit_code == 1 and "not the one the checkpoint recorded" in result.output


def test_every_backup_leaves_a_checkpoint(app, runner, make_clinic, tmp_path):
    clinic = make_clinic()
    _events(app, clinic, 3)
    result = runner.invoke(args=["backup", str(tmp_path / "b.json")])
    assert result.exit_code == 0 and "b.json.checkpoint.json" in result.output
    side = tmp_path / "b.json.checkpoint.json"
    header = json.loads((tmp_path / "b.json").read_text().splitlines()[0])
    saved = json.loads(side.read_text())
    assert header["audit_checkpoint"]["chains"] == saved["chains"]
    assert {c["clinic_id"] for c in saved["chains"]} == {clinic}
    assert runner.invoke(args=["audit-verify", "--since-checkpoint", str(side)]).exit_code == 0
    _delete_newest(app, clinic, 1)
    assert runner.invoke(args=["audit-verify", "--since-checkpoint", str(side)]).exit_code == 1


def test_a_damaged_checkpoint_file_is_one_clear_line(app, runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = runner.invoke(args=["audit-verify", "--since-checkpoint", str(bad)])
    assert result.exit_code == 1 and "not a readable audit checkpoint" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_each_clinic_has_its_own_chain(app, make_clinic):
    first, second = make_clinic(), make_clinic()
    _events(app, first, 2)
    _events(app, second, 2)
    _events(app, first, 1)
    with app.app_context():
        for clinic in (first, second):
            rows = db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.clinic_id == clinic).order_by(AuditEvent.id)
            ).all()
            assert rows[0].prev_hash == "0" * 64
            assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))


def test_an_admin_verifies_their_own_clinics_chain(
    app, admin_client, admin, make_clinic, other_clinic
):
    # Another clinic's chain is broken: this clinic's admin is told about their own only.
    with committing(app):
        foreign = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.clinic_id == other_clinic["clinic"])
        ).first()
        foreign.detail = "edited"
    page = admin_client.get("/admin/audit/verify", follow_redirects=True).get_data(as_text=True)
    assert "audit trail is intact" in page

    with committing(app):
        own = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.clinic_id == admin.clinic_id)
        ).first()
        own.detail = "edited"
        own_id = own.id
    page = admin_client.get("/admin/audit/verify", follow_redirects=True).get_data(as_text=True)
    assert f"broken at event {own_id}" in page


def test_verification_streams_without_keeping_rows(app, make_clinic):
    clinic = make_clinic()
    _events(app, clinic, 30)
    with app.app_context():
        assert verify_chain(audit_key(), clinic) is None
        # Plain rows in chunks: nothing of the 30 is held in the session afterwards.
        assert not [o for o in db.session.identity_map.values() if isinstance(o, AuditEvent)]


def test_a_long_read_does_not_block_another_clinics_write(app, make_clinic):
    """A reader holding a transaction open (as a long verification does) never blocks a writer."""
    first, second = make_clinic(), make_clinic()
    _events(app, first, 50)
    reading, done = threading.Event(), threading.Event()

    def long_read() -> None:
        with app.app_context():
            db.session.execute(sa.select(AuditEvent).where(AuditEvent.clinic_id == first)).all()
            reading.set()
            done.wait(10)  # the read transaction stays open meanwhile
            db.session.rollback()

    reader = threading.Thread(target=long_read)
    reader.start()
    try:
        assert reading.wait(10)
        started = time.monotonic()
        with committing(app):
            create_patient(
                second, SYSTEM, given_name="Quick", family_name="Write", chart_number="QW-1"
            )
        elapsed = time.monotonic() - started
        assert not done.is_set()
    finally:
        done.set()
        reader.join()
    assert elapsed < 2, f"the write waited {elapsed:.1f} s for a reader"


def test_concurrent_writers_after_reads_never_fail(app, make_clinic):
    """Each writer reads first, then writes: on SQLite the write waits for the lock, never fails."""
    clinics = [make_clinic() for _ in range(4)]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for k in range(5):
                with app.app_context():
                    clinic = clinics[n % len(clinics)]
                    db.session.execute(sa.select(sa.func.count()).select_from(Patient)).scalar()
                    time.sleep(0.01)  # others commit in between: the read snapshot goes stale
                    create_patient(
                        clinic, SYSTEM, given_name="P", family_name=f"W{n}", chart_number=f"{n}-{k}"
                    )
                    db.session.commit()
        except BaseException as error:  # noqa: BLE001  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 40
        for clinic in clinics:
            assert verify_chain(audit_key(), clinic) is None


def test_a_read_only_request_never_begins_immediate(app, signed_in):
    """GET pages run in deferred transactions; only a statement that writes takes the lock."""
    if SERVER_URL:
        pytest.skip("SQLite's transaction modes")
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)
        if conn.info.get("floorplan.sqlite_transaction") == "immediate":
            seen.append("BEGIN IMMEDIATE")

    sa.event.listen(engine, "before_cursor_execute", spy)
    try:
        assert signed_in.get("/patients").status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", spy)
    assert "BEGIN" in seen and "BEGIN IMMEDIATE" not in seen


def test_clinics_never_wait_for_each_others_audit_lock(app, make_clinic, make_user):
    """On PostgreSQL a transaction appending to one clinic's chain does not stall another's."""
    if not SERVER_URL:
        pytest.skip("the advisory lock is PostgreSQL's")
    first, second = make_clinic(), make_clinic()
    holder_id = make_user(first)
    appended, release = threading.Event(), threading.Event()

    def hold() -> None:
        with app.app_context():
            user = db.session.get(User, holder_id)
            record_event(Actor(user), "clinic.update", None, "slow change")
            appended.set()
            release.wait(10)
            db.session.commit()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert appended.wait(10)
        started = time.monotonic()
        _events(app, second, 1)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert elapsed < 2, f"clinic {second} waited {elapsed:.1f} s for clinic {first}'s lock"
