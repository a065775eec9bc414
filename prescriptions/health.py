"""The load balancer's health check: an answer within 2 s, whatever the database does."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from .extensions import db

bp = Blueprint("health", __name__)

#: How long /healthz waits for the database before answering "timeout".
PROBE_SECONDS = 1.0
#: An SQLite database whose disk has less free space than this is reported full.
MIN_FREE_BYTES = 1024 * 1024
#: A storage-full failure is reported until a later write succeeds, or for this long.
FULL_REMEMBERED_S = 600

# One probe at a time per process: a probe stuck on a frozen database is not joined by others.
_probing = threading.Lock()
_full_since: list[float] = []  #: when a write last failed for lack of space (cleared on success)


def storage_full_now() -> None:
    """Remember that a write failed for lack of space (reported by /healthz)."""
    _full_since[:] = [time.monotonic()]


def storage_ok_now() -> None:
    """A write was stored: the disk has room again."""
    _full_since.clear()


def _flushed(session: Any, _context: Any) -> None:
    session.info["floorplan.wrote"] = True


def _committed(session: Any) -> None:
    if session.info.pop("floorplan.wrote", False):
        storage_ok_now()


def watch_storage() -> None:
    """Clear the storage-full report once a write is stored again (once per process)."""
    if not sa.event.contains(Session, "after_flush", _flushed):
        sa.event.listen(Session, "after_flush", _flushed)
        sa.event.listen(Session, "after_commit", _committed)


def _probe(app: Flask, answer: dict[str, str]) -> None:
    try:
        with app.app_context(), db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        answer["database"] = "ok"
    except Exception:  # noqa: BLE001  # any failure of the database is the answer
        answer["database"] = "error"
    finally:
        _probing.release()


def _storage(app: Flask) -> str:
    if _full_since and time.monotonic() - _full_since[0] < FULL_REMEMBERED_S:
        return "full"
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        try:
            disk = os.statvfs(os.path.dirname(os.path.abspath(url.database)))
        except OSError:
            return "ok"  # no folder, no database: the database check says so
        minimum = int(app.config.get("STORAGE_MIN_FREE_BYTES", MIN_FREE_BYTES))
        if disk.f_bavail * disk.f_frsize < minimum:
            return "full"
    return "ok"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers and has room; 503 naming what is wrong; nothing else."""
    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    answer = {"database": "timeout"}
    if _probing.acquire(blocking=False):
        probe = threading.Thread(target=_probe, args=(app, answer), daemon=True)
        probe.start()
        probe.join(float(app.config.get("HEALTH_PROBE_SECONDS", PROBE_SECONDS)))
    # else an earlier probe is still waiting on the database: that is the answer already
    database = answer["database"]
    storage = _storage(app)
    healthy = database == "ok" and storage == "ok"
    body = {"status": "ok" if healthy else "error", "database": database}
    if storage != "ok":
        body["storage"] = storage  # only said when wrong: the healthy answer is SPEC.md's
    return jsonify(body), 200 if healthy else 503
