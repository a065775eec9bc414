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
    #: a password reset link's life (admin-made, e-mailed or from the command line)
    "RESET_LINK_LIFETIME": timedelta(hours=24),
    "RESET_LIMIT_PER_ACCOUNT": 3,  #: e-mailed reset requests per address typed per window
    "RESET_LIMIT_PER_ADDRESS": 10,  #: e-mailed reset requests per client address per window
    "RESET_LIMIT_WINDOW": timedelta(hours=1),
    #: the answer to "e-mail me a link" takes this long whatever the address (timing tells nothing)
    "RESET_ANSWER_SECONDS": 0.25,
    #: how long a sign-in may wait between the password and the second factor
    "SECOND_FACTOR_TIMEOUT": timedelta(minutes=5),
    "TOTP_ISSUER": "FloorPlan",  #: the name authenticator apps show beside the code
    #: Outgoing mail for self-service password reset, set by the operator (never in a page or the
    #: database, so no backup or export carries the SMTP password). Off while MAIL_SERVER is "".
    "MAIL_SERVER": "",
    "MAIL_PORT": 587,
    "MAIL_SECURITY": "starttls",  #: "starttls", "ssl" or "none" (a relay on localhost)
    "MAIL_USERNAME": "",
    # MAIL_PASSWORD has no default: only the operator sets it (instance config or environment).
    "MAIL_SENDER": "",
    "MAIL_TIMEOUT": 10,
    #: the address people open, e.g. https://floorplan.example.org: e-mailed links use it,
    #: never the request's Host header (which a caller chooses); required for e-mailed resets
    "PUBLIC_URL": "",
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
    "LOGO_MAX_BYTES": 512 * 1024,
    "PATIENTS_PER_PAGE": 25,
    "WTF_CSRF_TIME_LIMIT": None,  # the session's own timeouts bound the token's life
    "AUTO_MIGRATE": True,  #: create/upgrade an SQLite database on first start
}
