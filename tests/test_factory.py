"""The application factory, configuration layering, health check and error pages."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from prescriptions import PROJECT_ROOT, create_app
from prescriptions.accounts.operations import create_clinic, create_user
from prescriptions.audit import SYSTEM
from prescriptions.config import DEV_SECRET_KEY
from prescriptions.extensions import db
from prescriptions.patients.operations import create_patient
from tests.factories import PASSWORD, login


def _without_floorplan_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FLOORPLAN_"):
            monkeypatch.delenv(name)


def _patients(app, count: int) -> str:
    """A clinic with an administrator and `count` patients; returns the administrator's email."""
    with app.app_context():
        clinic = create_clinic("Layered Clinic")
        email = create_user(
            clinic, email="ada@layered.test", name="Ada", role="admin", password=PASSWORD
        ).email
        for n in range(count):
            create_patient(
                clinic.id,
                SYSTEM,
                given_name="Pat",
                family_name=f"Family{n}",
                chart_number=f"L-{n}",
                cue_set="female",
            )
        db.session.commit()
    return email


def test_defaults_then_instance_config_then_environment(tmp_path, monkeypatch):
    """A real instance folder: its config.py (the shipped example plus settings) over the
    defaults, FLOORPLAN_* variables over both, and the started app runs on the result."""
    _without_floorplan_variables(monkeypatch)
    instance = tmp_path / "instance"
    instance.mkdir()
    example = (PROJECT_ROOT / "instance" / "config.example.py").read_text()
    (instance / "config.py").write_text(
        example
        + 'SECRET_KEY = "from the instance file"\n'
        + "PATIENTS_PER_PAGE = 7\n"
        + "LOGIN_LIMIT_PER_ACCOUNT = 2\n"
        + "WTF_CSRF_ENABLED = False\n"
    )
    monkeypatch.setenv("FLOORPLAN_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("FLOORPLAN_PATIENTS_PER_PAGE", "3")
    app = create_app()
    assert app.instance_path == str(instance)
    assert app.config["SECRET_KEY"] == "from the instance file"  # the file over the default
    assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == 2
    assert app.config["PATIENTS_PER_PAGE"] == 3  # the environment over the file
    assert app.config["LOGIN_LIMIT_PER_ADDRESS"] == 20  # set nowhere: the default
    # the default database lives in the instance folder, and the first start made it
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'floorplan.sqlite'}"
    assert (instance / "floorplan.sqlite").is_file()

    email = _patients(app, 7)
    client = app.test_client()
    assert login(client, email).status_code == 302
    page = client.get("/patients").get_data(as_text=True)
    assert "Page 1 of 3" in page and "7 patients" in page  # 3 a page, from the environment
    client.post("/logout")
    for _ in range(2):
        assert login(client, email, "not the password at all").status_code == 400
    assert login(client, email).status_code == 429  # the file's limit of 2, not the default 5


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
    """A first start on a new SQLite file builds the whole schema at the newest migration,
    ready for setup; a second start keeps what was written."""
    path = tmp_path / "new.sqlite"
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "WTF_CSRF_ENABLED": False}
    app = create_app(config)  # AUTO_MIGRATE is on by default
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            versions = [row[0] for row in version]
        assert set(db.metadata.tables) <= tables, set(db.metadata.tables) - tables
        heads = ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_heads()
        assert versions and set(versions) == set(heads)

        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        assert client.get("/").location.endswith("/setup")
        password = "a fresh setup phrase 1"
        response = client.post(
            "/setup",
            data={
                "clinic_name": "First Start Physio",
                "clinic_phone": "+44 20 7946 0000",
                "paper": "a4",
                "name": "Ada Admin",
                "email": "ada@first.test",
                "password": password,
                "confirm": password,
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        again = create_app(config).test_client()  # the next start: migrating again is a no-op
        assert login(again, "ada@first.test", password).status_code == 302
    finally:
        engine.dispose()


def test_without_auto_migration_a_first_start_leaves_the_database_alone(tmp_path):
    path = tmp_path / "untouched.sqlite"
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "AUTO_MIGRATE": False})
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []
    engine.dispose()


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
