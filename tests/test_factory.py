"""The application factory, configuration layering, health check and error pages."""

from __future__ import annotations

import pytest

from prescriptions import create_app
from prescriptions.config import DEV_SECRET_KEY


def test_defaults_then_instance_config_then_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('PATIENTS_PER_PAGE = 7\nFOOTER = "instance"\n')
    monkeypatch.setenv("FLOORPLAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("FLOORPLAN_FOOTER", '"environment"')
    monkeypatch.setenv("FLOORPLAN_AUTO_MIGRATE", "false")
    app = create_app()
    assert app.config["PATIENTS_PER_PAGE"] == 7  # instance/config.py over the default
    assert app.config["FOOTER"] == "environment"  # the environment over instance/config.py
    assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == 5  # untouched default
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///" + str(tmp_path))


def test_test_config_replaces_instance_layers(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "AUTO_MIGRATE": False, "X": 1})
    assert app.config["X"] == 1
    assert not app.config.get("TESTING")


def test_production_refuses_the_development_secret_key():
    with pytest.raises(RuntimeError, match="secret key"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": DEV_SECRET_KEY, "AUTO_MIGRATE": False})


def test_production_with_a_real_key_uses_secure_cookies():
    app = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "x" * 40,
            "AUTO_MIGRATE": False,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_first_start_creates_and_migrates_the_sqlite_database(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.sqlite'}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert (tmp_path / "new.sqlite").exists()


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite",
            "AUTO_MIGRATE": False,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "error"}


def test_unknown_page_is_a_house_404(signed_in):
    response = signed_in.get("/no-such-page")
    assert response.status_code == 404
    assert b"Page not found" in response.data
    assert b"Traceback" not in response.data


def test_unexpected_error_is_a_house_500_without_a_trace(app_factory, make_user):
    app = app_factory(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    make_user()  # past first-run setup

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert b"Something went wrong" in response.data
    assert b"secret internals" not in response.data
