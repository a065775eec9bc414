"""Helpers the benches share: a free loopback port, throwaway PostgreSQL databases and gunicorn."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


def database_answers(url: str) -> bool:
    """Whether the database server named by a URL accepts TCP connections."""
    parts = sa.make_url(url)
    try:
        with socket.create_connection((parts.host or "127.0.0.1", parts.port or 5432), 0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database named `<prefix>_<random>`, dropped on exit (even if in use)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_healthy(port: int, server: subprocess.Popen[bytes], deadline: float) -> None:
    """Until gunicorn on `port` answers /healthz; raises if it exits or the deadline passes."""
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then a kill if gunicorn has not gone in 10 s."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


@contextmanager
def gunicorn(
    env: dict[str, str], workers: int, port: int, log: IO[bytes]
) -> Iterator[subprocess.Popen[bytes]]:
    """`gunicorn -w <workers> app:app` on 127.0.0.1:`port`, its output in `log`; stopped on exit."""
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*command, "app:app"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        yield server
    finally:
        stop(server)
