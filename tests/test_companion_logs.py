"""A patient link's key never reaches a log: gunicorn's access log and the app's error lines."""

from __future__ import annotations

import datetime as dt
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "Q" * 32


def _access_line(path: str, query: str = "") -> str:
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("access_log_format", settings["access_log_format"])
    logger = settings["logger_class"](config)
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": path + (f"?{query}" if query else ""),
        "PATH_INFO": path, "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }  # fmt: skip
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = logger.atoms(resp, SimpleNamespace(headers=[]), environ, dt.timedelta(seconds=0))
    return (settings["access_log_format"] % atoms) + " " + atoms["r"]


def test_the_access_log_leaves_out_the_patients_key():
    for path in (f"/p/{TOKEN}", f"/p/{TOKEN}/day", "/p/ABCD-EFGH-JKMN/week"):
        line = _access_line(path, "on=2026-12-01")
        assert TOKEN not in line and "ABCD-EFGH-JKMN" not in line, line
        assert "/p/-" in line
    assert "/p/sw.js" in _access_line("/p/sw.js")
    assert "/patients/3" in _access_line("/patients/3")


def test_error_lines_leave_out_the_patients_key(app, make_clinic, make_user, caplog, monkeypatch):
    make_user(make_clinic())
    import prescriptions.companion.phone_views as views
    from prescriptions.web import errors

    def down(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(views, "fetch_link_by_key", down)
    monkeypatch.setattr(errors, "is_unavailable", lambda error: True)
    monkeypatch.setattr(errors, "_without_database", lambda code: ("down", code))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR):
        got = app.test_client().get(f"/p/{TOKEN}/week")
    assert got.status_code == 503, got.headers.get("Location")
    lines = " ".join(r.getMessage() for r in caplog.records)
    assert "/p/-/week" in lines and TOKEN not in lines
