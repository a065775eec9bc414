"""Issue 12, items 6 and 10: restore checks every row, the file's signature and the audit chain
against its checkpoint; hostile or damaged backups are refused in one line, writing nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from prescriptions import PROJECT_ROOT, create_app
from prescriptions.audit import SYSTEM, audit_key
from prescriptions.commands.backup import _Signer
from prescriptions.commands.demo import seed_demo
from prescriptions.extensions import db
from prescriptions.models import (
    AuditEvent,
    Clinic,
    Patient,
    Plan,
    Programme,
    ProgrammeBlockSums,
    User,
)
from prescriptions.patients.operations import create_patient
from tests.factories import BACKUP_TARGETS, PASSWORD, SERVER_URL, app_config, committing, table_rows


@pytest.fixture
def source(app: Flask, make_clinic: Callable[..., int]) -> Flask:
    """A demo clinic with patients and plans, and a second clinic with a patient of its own."""
    with committing(app):
        seed_demo(3, PASSWORD)
    other = make_clinic(name="Second Clinic")
    with committing(app):
        create_patient(other, SYSTEM, given_name="Bea", family_name="Other", chart_number="B-1")
    return app


def _backup(runner: Any, path: Path) -> Path:
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _edit(
    app: Flask,
    path: Path,
    table: str,
    change: Callable[[list[dict[str, Any]]], None],
    *,
    resign: bool = True,
) -> Path:
    """Change one table's rows in a JSON backup; re-sign it with the key (as a key holder could)."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    out: list[Any] = []
    i, counted = 0, 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        if isinstance(line, dict) and line.get("table") == table:
            columns = line["columns"]
            rows = []
            while i < len(lines) and isinstance(lines[i], list):
                rows.append(dict(zip(columns, lines[i], strict=True)))
                i += 1
            change(rows)
            out.extend([[r[c] for c in columns] for r in rows])
            counted = len(rows)
    trailer = out[-1]
    trailer["rows"][table] = counted
    edited = path.with_name("edited-" + path.name)
    with app.app_context():
        signer = _Signer(audit_key())
    text = []
    for value in out[:-1]:
        line = json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
        signer.add(line)
        text.append(line)
    if resign:
        trailer["hmac"] = signer.mac.hexdigest()
    text.append(json.dumps(trailer, separators=(",", ":")) + "\n")
    edited.write_text("".join(text), encoding="utf-8")
    return edited


def _refused(restored: Flask, file: Path, *words: str, args: tuple[str, ...] = ()) -> str:
    result = restored.test_cli_runner().invoke(args=["restore", str(file), *args])
    assert result.exit_code == 1, result.output
    assert "Nothing was restored" in result.output
    for word in words:
        assert word in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output and "Aborted" not in result.output
    assert all(not rows for rows in table_rows(restored).values())
    return result.output


def _ids(app: Flask, model: type, **where: Any) -> list[int]:
    with app.app_context():
        stmt = sa.select(model.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return list(db.session.scalars(stmt.order_by(model.id)))


# --- hostile backups (item 6) -----------------------------------------------------------------


@pytest.mark.parametrize("target", BACKUP_TARGETS)
def test_an_added_admin_row_is_refused(source, runner, fresh_database, tmp_path, target):
    file = _backup(runner, tmp_path / "b.json")

    def add_admin(rows: list[dict[str, Any]]) -> None:
        forged = dict(rows[0], id=max(r["id"] for r in rows) + 1, email="mallory@evil.test")
        forged["role"] = "admin"
        rows.append(forged)

    edited = _edit(source, file, "user_account", add_admin)
    _refused(fresh_database(target), edited, "mallory@evil.test", "no record of its creation")
    # Even the explicit flag for a chain break does not let a forged account in.
    unsigned = _edit(source, file, "user_account", add_admin, resign=False)
    _refused(
        fresh_database(target),
        unsigned,
        "no record of its creation",
        args=("--accept-broken-chain",),
    )


@pytest.mark.parametrize("target", BACKUP_TARGETS)
def test_a_plan_relabelled_to_another_clinic_is_refused(
    source, runner, fresh_database, tmp_path, target
):
    other = _ids(source, Clinic, name="Second Clinic")[0]
    plan = _ids(source, Plan)[0]
    file = _backup(runner, tmp_path / "b.json")

    def relabel(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if row["id"] == plan:
                row["clinic_id"] = other

    edited = _edit(source, file, "plan", relabel)
    _refused(fresh_database(target), edited, f"plan row {plan}", "moved between clinics")


@pytest.mark.parametrize("target", BACKUP_TARGETS)
def test_text_in_an_integer_column_is_refused(source, runner, fresh_database, tmp_path, target):
    file = _backup(runner, tmp_path / "b.json")

    def text(rows: list[dict[str, Any]]) -> None:
        rows[0]["oxford_grade"] = "five"

    edited = _edit(source, file, "assessment", text)
    _refused(fresh_database(target), edited, "'five' in oxford_grade", "a whole number")


@pytest.mark.parametrize("target", BACKUP_TARGETS)
def test_a_timestamp_in_a_date_column_is_refused(source, runner, fresh_database, tmp_path, target):
    file = _backup(runner, tmp_path / "b.json")

    def stamp(rows: list[dict[str, Any]]) -> None:
        rows[0]["date_of_birth"] = "1970-05-17T10:00:00"

    edited = _edit(source, file, "patient", stamp)
    _refused(fresh_database(target), edited, "date_of_birth", "a date (YYYY-MM-DD)")


@pytest.mark.parametrize("target", BACKUP_TARGETS)
def test_an_edited_audit_row_is_refused_unless_accepted_and_then_recorded(
    source, runner, fresh_database, tmp_path, target
):
    file = _backup(runner, tmp_path / "b.json")

    def edit(rows: list[dict[str, Any]]) -> None:
        rows[1]["detail"] = "nothing to see"

    edited = _edit(source, file, "audit_event", edit)
    _refused(fresh_database(target), edited, "does not verify", "--accept-broken-chain")

    restored = fresh_database(target)
    result = restored.test_cli_runner().invoke(
        args=["restore", str(edited), "--accept-broken-chain"]
    )
    assert result.exit_code == 0, result.output
    assert "restored unverified" in result.output
    with restored.app_context():
        last = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last.action == "backup.restore_broken_chain"
        assert "does not verify" in last.detail


# --- damaged backups and keys (item 10) -------------------------------------------------------


@pytest.mark.parametrize("target", BACKUP_TARGETS)
def test_a_tampered_backup_is_refused_before_commit(
    source, runner, fresh_database, tmp_path, target
):
    file = _backup(runner, tmp_path / "b.json")

    def rename(rows: list[dict[str, Any]]) -> None:
        rows[0]["family_name"] = "Changed"

    edited = _edit(source, file, "patient", rename, resign=False)
    _refused(fresh_database(target), edited, "signature does not match")


@pytest.mark.parametrize("target", BACKUP_TARGETS)
def test_the_wrong_audit_key_is_refused(source, runner, fresh_database, tmp_path, target):
    file = _backup(runner, tmp_path / "b.json.gz")
    restored = fresh_database(target)
    restored.config["SECRET_KEY"] = "another-servers-secret-key"
    _refused(restored, file, "signature does not match", "FLOORPLAN_AUDIT_KEY")


def test_a_truncated_json_gz_is_one_line(source, runner, fresh_database, tmp_path):
    file = _backup(runner, tmp_path / "b.json.gz")
    cut = tmp_path / "cut.json.gz"
    data = file.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    _refused(fresh_database("sqlite"), cut, "cut short")


def test_a_gzip_without_its_trailer_is_refused(source, runner, fresh_database, tmp_path):
    file = _backup(runner, tmp_path / "b.json.gz")
    cut = tmp_path / "no-trailer.json.gz"
    cut.write_bytes(file.read_bytes()[:-8])  # the CRC-32 and length
    _refused(fresh_database("sqlite"), cut, "incomplete")


def test_a_gzip_with_a_wrong_checksum_is_refused(source, runner, fresh_database, tmp_path):
    file = _backup(runner, tmp_path / "b.json.gz")
    data = bytearray(file.read_bytes())
    data[-8] ^= 0xFF  # the CRC-32
    bad = tmp_path / "bad-crc.json.gz"
    bad.write_bytes(bytes(data))
    _refused(fresh_database("sqlite"), bad, "checksum")


@pytest.mark.parametrize("target", BACKUP_TARGETS)
def test_a_corrupt_sqlite_backup_is_one_line(app, source, runner, fresh_database, tmp_path, target):
    if SERVER_URL:
        pytest.skip("a .sqlite backup is made from an SQLite database")
    file = _backup(runner, tmp_path / "b.sqlite")
    data = bytearray(file.read_bytes())
    for offset in range(4096, len(data), 997):
        data[offset] ^= 0x5A
    file.write_bytes(bytes(data))
    _refused(fresh_database(target), file, "damaged SQLite database")

    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"SQLite format 3\x00" + os.urandom(5000))
    _refused(fresh_database(target), garbage)


def test_a_sqlite_backup_is_checked_against_its_checkpoint(
    source, runner, fresh_database, tmp_path
):
    if SERVER_URL:
        pytest.skip("a .sqlite backup is made from an SQLite database")
    file = _backup(runner, tmp_path / "b.sqlite")
    with sqlite3.connect(file) as copy:
        newest = copy.execute("SELECT max(id) FROM audit_event").fetchone()[0]
        copy.execute("DELETE FROM audit_event WHERE id = ?", (newest,))
    _refused(fresh_database("sqlite"), file, "signature")


@pytest.mark.parametrize("target", BACKUP_TARGETS)
def test_over_long_values_from_sqlite_are_refused_naming_the_column(
    app, runner, fresh_database, tmp_path, target, make_clinic
):
    if SERVER_URL:
        pytest.skip("SQLite is the database that stores over-long values")
    clinic = make_clinic()
    with committing(app):
        patient = create_patient(clinic, SYSTEM, given_name="A", family_name="B", chart_number="1")
        patient_id = patient.id
    # Written past the application, as an older FloorPlan or a hand edit could have.
    with app.app_context():
        db.session.execute(
            sa.update(Patient)
            .where(Patient.id == patient_id)
            .values(family_name="x" * 300)
            .execution_options(synchronize_session=False),
        )
        db.session.commit()
    file = _backup(runner, tmp_path / "b.json")
    _refused(fresh_database(target), file, "300 characters in family_name", "at most 100")


def test_the_app_enforces_lengths_on_sqlite_too(app, make_clinic):
    from prescriptions.database import ValueTooLong

    clinic = make_clinic()
    with app.app_context():
        with pytest.raises(ValueTooLong, match="patient.family_name holds at most 100"):
            create_patient(clinic, SYSTEM, given_name="A", family_name="y" * 101, chart_number="2")
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 0


def test_backup_onto_a_full_disk_is_one_line(source, runner, tmp_path):
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        filler = mount / "other-files"
        free = os.statvfs(mount)
        filler.write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 8192))  # 8 KiB left
        result = runner.invoke(args=["backup", str(mount / "b.json")])
        assert result.exit_code == 1, result.output
        assert "is full" in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert list(mount.iterdir()) == [filler]  # no partial file left behind
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_the_advice_to_migrate_works_on_sqlite(tmp_path):
    """A backup made at another schema revision than the database: the advice it gives (a fresh
    database migrated to the backup's revision with auto-migration off, the restore, then the
    upgrade) is the way through, verbatim. Here the database is one revision behind the backup; a
    backup from an older release takes the same steps."""
    if SERVER_URL:
        pytest.skip("the advice for SQLite with auto-migration")
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    scripts = ScriptDirectory.from_config(config)
    (head,) = scripts.get_heads()
    previous = scripts.get_revision(head).down_revision
    made = create_app(app_config(f"sqlite:///{tmp_path / 'made.sqlite'}"))
    runner = made.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with committing(made):
        seed_demo(1, PASSWORD)
    with made.app_context():
        users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    file = _backup(runner, tmp_path / "made.json.gz")

    behind = create_app(app_config(f"sqlite:///{tmp_path / 'behind.sqlite'}"))
    assert behind.test_cli_runner().invoke(args=["db", "upgrade", previous]).exit_code == 0
    refused = behind.test_cli_runner().invoke(args=["restore", str(file)])
    output = refused.output
    assert refused.exit_code == 1 and len(output.strip().splitlines()) == 1, output
    assert "Nothing was restored" in output and f"db upgrade {head}" in output
    assert "FLOORPLAN_AUTO_MIGRATE=false flask --app app restore FILE" in output
    with behind.app_context():  # that schema predates today's models: count rows by hand
        assert db.session.scalar(sa.text("SELECT count(*) FROM user_account")) == 0

    # Following it: a database at the backup's revision takes the restore, then upgrades.
    target = create_app(app_config(f"sqlite:///{tmp_path / 'target.sqlite'}"))
    target_runner = target.test_cli_runner()
    assert target_runner.invoke(args=["db", "upgrade", head]).exit_code == 0
    restored = target_runner.invoke(args=["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    assert target_runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert target_runner.invoke(args=["audit-verify"]).exit_code == 0
    with target.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users
    for built in (made, behind, target):
        with built.app_context():
            db.engine.dispose()


def test_auto_migration_can_be_turned_off_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FLOORPLAN_AUTO_MIGRATE", "false")
    monkeypatch.setenv("FLOORPLAN_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'x.sqlite'}")
    monkeypatch.setenv("FLOORPLAN_INSTANCE_PATH", str(tmp_path))
    assert create_app().config["AUTO_MIGRATE"] is False
    assert (
        not (tmp_path / "x.sqlite").exists()
        or not sqlite3.connect(tmp_path / "x.sqlite")
        .execute("SELECT name FROM sqlite_master")
        .fetchall()
    )


# --- derived data (issue 14) ------------------------------------------------------------------


def _block_sums(app: Flask) -> list[tuple[Any, ...]]:
    with app.app_context():
        table = ProgrammeBlockSums.__table__
        return [tuple(r) for r in db.session.execute(sa.select(table).order_by(*table.primary_key))]


@pytest.mark.parametrize("target", BACKUP_TARGETS)
def test_forged_block_sums_are_recounted_from_the_restored_days(
    source, runner, fresh_database, tmp_path, target
):
    kept = _block_sums(source)
    assert kept, "the demo clinic has logged days"
    file = _backup(runner, tmp_path / "b.json")
    programme = _ids(source, Programme)[0]

    def forge(rows: list[dict[str, Any]]) -> None:
        for row in rows:  # every patient did every session and stopped leaking
            row["sessions_done"] = row["sessions_prescribed"]
            row["leaks"] = 0
        rows.append(
            dict(rows[0], programme_id=programme, block_number=9, days=50, sessions_done=500)
        )

    edited = _edit(source, file, "programme_block_sums", forge)
    restored = fresh_database(target)
    result = restored.test_cli_runner().invoke(args=["restore", str(edited)])
    assert result.exit_code == 0, result.output
    assert _block_sums(restored) == kept
