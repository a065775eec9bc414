"""Password reset: the link itself, and asking for one by e-mail. Routes on the auth blueprint."""

from __future__ import annotations

import logging
import smtplib
import time

from flask import Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from ..accounts.operations import set_password
from ..accounts.queries import fetch_user_by_email
from ..accounts.resets import claim_reset, fetch_live_reset, make_reset_link
from ..audit import Actor, record_event
from ..extensions import db
from ..models import User
from ..web.links import public_link
from .forms import ForgotForm, ResetForm
from .mail import deliver, in_background, mail_configured, mail_settings, reset_message
from .throttle import count_request
from .views import bp, client_ip, sign_out

log = logging.getLogger(__name__)

#: One answer whether or not the address has an account.
SENT = (
    "If that address belongs to an account, a link to choose a new password is on its way. "
    "It works once, within {hours} hours. Check your spam folder if it does not arrive."
)


def _hours() -> int:
    return int(current_app.config["RESET_LINK_LIFETIME"].total_seconds() // 3600)


def _gone() -> ResponseReturnValue:
    # Unknown, used, replaced and expired links look alike.
    return render_template("auth/reset_gone.html"), 404


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    """Choose a new password through a single-use link; every session of the account ends."""
    link = fetch_live_reset(token)
    if link is None:
        return _gone()
    user = db.session.get(User, link.user_id)
    if user is None or not user.active:
        return _gone()
    form = ResetForm()
    form.known_email, form.known_name = user.email, user.name
    if form.validate_on_submit():
        if not claim_reset(link):  # a parallel request used it a moment ago
            db.session.rollback()
            return _gone()
        set_password(user, form.password.data, Actor(user, client_ip()), action="auth.reset_used")
        db.session.commit()
        sign_out()
        flash("Your new password is set, and every session of the account was ended.", "success")
        flash("Sign in with the new password.", "info")
        return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("auth/reset.html", form=form, email=user.email), status


def _mail_a_link(app: Flask, email: str, ip: str, script_root: str) -> None:
    """If an active account has this address, make a link and e-mail it (a background job)."""
    with app.app_context():
        try:
            user = fetch_user_by_email(email)
            if user is None or not user.active:
                return
            config = app.config
            token = make_reset_link(user, "email", Actor(None, ip), config["RESET_LINK_LIFETIME"])
            link = public_link(config["PUBLIC_URL"], script_root, "auth.reset", token=token)
            hours = int(config["RESET_LINK_LIFETIME"].total_seconds() // 3600)
            clinic = user.clinic.name
            message = reset_message(config["MAIL_SENDER"], user.email, clinic, link, hours)
            db.session.commit()  # the link works before the mail can arrive
            deliver(mail_settings(config), message)
        except (OSError, smtplib.SMTPException, SQLAlchemyError) as error:
            db.session.rollback()
            # No address in the log line: it would say which accounts exist.
            log.warning("A password reset e-mail could not be sent: %s", type(error).__name__)
        finally:
            db.session.remove()


@bp.route("/login/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    """Ask for a reset link by e-mail (only where the operator has set up outgoing mail)."""
    config = current_app.config
    if not mail_configured(config):
        abort(404)
    form = ForgotForm()
    status = 200
    if form.validate_on_submit():
        started = time.monotonic()
        email = form.email.data.strip().lower()
        window = config["RESET_LIMIT_WINDOW"]
        # Counted by the address typed and the caller's address, never by whether it exists.
        per_account = count_request("reset-account", email, window)
        per_address = count_request("reset-address", client_ip(), window)
        if (
            per_account > config["RESET_LIMIT_PER_ACCOUNT"]
            or per_address > config["RESET_LIMIT_PER_ADDRESS"]
        ):
            minutes = max(1, int(window.total_seconds() // 60))
            form.form_errors.append(
                f"Too many requests for a new password. Please wait {minutes} minutes."
            )
            return render_template("auth/forgot.html", form=form), 429
        # The same work for every address; the account is looked up in the background job.
        record_event(Actor(None, client_ip()), "auth.reset_requested", None, actor=email)
        db.session.commit()
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        script_root, ip = request.script_root, client_ip()
        in_background(lambda: _mail_a_link(app, email, ip, script_root))
        # Answer after a fixed time, while the job runs: its work never shows in our timing.
        time.sleep(max(0.0, started + float(config["RESET_ANSWER_SECONDS"]) - time.monotonic()))
        flash(SENT.format(hours=_hours()), "info")
        return redirect(url_for("auth.login"))
    if form.errors:
        status = 400
    return render_template("auth/forgot.html", form=form), status
