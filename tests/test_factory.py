"""The application factory, configuration layering, health check and error pages."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from datetime import timedelta

import itsdangerous.timed
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_login.utils import encode_cookie

from prescriptions import PROJECT_ROOT, create_app
from prescriptions.accounts.operations import create_clinic, create_user
from prescriptions.audit import SYSTEM, audit_key
from prescriptions.config import DEV_SECRET_KEY, ConfigError, derived_audit_key
from prescriptions.extensions import db
from prescriptions.patients.operations import create_patient
from tests.factories import PASSWORD, login

#: 32 bytes, 32 different characters, no repeated or consecutive run: just strong enough.
STRONG = "Zq3vT9xKp2LmW8rYc4NfB7hJd1GsE6uA"


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
    with pytest.raises(ConfigError, match="FLOORPLAN_SECRET_KEY is unset or the development key"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": DEV_SECRET_KEY, "AUTO_MIGRATE": False})


def production(**config):
    """An app in production with `config` over a memory database."""
    base = {"ENV_NAME": "production", "AUTO_MIGRATE": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    return create_app({**base, **config})


def test_production_with_a_real_key_uses_secure_cookies():
    app = production(SECRET_KEY=secrets.token_urlsafe(48))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(
    ("secret_key", "why"),
    [
        ("x", "it is 1 byte long and at least 32 are needed"),
        (STRONG[:31], "it is 31 bytes long"),
        ("x" * 40, "too little variety"),
        ("Password1234" * 3, "a run of 8 characters appears in it twice"),
    ],
)
def test_production_refuses_a_weak_secret_key(secret_key, why):
    with pytest.raises(ConfigError) as refused:
        production(SECRET_KEY=secret_key)
    message = str(refused.value)
    assert message.startswith("Refusing to start in production: FLOORPLAN_SECRET_KEY is too weak")
    assert why in message and "secrets.token_urlsafe(48)" in message
    assert secret_key not in message


def test_production_starts_with_a_key_just_long_and_varied_enough():
    assert production(SECRET_KEY=STRONG).config["SECRET_KEY"] == STRONG


def test_production_refuses_an_audit_key_derived_from_the_development_key():
    dev_chain_key = derived_audit_key(DEV_SECRET_KEY).hex()
    with pytest.raises(ConfigError, match="FLOORPLAN_AUDIT_KEY is, or is derived from, a weak"):
        production(SECRET_KEY=STRONG, AUDIT_KEY=dev_chain_key)
    with pytest.raises(ConfigError, match="FLOORPLAN_AUDIT_KEY is too weak: it is 1 byte long"):
        production(SECRET_KEY=STRONG, AUDIT_KEY="k")
    assert production(SECRET_KEY=STRONG, AUDIT_KEY=STRONG[::-1]).config["AUDIT_KEY"]


def test_the_derived_audit_key_is_the_one_the_chain_uses():
    app = create_app({"SECRET_KEY": STRONG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        assert audit_key() == derived_audit_key(STRONG)
    with create_app({"SECRET_KEY": DEV_SECRET_KEY, "AUTO_MIGRATE": False}).app_context():
        assert audit_key() == derived_audit_key(DEV_SECRET_KEY)


def test_production_refuses_a_weak_key_given_as_a_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOORPLAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("FLOORPLAN_AUTO_MIGRATE", "false")
    monkeypatch.setenv("FLOORPLAN_ENV_NAME", "production")
    monkeypatch.setenv("FLOORPLAN_SECRET_KEY", "x")
    with pytest.raises(ConfigError, match="FLOORPLAN_SECRET_KEY is too weak"):
        create_app()
    monkeypatch.setenv("FLOORPLAN_SECRET_KEY", STRONG)
    assert create_app().config["SESSION_COOKIE_SECURE"] is True


def env_app(tmp_path, monkeypatch, **variables):
    """An app configured only by FLOORPLAN_* variables, on a fresh migrated SQLite file."""
    monkeypatch.setenv("FLOORPLAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("FLOORPLAN_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'env.sqlite'}")
    monkeypatch.setenv("FLOORPLAN_WTF_CSRF_ENABLED", "false")
    for name, text in variables.items():
        monkeypatch.setenv(f"FLOORPLAN_{name}", text)
    app = create_app()
    with app.app_context():
        clinic = create_clinic("Env Clinic")
        create_user(
            clinic, email="env@clinic.test", name="Env", role="clinician", password=PASSWORD
        )
        db.session.commit()
    return app


def test_the_readme_idle_timeout_variable_in_seconds_works(tmp_path, monkeypatch):
    app = env_app(tmp_path, monkeypatch, IDLE_TIMEOUT="900")
    assert app.config["IDLE_TIMEOUT"] == timedelta(seconds=900)
    assert app.config["WTF_CSRF_ENABLED"] is False
    client = app.test_client()
    assert login(client, "env@clinic.test").status_code == 302
    assert client.get("/patients").status_code == 200  # was a 500 for every signed-in page
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - 840  # within 900 s
    assert client.get("/patients").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - 910  # past 900 s, though within the 30 min default
    response = client.get("/patients")
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize(
    ("variable", "text", "expected"),
    [
        ("FLOORPLAN_IDLE_TIMEOUT", "15m", "a number of seconds"),
        ("FLOORPLAN_PATIENTS_PER_PAGE", "lots", "a whole number"),
        ("FLOORPLAN_AUTO_MIGRATE", "sometimes", "true or false"),
        ("FLOORPLAN_ENV_NAME", "prod", "'development' or 'production'"),
    ],
)
def test_a_wrong_variable_stops_start_up_naming_it(tmp_path, monkeypatch, variable, text, expected):
    monkeypatch.setenv("FLOORPLAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(variable, text)
    with pytest.raises(ConfigError) as refused:
        create_app()
    assert str(refused.value).startswith(f"{variable}={text!r}: expected {expected}")
    assert not (tmp_path / "floorplan.sqlite").exists()  # stopped before touching the database


def test_instance_file_values_are_checked_too(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOORPLAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("FLOORPLAN_AUTO_MIGRATE", "false")
    (tmp_path / "config.py").write_text("IDLE_TIMEOUT = 600\nFOOTER = '123'\n")
    app = create_app()
    assert app.config["IDLE_TIMEOUT"] == timedelta(minutes=10)  # seconds, as in a variable
    assert app.config["FOOTER"] == "123"  # Python values without a default are kept as written
    (tmp_path / "config.py").write_text("PATIENTS_PER_PAGE = 'many'\n")
    with pytest.raises(ConfigError) as refused:
        create_app()
    assert str(refused.value) == (
        f"PATIENTS_PER_PAGE='many' in {tmp_path / 'config.py'}: expected a whole number."
    )


@pytest.mark.parametrize(
    "name", ["PERMANENT_SESSION_LIFETIME", "REMEMBER_COOKIE_DURATION", "REMEMBER_COOKIE_SECURE"]
)
def test_settings_that_would_do_nothing_stop_start_up(tmp_path, monkeypatch, name):
    monkeypatch.setenv("FLOORPLAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(f"FLOORPLAN_{name}", "3600")
    with pytest.raises(ConfigError, match=f"{name} cannot be set"):
        create_app()
    monkeypatch.delenv(f"FLOORPLAN_{name}")
    (tmp_path / "config.py").write_text(f"{name} = 3600\n")
    with pytest.raises(ConfigError, match=f"{name} cannot be set"):
        create_app()


def test_the_session_cookie_ends_with_the_browser_and_its_signature_after_the_idle_timeout(
    app_factory, clinician, monkeypatch
):
    app = app_factory(IDLE_TIMEOUT=timedelta(minutes=5))
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=6)
    client = app.test_client()
    cookie = login(client, clinician.email).headers["Set-Cookie"]
    assert "Expires" not in cookie and "Max-Age" not in cookie  # gone when the browser closes
    assert client.get("/patients").status_code == 200
    # The cookie's contents claim recent activity, as a copied cookie replayed later would were
    # the request hook ever bypassed: its signature's age alone decides.
    with client.session_transaction() as session:
        contents = dict(session)
    serializer = app.session_interface.get_signing_serializer(app)

    def signed(minutes_ago: int) -> str:
        with monkeypatch.context() as past:
            past.setattr(
                itsdangerous.timed.TimestampSigner,
                "get_timestamp",
                lambda self: int(time.time()) - minutes_ago * 60,
            )
            return serializer.dumps(contents)

    client.set_cookie(app.config["SESSION_COOKIE_NAME"], signed(5))
    assert client.get("/patients").status_code == 200
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], signed(7))
    response = client.get("/patients")
    assert response.status_code == 302 and "/login" in response.location


def test_a_remember_cookie_signs_nobody_in(app, client, clinician):
    with app.test_request_context():
        remembered = encode_cookie(f"{clinician.id}:{clinician.session_version}")
    client.set_cookie("remember_token", remembered)
    response = client.get("/patients")
    assert response.status_code == 302 and "/login" in response.location


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


def test_starting_does_not_import_the_fhir_models(tmp_path):
    """fhir.resources costs over a second to import: only a FHIR export loads it."""
    code = (
        "import sys; from prescriptions import create_app; "
        "create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'AUTO_MIGRATE': False}); "
        "print(sorted(name for name in sys.modules if name.startswith('fhir')))"
    )
    env = {**os.environ, "FLOORPLAN_INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
