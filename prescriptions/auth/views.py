"""First-run setup, sign-in and sign-out, and the user's own password."""

from __future__ import annotations

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
from ..accounts.operations import create_clinic, create_user, end_sessions, record_sign_in
from ..accounts.queries import fetch_user_by_email
from ..audit import record_event
from ..domain.throttle import ThrottlePolicy
from ..domain.vocab import Role
from ..extensions import db
from ..models import User
from ..web import acting, setup_done, start_session
from .forms import ChangePasswordForm, LoginForm, SetupForm
from .mail import mail_configured
from .passwords import DUMMY_HASH, verify_password
from .throttle import begin_attempt

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
    if any(ord(ch) < 33 or ord(ch) == 127 or ch == "\\" for ch in target):
        # A Location header cannot carry control characters; browsers read a backslash as "/".
        return url_for("home.start")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.start")
    return target


def _sign_in(user: User) -> None:
    session.clear()  # nothing from before sign-in carries over
    login_user(user)
    # A fresh CSRF secret now, so forms opened at once in several tabs share it (none overwrites
    # another's). Flask-WTF caches the request's token in g: drop it, it belonged to the old one.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    generate_csrf()
    start_session()


def sign_out() -> None:
    """Sign this browser out, if it is signed in, and drop everything its session held."""
    if current_user.is_authenticated:
        logout_user()
    session.clear()


def login_policy() -> ThrottlePolicy:
    """The sign-in limits from the configuration (passwords and second-factor codes alike)."""
    config = current_app.config
    return ThrottlePolicy(
        per_account=int(config["LOGIN_LIMIT_PER_ACCOUNT"]),
        per_address=int(config["LOGIN_LIMIT_PER_ADDRESS"]),
        window=config["LOGIN_LIMIT_WINDOW"],
    )


def throttled_message() -> str:
    """What a throttled person is told (the same for every account and address)."""
    minutes = login_policy().wait_minutes
    return f"Too many failed attempts. Please wait {minutes} minutes and try again."


def client_ip() -> str:
    """The client's address (after ProxyFix), for limits and the audit trail."""
    return request.remote_addr or ""


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with email and password, rate-limited per account and per address."""
    if current_user.is_authenticated:
        return redirect(url_for("patients.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        # Counted before it is checked, atomically: parallel guesses cannot pass the limit.
        attempt = begin_attempt(email, client_ip(), login_policy())
        user = fetch_user_by_email(email)
        if not attempt.allowed:
            record_sign_in("auth.login_throttled", email, acting(), user)
            db.session.commit()
            form.form_errors.append(throttled_message())
            return _login_page(form, 429)
        # Check a hash even for unknown accounts so both cases take the same time.
        ok = verify_password(user.password_hash if user else DUMMY_HASH, form.password.data)
        if ok and user is not None and user.active:
            attempt.hand_back()
            if user.has_two_factor or user.clinic.require_two_factor:
                return ask_second_factor(user, request.args.get("next"))
            record_sign_in("auth.login", email, acting(), user)
            db.session.commit()
            _sign_in(user)
            return redirect(_safe_next(request.args.get("next")))
        record_sign_in("auth.login_failed", email, acting(), user)
        db.session.commit()
        form.form_errors.append(LOGIN_FAILED)
        status = 400
    elif form.errors:
        status = 400
    return _login_page(form, status)


def _login_page(form: LoginForm, status: int) -> ResponseReturnValue:
    forgot = mail_configured(current_app.config)
    return render_template("auth/login.html", form=form, forgot=forgot), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Sign out, ending this user's sessions on the server too."""
    end_sessions(current_user, acting())
    db.session.commit()
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    """Change one's own password; the current one is checked under the sign-in limits."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        attempt = begin_attempt(current_user.email, client_ip(), login_policy())
        if not attempt.allowed:
            record_event(acting(), "auth.login_throttled", current_user, "changing the password")
            db.session.commit()
            form.current.errors.append(throttled_message())
            return render_template("auth/password.html", form=form), 429
        if not verify_password(current_user.password_hash, form.current.data):
            record_event(acting(), "auth.password_change_failed", current_user, "wrong current")
            db.session.commit()
            form.current.errors.append("That is not your current password.")
        else:
            attempt.hand_back()
            change_password_op(current_user, form.password.data, acting())
            db.session.commit()
            _sign_in(current_user)
            flash("Your password is changed. Other sessions were signed out.", "success")
            return redirect(url_for("patients.index"))
    if form.errors:
        status = 400
    return render_template("auth/password.html", form=form), status


# The second factor and reset links add their routes to this blueprint.
from . import reset_views, two_factor_views  # noqa: E402, F401
from .two_factor_views import ask_second_factor  # noqa: E402
