"""First-run setup, sign-in and sign-out, and the user's own password."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from ..accounts.operations import change_password as change_password_op
from ..accounts.operations import create_clinic, create_user, end_sessions, record_login
from ..accounts.queries import count_failed_logins, fetch_user_by_email
from ..audit import record_event
from ..domain.vocab import Role
from ..extensions import db
from ..models import User, utcnow
from ..web import acting, setup_done, start_session
from .forms import ChangePasswordForm, LoginForm, SetupForm
from .passwords import DUMMY_HASH, verify_password

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That email and password don't match an active account."


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> ResponseReturnValue:
    """Create the clinic and its first administrator; gone once anyone can sign in."""
    if setup_done(current_app._get_current_object()):  # type: ignore[attr-defined]
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        clinic = create_clinic(
            form.clinic_name.data, phone=form.clinic_phone.data, paper=form.paper.data
        )
        user = create_user(
            clinic,
            email=form.email.data,
            name=form.name.data,
            role=Role.ADMIN,
            password=form.password.data,
        )
        db.session.commit()
        _sign_in(user)
        flash(f"Welcome. {clinic.name} is set up, and you are its administrator.", "success")
        return redirect(url_for("admin.users"))
    return render_template("auth/setup.html", form=form), 400 if form.errors else 200


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in."""
    if not target:
        return url_for("home.start")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.start")
    return target


def _sign_in(user: User) -> None:
    session.clear()  # nothing from before sign-in carries over
    login_user(user)
    session["sid"] = secrets.token_hex(16)
    # A fresh CSRF secret now, so forms opened at once in several tabs share it (none overwrites
    # another's). Flask-WTF caches the request's token in g: drop it, it belonged to the old one.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    generate_csrf()
    start_session()


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with email and password, rate-limited per account and per address."""
    if current_user.is_authenticated:
        return redirect(url_for("patients.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        ip = request.remote_addr or ""
        since = utcnow() - current_app.config["LOGIN_LIMIT_WINDOW"]
        if (
            count_failed_logins(email=email, since=since)
            >= current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]
            or count_failed_logins(ip=ip, since=since)
            >= current_app.config["LOGIN_LIMIT_PER_ADDRESS"]
        ):
            record_event(acting(), "auth.login_throttled", actor=email)
            db.session.commit()
            minutes = int(current_app.config["LOGIN_LIMIT_WINDOW"].total_seconds() // 60)
            form.form_errors.append(
                f"Too many failed attempts. Please wait {minutes} minutes and try again."
            )
            return render_template("auth/login.html", form=form), 429
        user = fetch_user_by_email(email)
        # Check a hash even for unknown accounts so both cases take the same time.
        ok = verify_password(user.password_hash if user else DUMMY_HASH, form.password.data)
        ok = ok and user is not None and user.active
        record_login(user if ok else None, email, ok, acting())
        db.session.commit()
        if ok and user is not None:
            _sign_in(user)
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append(LOGIN_FAILED)
        status = 400
    elif form.errors:
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Sign out, ending this user's sessions on the server too."""
    end_sessions(current_user, acting())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    """Change one's own password; other sessions end."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            change_password_op(current_user, form.password.data, acting())
            db.session.commit()
            _sign_in(current_user)
            flash("Your password is changed. Other sessions were signed out.", "success")
            return redirect(url_for("patients.index"))
    status = 400 if form.errors else 200
    return render_template("auth/password.html", form=form), status
