"""The second factor: the code step of signing in, enrolment (at sign-in or from the account
page) and recovery codes. Routes on the auth blueprint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import current_app, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..accounts.operations import record_sign_in
from ..accounts.two_factor import (
    claim_totp_step,
    confirm_enrolment,
    count_unused_recovery_codes,
    replace_recovery_codes,
    start_enrolment,
    use_recovery_code,
)
from ..audit import Actor, record_event
from ..extensions import db
from ..models import User
from ..web import acting
from . import totp
from .forms import CodeForm, EnrolForm
from .throttle import Attempt, begin_attempt
from .views import _safe_next, _sign_in, bp, client_ip, login_policy, throttled_message

PENDING = "pending_sign_in"
CODE_REFUSED = "That code is not right, or it was used already. Try the code the app shows now."


def _now_ts() -> float:
    return datetime.now(UTC).timestamp()


def ask_second_factor(user: User, next_url: str | None) -> ResponseReturnValue:
    """The password was right: remember who is half signed in and ask for the second factor."""
    stage = "code" if user.has_two_factor else "enrol"
    if stage == "enrol":
        start_enrolment(user)
    detail = "second factor asked" if stage == "code" else "enrolment asked (clinic requires it)"
    record_sign_in("auth.password_accepted", user.email, acting(), user, detail)
    db.session.commit()
    session.clear()  # nothing from before sign-in carries over
    session[PENDING] = {
        "uid": user.id,
        "sv": user.session_version,
        "at": _now_ts(),
        "next": next_url or "",
        "stage": stage,
    }
    return redirect(url_for("auth.second_factor" if stage == "code" else "auth.enrol_at_sign_in"))


def _pending(stage: str) -> tuple[User, dict[str, Any]] | None:
    """The half-signed-in user of this browser, if the password step was recent and still holds."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("stage") != stage:
        return None
    age = _now_ts() - float(pending.get("at", 0))
    if age > current_app.config["SECOND_FACTOR_TIMEOUT"].total_seconds():
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, int(pending.get("uid", 0)))
    if user is None or not user.active or user.session_version != pending.get("sv"):
        return None
    return user, pending


def _counted(user: User, form: CodeForm | EnrolForm, by: Actor, where: str) -> Attempt | None:
    """Count a code attempt against the sign-in limits. None when over them: the refusal is
    audited and committed, and the reason stands beside the code field."""
    attempt = begin_attempt(user.email, client_ip(), login_policy())
    if attempt.allowed:
        return attempt
    record_sign_in("auth.login_throttled", user.email, by, user, where)
    db.session.commit()
    form.code.errors.append(throttled_message())
    return None


def _start_over() -> ResponseReturnValue:
    session.pop(PENDING, None)
    flash("Please sign in again.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> ResponseReturnValue:
    """The second step of signing in: a code from the app or a recovery code, each good once."""
    if current_user.is_authenticated:
        return redirect(url_for("patients.index"))
    found = _pending("code")
    if found is None:
        return _start_over()
    user, pending = found
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        by = Actor(None, client_ip())
        attempt = _counted(user, form, by, "at the second factor")
        if attempt is None:
            return render_template("auth/code.html", form=form), 429
        code = form.code.data
        recovery = totp.looks_like_recovery_code(code)
        if recovery:
            ok = use_recovery_code(user, code)
        else:
            step = totp.matching_step(user.totp_secret or "", code)
            ok = step is not None and claim_totp_step(user, step)
        kind = "a recovery code" if recovery else "an authenticator code"
        if ok:
            attempt.hand_back()
            record_sign_in("auth.second_factor", user.email, by, user, f"with {kind}")
            record_sign_in("auth.login", user.email, by, user)
            db.session.commit()
            _sign_in(user)
            if recovery:
                left = count_unused_recovery_codes(user.id)
                flash(f"You used a recovery code; {left} are left.", "info")
            return redirect(_safe_next(pending.get("next")))
        record_sign_in("auth.second_factor_failed", user.email, by, user, f"with {kind}")
        db.session.commit()
        form.code.errors.append(CODE_REFUSED)
    if form.errors:
        status = 400
    return render_template("auth/code.html", form=form), status


def _enrol_page(user: User, form: EnrolForm, action: str, status: int) -> ResponseReturnValue:
    secret = user.totp_pending_secret or ""
    issuer = current_app.config["TOTP_ISSUER"]
    svg = totp.qr_svg(
        totp.provisioning_uri(secret, user.email, issuer),
        "QR code to scan with an authenticator app",
    )
    page = render_template(
        "auth/enrol.html",
        form=form,
        qr=svg,
        secret=totp.secret_for_typing(secret),
        action=action,
        at_sign_in=action == url_for("auth.enrol_at_sign_in"),
    )
    return page, status


def _enrolment(user: User, action: str, finish: Callable[[], str]) -> ResponseReturnValue:
    """The enrolment page and its code. A right code (checked under the sign-in limits) turns the
    second factor on; `finish` then commits and says where the recovery codes page leads on to."""
    form = EnrolForm()
    if not form.validate_on_submit():
        return _enrol_page(user, form, action, 400 if form.errors else 200)
    by = Actor(None, client_ip())
    attempt = _counted(user, form, by, "at enrolment")
    if attempt is None:
        return _enrol_page(user, form, action, 429)
    step = totp.matching_step(user.totp_pending_secret or "", form.code.data)
    if step is None:
        record_sign_in("auth.second_factor_failed", user.email, by, user, "at enrolment")
        db.session.commit()
        form.code.errors.append(CODE_REFUSED)
        return _enrol_page(user, form, action, 400)
    attempt.hand_back()
    codes = confirm_enrolment(user, step, Actor(user, client_ip()))
    onward = finish()
    return render_template("auth/recovery_codes.html", codes=codes, onward=onward)


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol_at_sign_in() -> ResponseReturnValue:
    """The clinic requires a second factor: set one up before the first page."""
    if current_user.is_authenticated:
        return redirect(url_for("patients.index"))
    found = _pending("enrol")
    if found is None or found[0].totp_pending_secret is None:
        return _start_over()
    user, pending = found

    def finish() -> str:
        record_sign_in("auth.second_factor", user.email, acting(), user, "at enrolment")
        record_sign_in("auth.login", user.email, acting(), user)
        db.session.commit()
        _sign_in(user)
        return _safe_next(pending.get("next"))

    return _enrolment(user, url_for("auth.enrol_at_sign_in"), finish)


@bp.get("/account/two-factor")
@login_required
def two_factor() -> ResponseReturnValue:
    """The user's second factor: on or off, and how many recovery codes are left."""
    return _two_factor_page(EnrolForm(), 200)


def _two_factor_page(form: EnrolForm, status: int) -> ResponseReturnValue:
    left = count_unused_recovery_codes(current_user.id) if current_user.has_two_factor else 0
    return render_template("auth/two_factor.html", left=left, form=form), status


@bp.post("/account/two-factor/recovery-codes")
@login_required
def new_recovery_codes() -> ResponseReturnValue:
    """Ten new recovery codes (the old ones stop working), confirmed with a code from the app."""
    user = current_user._get_current_object()
    if not user.has_two_factor:
        return redirect(url_for("auth.two_factor"))
    form = EnrolForm()
    if not form.validate_on_submit():
        return _two_factor_page(form, 400)
    attempt = _counted(user, form, acting(), "new recovery codes")
    if attempt is None:
        return _two_factor_page(form, 429)
    step = totp.matching_step(user.totp_secret or "", form.code.data)
    if step is None or not claim_totp_step(user, step):
        record_sign_in("auth.second_factor_failed", user.email, acting(), user, "new codes")
        db.session.commit()
        form.code.errors.append(CODE_REFUSED)
        return _two_factor_page(form, 400)
    attempt.hand_back()
    codes = replace_recovery_codes(user)
    record_event(acting(), "auth.recovery_codes_new", user, user.email)
    db.session.commit()
    onward = url_for("auth.two_factor")
    return render_template("auth/recovery_codes.html", codes=codes, onward=onward)


@bp.post("/account/two-factor/start")
@login_required
def start_two_factor() -> ResponseReturnValue:
    """Make a new secret to scan, then show it."""
    if current_user.has_two_factor:
        flash("Two-factor sign-in is already on.", "info")
        return redirect(url_for("auth.two_factor"))
    start_enrolment(current_user)
    db.session.commit()
    return redirect(url_for("auth.enrol"))


@bp.route("/account/two-factor/enrol", methods=["GET", "POST"])
@login_required
def enrol() -> ResponseReturnValue:
    """Scan the QR code and confirm with a code; the recovery codes are shown once."""
    user = current_user._get_current_object()
    if user.has_two_factor or user.totp_pending_secret is None:
        return redirect(url_for("auth.two_factor"))

    def finish() -> str:
        db.session.commit()
        return url_for("auth.two_factor")

    return _enrolment(user, url_for("auth.enrol"), finish)
