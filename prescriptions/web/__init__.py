"""Request hooks: first-run setup, session lifetime, security headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, abort, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user
from werkzeug.routing import IntegerConverter

from ..audit import Actor
from ..domain import vocab
from ..domain.history import dose_text
from ..domain.progression import WEEKS
from ..domain.vocab import PlanStatus
from ..extensions import db, login_manager
from ..models import User
from .forms import whole_number

#: Endpoints reachable before the first administrator exists.
SETUP_OPEN = {"auth.setup", "health.healthz", "static"}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

#: Browser features no page of the service uses, switched off for the page and any frame.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), display-capture=()"
)

#: Production is served over TLS only: browsers remember that for two years.
HSTS = "max-age=63072000; includeSubDomains"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the user named by the session, if that session has not been ended since."""
    ident, _, version = (whole_number(part) for part in user_id.partition(":"))
    if ident is None or version is None:
        return None
    user = db.session.get(User, ident)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def setup_done(app: Flask) -> bool:
    """Whether the first administrator exists (remembered once true)."""
    if app.extensions.get("floorplan.setup_done"):
        return True
    done = db.session.execute(sa.select(User.id).limit(1)).first() is not None
    if done:
        app.extensions["floorplan.setup_done"] = True
    return done


def _now_ts() -> float:
    return datetime.now(UTC).timestamp()


def register_request_hooks(app: Flask) -> None:
    """Install the before/after request hooks on the app."""

    @app.before_request
    def _require_setup() -> Response | None:
        if request.endpoint in SETUP_OPEN or setup_done(app):
            return None
        return redirect(url_for("auth.setup"))

    @app.before_request
    def _session_lifetime() -> Response | None:
        if request.endpoint in ("static", "health.healthz"):
            return None
        if not current_user.is_authenticated:
            return None
        now = _now_ts()
        started = session.get("auth_at", 0)
        seen = session.get("seen_at", 0)
        idle = app.config["IDLE_TIMEOUT"].total_seconds()
        absolute = app.config["ABSOLUTE_TIMEOUT"].total_seconds()
        if now - seen > idle or now - started > absolute:
            logout_user()
            session.clear()
            flash("Your session ended. Please sign in again.", "info")
            return redirect(url_for("auth.login", next=request.full_path))
        session["seen_at"] = now
        return None

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if app.config["ENV_NAME"] == "production":
            headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static":
            # Pages and PDFs carry patient data: never keep them in a browser or proxy cache.
            headers["Cache-Control"] = "no-store"
        return response


def start_session() -> None:
    """Record the start of a signed-in session (for the idle and absolute timeouts)."""
    now = _now_ts()
    session["auth_at"] = now
    session["seen_at"] = now


def acting() -> Actor:
    """The signed-in user and their address, for operations and the audit trail."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user, request.remote_addr or "")


def clinic_id() -> int:
    """The signed-in user's clinic: every read is scoped to it."""
    return int(current_user.clinic_id)


def admin_required(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Allow administrators only; clinicians get a 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def vocab_label(enum_name: str, value: str) -> str:
    """Template helper: the label of a stored vocabulary value (unknown values shown as is)."""
    enum = getattr(vocab, enum_name)
    try:
        return vocab.label(enum(value))
    except ValueError:
        return value


#: the date styles templates use, by name: `{{ day|date }}`, `{{ when|date("stamp") }}`
DATE_STYLES = {
    "short": "%a %d %b",  # Mon 07 Dec
    "day": "%d %b",  # 07 Dec
    "full": "%a %d %b %Y",  # Mon 07 Dec 2026
    "long": "%A %d %B %Y",  # Monday 07 December 2026
    "iso": "%Y-%m-%d",
    "stamp": "%Y-%m-%d %H:%M UTC",  # stored times are UTC
    "seconds": "%Y-%m-%d %H:%M:%S",
}


def format_date(value: date | datetime | None, style: str = "short") -> str:
    """A date or time in one of the house styles; nothing for no value."""
    return value.strftime(DATE_STYLES[style]) if value is not None else ""


def format_share(share: float | None) -> str:
    """A share (0-1) as a whole percentage, or a dash when there is none."""
    return "–" if share is None else f"{round(share * 100)}%"


def register_template_helpers(app: Flask) -> None:
    """Helpers every template may call, and the vocabulary they compare with."""
    app.jinja_env.globals.update(
        vocab_label=vocab_label, dose_text=dose_text, WEEKS=WEEKS, PlanStatus=PlanStatus
    )
    app.jinja_env.filters.update(date=format_date, pct=format_share)


class RecordId(IntegerConverter):
    """`<int:...>` in routes, bounded to what an id column holds: larger numbers are a 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)
