"""Configuration defaults; instance/config.py and FLOORPLAN_* variables override them."""

from __future__ import annotations

from datetime import timedelta

# Refused in production by create_app.
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105  # nosec B105

DEFAULTS: dict[str, object] = {
    "SECRET_KEY": DEV_SECRET_KEY,
    "ENV_NAME": "development",  #: "production" turns on secure cookies and the secret-key check
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    "IDLE_TIMEOUT": timedelta(minutes=30),
    "ABSOLUTE_TIMEOUT": timedelta(hours=12),
    "LOGIN_LIMIT_PER_ACCOUNT": 5,  #: failed logins per account per window before refusing
    "LOGIN_LIMIT_PER_ADDRESS": 20,  #: failed logins per client address per window
    "LOGIN_LIMIT_WINDOW": timedelta(minutes=15),
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
    "LOGO_MAX_BYTES": 512 * 1024,
    "PATIENTS_PER_PAGE": 25,
    "WTF_CSRF_TIME_LIMIT": None,  # the session's own timeouts bound the token's life
    "AUTO_MIGRATE": True,  #: create/upgrade an SQLite database on first start
}
