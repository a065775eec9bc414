"""Issue 12, items 8 and 9: the database down, hung, locked or full. Each fault is real: a TCP
proxy on loopback that is paused or closed, a lock held by another connection, pg_sleep, and a
small tmpfs filled to the last byte. Never the machine's shared PostgreSQL server itself."""

from __future__ import annotations

import contextlib
import logging
import os
import runpy
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from prescriptions import PROJECT_ROOT, create_app
from prescriptions.accounts.operations import create_clinic, create_user
from prescriptions.database import TIMEOUTS, is_storage_full, is_unavailable
from prescriptions.extensions import db
from prescriptions.models import Patient
from tests.factories import PASSWORD, SERVER_URL, app_config, login

NEW = {
    "given_name": "Zebedee",
    "family_name": "Quillfeather",
    "date_of_birth": "1961-02-03",
    "chart_number": "ZQ-1",
    "cue_set": "female",
    "diagnoses": ["stress_ui"],
    "phone": "07700 900777",
    "once": "fault-1",
}
#: Typed into the form; must never reach a log.
PATIENT_DATA = ("Zebedee", "Quillfeather", "1961-02-03", "07700 900777")

needs_server = pytest.mark.skipif(not SERVER_URL, reason="runs on PostgreSQL")


def _signed_in(app: Flask) -> FlaskClient:
    with app.app_context():
        clinic = create_clinic("Fault Clinic")
        create_user(clinic, email="c@fault.test", name="Cleo", role="clinician", password=PASSWORD)
        db.session.commit()
    client = app.test_client()
    assert login(client, "c@fault.test").status_code == 302
    return client


def _timed(call: Callable[[], Any], limit: float) -> tuple[Any, float]:
    """Run a request in a thread so a hang fails the test instead of stopping the suite."""
    box: dict[str, Any] = {}

    def run() -> None:
        box["value"] = call()

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    elapsed = time.monotonic() - started
    assert "value" in box, f"no answer within {limit} s"
    return box["value"], elapsed


def _is_unavailable_page(response: Any) -> None:
    assert response.status_code == 503
    assert response.headers.get("Retry-After") == "30"
    page = response.get_data(as_text=True)
    assert "FloorPlan is unavailable for a moment" in page and "Traceback" not in page


def _logs_are_clean(caplog: Any, failures: int) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == failures, [r.getMessage() for r in errors]
    for record in errors:
        assert record.exc_info is None and "\n" not in record.getMessage()
    for value in PATIENT_DATA:
        assert value not in caplog.text


# --- SQLite: another writer holds the lock past the busy timeout -------------------------------


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    if SERVER_URL:
        pytest.skip("SQLite's write lock")
    app = create_app(
        app_config(
            f"sqlite:///{tmp_path / 'locked.sqlite'}",
            SQLITE_BUSY_TIMEOUT_MS=300,
            TESTING=False,
            PROPAGATE_EXCEPTIONS=False,
        )
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_locked_sqlite_database_is_a_503_page_and_one_clean_log_line(
    sqlite_app, tmp_path, caplog
):
    client = _signed_in(sqlite_app)
    holder = sqlite3.connect(tmp_path / "locked.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer that does not finish
    try:
        with caplog.at_level(logging.INFO):
            response, elapsed = _timed(lambda: client.post("/patients/new", data=NEW), 10)
        _is_unavailable_page(response)
        assert elapsed < 3
        # Reads are not blocked by the writer: the list still opens.
        assert client.get("/patients").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _logs_are_clean(caplog, 1)
    assert client.post("/patients/new", data=NEW).status_code == 302


def test_sql_parameters_never_reach_an_error_message(app):
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError) as failure:
            db.session.execute(sa.text("SELECT no_such_column, :name"), {"name": "Zebedee"})
        assert "Zebedee" not in str(failure.value)
        db.session.rollback()


def test_the_timeouts_end_a_request_before_gunicorn_kills_it():
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    killed_at = settings["timeout"]
    assert TIMEOUTS["SQLITE_BUSY_TIMEOUT_MS"] / 1000 * 2 < killed_at
    frozen = TIMEOUTS["DATABASE_CLIENT_TIMEOUT_S"] + TIMEOUTS["DATABASE_CONNECT_TIMEOUT_S"]
    assert frozen + 5 < killed_at  # a stuck ping, one reconnect, and time to answer
    assert TIMEOUTS["DATABASE_STATEMENT_TIMEOUT_MS"] / 1000 < TIMEOUTS["DATABASE_CLIENT_TIMEOUT_S"]
    assert TIMEOUTS["DATABASE_LOCK_TIMEOUT_MS"] < TIMEOUTS["DATABASE_STATEMENT_TIMEOUT_MS"]


# --- PostgreSQL behind a proxy we can pause and close ------------------------------------------


class Proxy:
    """A TCP proxy on loopback to the PostgreSQL server: pause it (frozen) or close it (down)."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.running = threading.Event()
        self.running.set()
        self.sockets: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.closed:
                client.close()
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                self.running.wait()  # paused: nothing moves, nothing is closed
                data = source.recv(65536)
                if not data:
                    break
                self.running.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def pause(self) -> None:
        self.running.clear()

    def resume(self) -> None:
        self.running.set()

    def close(self) -> None:
        """The server is gone: refuse new connections and drop the open ones."""
        self.closed = True
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below; close() does not
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.running.set()


@pytest.fixture
def proxied(app_factory: Callable[..., Flask]) -> Iterator[tuple[Flask, Proxy]]:
    """The app on the test database, through a proxy; short client-side timeouts."""
    url = sa.engine.make_url(SERVER_URL)
    app_factory()  # the schema, emptied after the test
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    through = url.set(host="127.0.0.1", port=proxy.port)
    app = create_app(
        app_config(
            through.render_as_string(hide_password=False),
            DATABASE_CLIENT_TIMEOUT_S=2,
            DATABASE_CONNECT_TIMEOUT_S=2,
            HEALTH_PROBE_SECONDS=1.0,
            TESTING=False,
            PROPAGATE_EXCEPTIONS=False,
        )
    )
    yield app, proxy
    proxy.close()
    with app.app_context():
        db.engine.dispose()


@needs_server
def test_a_frozen_database_fails_clearly_and_healthz_answers_in_2_s(proxied, caplog):
    app, proxy = proxied
    client = _signed_in(app)
    assert client.get("/healthz").status_code == 200
    proxy.pause()
    try:
        health, elapsed = _timed(lambda: client.get("/healthz"), 10)
        assert health.status_code == 503 and elapsed < 2
        assert health.get_json() == {"status": "error", "database": "timeout"}
        # A page: the watchdog cuts the stuck connection, the reconnect times out, and the
        # answer is the house page long before gunicorn's 30 s.
        with caplog.at_level(logging.INFO):
            response, elapsed = _timed(lambda: client.post("/patients/new", data=NEW), 20)
        _is_unavailable_page(response)
        assert elapsed < 10
        _logs_are_clean(caplog, 1)
    finally:
        proxy.resume()
    # Back without a restart.
    deadline = time.monotonic() + 15
    while client.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline, "healthz did not recover"
        time.sleep(0.5)
    assert client.post("/patients/new", data=NEW).status_code == 302


@needs_server
def test_a_stopped_database_is_a_503_page_for_a_signed_in_user(proxied, caplog):
    app, proxy = proxied
    client = _signed_in(app)
    proxy.close()
    with caplog.at_level(logging.INFO):
        response, elapsed = _timed(lambda: client.get("/patients"), 10)
    _is_unavailable_page(response)
    assert elapsed < 5
    _logs_are_clean(caplog, 1)
    health, elapsed = _timed(lambda: client.get("/healthz"), 10)
    assert health.status_code == 503 and elapsed < 2


def test_a_closed_port_answers_healthz_at_once():
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"
    app = create_app(app_config(url))
    health, elapsed = _timed(lambda: app.test_client().get("/healthz"), 10)
    assert health.status_code == 503 and elapsed < 2
    assert health.get_json() == {"status": "error", "database": "error"}


@needs_server
def test_a_held_audit_lock_fails_a_write_after_the_lock_timeout(app_factory, caplog):
    app = app_factory(DATABASE_LOCK_TIMEOUT_MS=500, TESTING=False, PROPAGATE_EXCEPTIONS=False)
    client = _signed_in(app)
    with app.app_context():
        clinic = db.session.scalar(sa.text("SELECT id FROM clinic"))
    holder = sa.create_engine(SERVER_URL).connect()
    holder.execute(sa.text("SELECT pg_advisory_xact_lock(7734001, :c)"), {"c": clinic})
    try:
        with caplog.at_level(logging.INFO):
            response, elapsed = _timed(lambda: client.post("/patients/new", data=NEW), 15)
    finally:
        holder.rollback()
        holder.close()
    _is_unavailable_page(response)
    assert elapsed < 3
    _logs_are_clean(caplog, 1)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 0


@needs_server
def test_a_slow_statement_is_cancelled_by_the_statement_timeout(app_factory):
    app = app_factory(DATABASE_STATEMENT_TIMEOUT_MS=300)
    with app.app_context():
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError) as failure:
            db.session.execute(sa.text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 2
        assert is_unavailable(failure.value)
        db.session.rollback()


# --- a full disk --------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs of our own (we are root), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(mount: Path) -> Path:
    """Fill the disk to its last byte."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_reshows_the_form_and_healthz_says_so(small_disk, caplog):
    database = small_disk / "clinic.sqlite"
    app = create_app(app_config(f"sqlite:///{database}", TESTING=False, PROPAGATE_EXCEPTIONS=False))
    try:
        with app.app_context():
            db.create_all()
        client = _signed_in(app)
        with sqlite3.connect(database) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no room kept in the WAL file
        filler = _fill(small_disk)

        with caplog.at_level(logging.INFO):
            response = client.post("/patients/new", data={**NEW, "notes": "n" * 4000})
        assert response.status_code == 507
        page = response.get_data(as_text=True)
        assert "The clinic&#39;s storage is full" in page or "The clinic's storage is full" in page
        assert 'value="Zebedee"' in page and 'value="Quillfeather"' in page  # as typed
        assert 'value="fault-1"' in page  # the same one-time token: saving again is safe
        for value in PATIENT_DATA:
            assert value not in caplog.text
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["storage"] == "full"

        filler.unlink()
        again = client.post("/patients/new", data={**NEW, "notes": "n" * 4000})
        assert again.status_code == 302
        assert client.get("/healthz").status_code == 200
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 1
    finally:
        with app.app_context():
            db.engine.dispose()


def test_storage_full_is_recognised_on_postgresql_too():
    """PostgreSQL's disk_full (SQLSTATE 53100) as psycopg raises it (classification only)."""
    import psycopg

    error = sa.exc.OperationalError("INSERT ...", {}, psycopg.errors.DiskFull("could not extend"))
    assert is_storage_full(error)
    assert not is_storage_full(sa.exc.OperationalError("SELECT 1", {}, Exception("timeout")))


def test_backup_on_a_full_disk_is_one_line(small_disk, app, runner, make_clinic):
    make_clinic()
    _fill(small_disk)
    result = runner.invoke(args=["backup", str(small_disk / "b.json.gz")])
    assert result.exit_code == 1 and "is full" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_only_database_faults_count_as_unavailable():
    """A mistake in SQL stays a 500 with its traceback; SQLite reports both as OperationalError."""
    locked = sa.exc.OperationalError(
        "INSERT ...", {}, sqlite3.OperationalError("database is locked")
    )
    mistake = sa.exc.OperationalError("SELECT q", {}, sqlite3.OperationalError("no such column: q"))
    assert is_unavailable(locked) and not is_unavailable(mistake)
