"""FloorPlan: pelvic-floor home programmes for clinics."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Config, Flask

from . import config as settings
from .extensions import csrf, db, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then instance/config.py, then FLOORPLAN_* variables."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("FLOORPLAN_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    load_config(app, test_config)
    _check_production_config(app)
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    from .web import register_request_hooks, register_template_helpers

    register_request_hooks(app)
    register_template_helpers(app)
    if app.config["AUTO_MIGRATE"]:
        _migrate_embedded_database(app)
    return app


def load_config(app: Flask, test_config: dict[str, Any] | None = None) -> None:
    """Layer the settings and check each against its default's type (ConfigError if wrong)."""
    app.config.from_mapping(settings.DEFAULTS)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
        app.instance_path, "floorplan.sqlite"
    )
    defaults = {**app.config, "SQLALCHEMY_DATABASE_URI": ""}
    if test_config is None:
        instance = Config(app.instance_path)
        instance.from_pyfile("config.py", silent=True)
        environment = settings.settings_from_environment(os.environ, defaults)
        refused = settings.refused_setting({*instance, *environment})
        if refused:
            raise settings.ConfigError(refused)
        source = os.path.join(app.instance_path, "config.py")
        for name, value in instance.items():
            app.config[name] = settings.coerce(name, value, defaults.get(name), source)
        app.config.update(environment)
    else:
        for name, value in test_config.items():
            app.config[name] = settings.coerce(name, value, defaults.get(name), "test config")
    app.config.update(settings.session_settings(app.config))


def _check_production_config(app: Flask) -> None:
    if app.config["ENV_NAME"] != "production":
        return
    problems = settings.production_key_problems(app.config)
    if problems:
        raise settings.ConfigError(
            "Refusing to start in production: "
            + "; ".join(problems)
            + ". Make a key with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    app.config["SESSION_COOKIE_SECURE"] = True


def register_extensions(app: Flask) -> None:
    """Bind the module-level extension singletons to this app."""
    from .database import configure_sqlite, enforce_lengths, engine_options, timeouts, watch_server

    limits = timeouts(app.config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS"), limits
    )
    db.init_app(app)
    enforce_lengths()
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    with app.app_context():
        configure_sqlite(db.engine, limits["SQLITE_BUSY_TIMEOUT_MS"])
        watch_server(db.engine, limits["DATABASE_CLIENT_TIMEOUT_S"])
    if app.config.get("PROXY_FIX_X_FOR"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1
        )


def register_blueprints(app: Flask) -> None:
    """One blueprint per feature."""
    from .web import RecordId

    app.url_map.converters["int"] = RecordId
    from .admin.views import bp as admin_bp
    from .audit.views import bp as audit_bp
    from .auth.views import bp as auth_bp
    from .companion.views import bp as companion_bp
    from .exercises.views import bp as exercises_bp
    from .exports.views import bp as exports_bp
    from .health import bp as health_bp
    from .home.views import bp as home_bp
    from .logs.views import bp as logs_bp
    from .patients.views import bp as patients_bp
    from .plans.views import bp as plans_bp
    from .printing.views import bp as printing_bp
    from .programmes.views import bp as programmes_bp
    from .scans.views import bp as scans_bp

    blueprints = (
        *(health_bp, auth_bp, home_bp, admin_bp, audit_bp, patients_bp, plans_bp),
        *(exercises_bp, logs_bp, printing_bp, exports_bp, programmes_bp),
        *(scans_bp, companion_bp),
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def register_error_handlers(app: Flask) -> None:
    """House-styled error pages; never a stack trace."""
    from .web.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    """The `flask --app app ...` commands."""
    from .commands import commands

    for command in commands:
        app.cli.add_command(command)


def _migrate_embedded_database(app: Flask) -> None:
    """Create or upgrade an embedded SQLite database on start (servers use `db upgrade`)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
