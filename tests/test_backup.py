"""`flask backup` and `flask restore`: a seeded clinic round-trips row for row, chain intact."""

from __future__ import annotations

import gzip
import json
import sqlite3

import pytest
import sqlalchemy as sa
from flask import Flask

from prescriptions.accounts.operations import update_clinic
from prescriptions.audit import SYSTEM
from prescriptions.commands.backup import FORMAT_VERSION
from prescriptions.commands.demo import seed_demo
from prescriptions.extensions import db
from prescriptions.models import AuditEvent, Clinic, Patient
from prescriptions.patients.operations import create_patient
from tests.factories import BACKUP_TARGETS, PASSWORD, SERVER_URL, table_rows

LOGO = bytes(range(256)) + b"\x89PNG\r\n\x1a\n\x00"


@pytest.fixture
def seeded(app: Flask) -> Flask:
    """A demo clinic with a few patients, plans and logs, and a logo to exercise bytes."""
    with app.app_context():
        result = seed_demo(4, PASSWORD)
        clinic = db.session.get(Clinic, result.clinic_id)
        update_clinic(clinic, SYSTEM, logo=LOGO)
        db.session.commit()
    return app


def _assert_same_records(source: Flask, restored: Flask) -> None:
    before, after = table_rows(source), table_rows(restored)
    # The source recorded the backup after copying; the copy recorded the restore.
    assert before["audit_event"][-1][AuditEvent.__table__.c.keys().index("action")] == (
        "backup.create"
    )
    assert after["audit_event"][-1][AuditEvent.__table__.c.keys().index("action")] == (
        "backup.restore"
    )
    before["audit_event"].pop()
    after["audit_event"].pop()
    assert set(before) == set(after)
    for table in before:
        assert after[table] == before[table], table
    assert before["patient"] and before["plan"] and before["plan_item"] and before["log_entry"]


@pytest.mark.parametrize("target", BACKUP_TARGETS)
@pytest.mark.parametrize("name", ["clinic.json", "clinic.json.gz"])
def test_json_round_trip(seeded, runner, fresh_database, tmp_path, target, name):
    file = tmp_path / name
    result = runner.invoke(args=["backup", str(file)])
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output

    restored = fresh_database(target)
    outcome = restored.test_cli_runner().invoke(args=["restore", str(file)])
    assert outcome.exit_code == 0, outcome.output
    assert "Warning" not in outcome.output
    _assert_same_records(seeded, restored)

    verify = restored.test_cli_runner().invoke(args=["audit-verify"])
    assert verify.exit_code == 0, verify.output
    assert "intact" in verify.output

    # New rows get new ids after the restored ones (sequences were moved on PostgreSQL).
    with restored.app_context():
        clinic = db.session.scalars(sa.select(Clinic)).first()
        patient = create_patient(
            clinic.id, SYSTEM, given_name="New", family_name="After", chart_number="N-1"
        )
        db.session.commit()
        assert patient.id > max(row[0] for row in table_rows(seeded)["patient"])


def test_backup_file_format(seeded, runner, tmp_path):
    file = tmp_path / "clinic.json.gz"
    assert runner.invoke(args=["backup", str(file)]).exit_code == 0
    with gzip.open(file, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    header, trailer = records[0], records[-1]
    assert header["format"] == "floorplan-backup" and header["version"] == FORMAT_VERSION
    assert header["tables"][0] == "clinic"
    tables = {r["table"]: r for r in records if isinstance(r, dict) and "table" in r}
    assert set(tables) == set(header["tables"])
    clinic = tables["clinic"]
    assert clinic["encodings"][clinic["columns"].index("logo")] == "base64"
    assert clinic["encodings"][clinic["columns"].index("created_at")] == "datetime"
    assert trailer["end"] is True and trailer["rows"]["patient"] == 4
    # The backup itself is on the record.
    with seeded.app_context():
        last = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last.action == "backup.create" and "clinic.json.gz" in last.detail


def test_sqlite_online_backup(seeded, runner, fresh_database, tmp_path):
    if SERVER_URL:
        pytest.skip("the online backup API copies SQLite databases only")
    file = tmp_path / "copy.sqlite"
    result = runner.invoke(args=["backup", str(file)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(file) as copy:
        assert copy.execute("SELECT count(*) FROM patient").fetchone()[0] == 4
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"

    restored = fresh_database("sqlite")
    outcome = restored.test_cli_runner().invoke(args=["restore", str(file)])
    assert outcome.exit_code == 0, outcome.output
    _assert_same_records(seeded, restored)
    assert restored.test_cli_runner().invoke(args=["audit-verify"]).exit_code == 0


def test_sqlite_backup_refused_on_a_server_database(seeded, runner, tmp_path):
    if not SERVER_URL:
        pytest.skip("runs on PostgreSQL")
    result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite")])
    assert result.exit_code == 1 and ".json.gz" in result.output
    assert not (tmp_path / "copy.sqlite").exists()


def test_restore_refuses_a_database_with_data(seeded, runner, tmp_path):
    file = tmp_path / "clinic.json"
    assert runner.invoke(args=["backup", str(file)]).exit_code == 0
    with seeded.app_context():
        patients = db.session.scalar(sa.select(sa.func.count()).select_from(Patient))
    result = runner.invoke(args=["restore", str(file)])
    assert result.exit_code == 1
    assert "empty database" in result.output and "Nothing was restored" in result.output
    with seeded.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == patients


def test_backup_never_overwrites(seeded, runner, tmp_path):
    file = tmp_path / "clinic.json"
    file.write_text("an older backup")
    result = runner.invoke(args=["backup", str(file)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert file.read_text() == "an older backup"


def test_truncated_backup_restores_nothing(seeded, runner, fresh_database, tmp_path):
    file = tmp_path / "clinic.json"
    assert runner.invoke(args=["backup", str(file)]).exit_code == 0
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    cut = tmp_path / "cut.json"
    cut.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")

    restored = fresh_database("sqlite")
    result = restored.test_cli_runner().invoke(args=["restore", str(cut)])
    assert result.exit_code == 1 and "incomplete" in result.output
    assert all(not rows for rows in table_rows(restored).values())


def test_restore_refuses_other_formats(app, runner, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "floorplan-backup", "version": 99}) + "\n")
    result = runner.invoke(args=["restore", str(other)])
    assert result.exit_code == 1 and "format version 99" in result.output

    junk = tmp_path / "junk.json"
    junk.write_text("hello\n")
    result = runner.invoke(args=["restore", str(junk)])
    assert result.exit_code == 1 and "damaged" in result.output


def test_json_backup_reads_a_snapshot_without_blocking_writers(seeded):
    if SERVER_URL:
        pytest.skip("PostgreSQL readers never block writers")
    from prescriptions.commands.backup import _snapshot

    with seeded.app_context():
        with _snapshot() as snapshot:
            before = snapshot.execute(sa.select(sa.func.count()).select_from(Patient)).scalar()
            clinic = db.session.scalars(sa.select(Clinic)).first()
            # The app's writers begin IMMEDIATE: this would wait out the busy timeout and fail
            # with "database is locked" if the backup's read held the write lock.
            create_patient(
                clinic.id, SYSTEM, given_name="During", family_name="Backup", chart_number="D1"
            )
            db.session.commit()
            after = snapshot.execute(sa.select(sa.func.count()).select_from(Patient)).scalar()
        assert before == after == 4  # one consistent view for the whole backup
