"""Administrator pages: accounts and clinic settings."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.operations import create_user, set_user_active, update_clinic
from ..accounts.queries import fetch_user, fetch_users
from ..accounts.resets import make_reset_link
from ..accounts.two_factor import reset_two_factor, set_two_factor_required
from ..extensions import db
from ..web import acting, admin_required, clinic_id
from ..web.errors import render_error
from ..web.once import Saved, save_once_or_show
from .forms import ClinicForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users() -> ResponseReturnValue:
    """List the clinic's accounts and add one."""
    form = UserForm()

    def save() -> Saved:
        user = create_user(
            current_user.clinic,
            email=form.email.data,
            name=form.name.data,
            role=form.role.data,
            password=form.password.data,
            by=acting(),
        )
        return url_for("admin.users"), f"{user.name} can now sign in as {user.email}."

    def page() -> str:
        return render_template("admin/users.html", form=form, users=fetch_users(clinic_id()))

    return save_once_or_show(form, save, page)


@bp.post("/users/<int:user_id>/<any(activate, deactivate):action>")
@admin_required
def set_active(user_id: int, action: str) -> ResponseReturnValue:
    """Activate or deactivate an account (deactivation ends its sessions)."""
    user = fetch_user(clinic_id(), user_id) or abort(404)
    if user.id == current_user.id:
        flash("You can't deactivate your own account.", "error")
        return redirect(url_for("admin.users"))
    set_user_active(user, action == "activate", acting())
    db.session.commit()
    verb = "can sign in again" if user.active else "is deactivated and was signed out"
    flash(f"{user.name} {verb}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset-link")
@admin_required
def reset_link(user_id: int) -> ResponseReturnValue:
    """Make a single-use link for the person to choose a new password; shown once, here."""
    user = fetch_user(clinic_id(), user_id) or abort(404)
    if not user.active:
        flash(f"Reactivate {user.name} before making a reset link.", "error")
        return redirect(url_for("admin.users"))
    lifetime = current_app.config["RESET_LINK_LIFETIME"]
    token = make_reset_link(user, "admin", acting(), lifetime)
    db.session.commit()
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    if public:
        link = public + url_for("auth.reset", token=token)
    else:  # this site's own address, its path prefix (SCRIPT_NAME) included once
        link = url_for("auth.reset", token=token, _external=True)
    hours = int(lifetime.total_seconds() // 3600)
    return render_template("admin/reset_link.html", user=user, link=link, hours=hours)


@bp.post("/users/<int:user_id>/two-factor/reset")
@admin_required
def reset_second_factor(user_id: int) -> ResponseReturnValue:
    """Remove a person's second factor (a lost phone); they set it up again when needed."""
    user = fetch_user(clinic_id(), user_id) or abort(404)
    if user.id == current_user.id:
        flash("Ask another administrator to reset your own second factor.", "error")
        return redirect(url_for("admin.users"))
    reset_two_factor(user, acting())
    db.session.commit()
    flash(f"{user.name}'s second factor is removed and their sessions ended.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/two-factor/<any(require, relax):action>")
@admin_required
def require_two_factor(action: str) -> ResponseReturnValue:
    """Require a second factor of everyone in the clinic, or make it optional again."""
    try:
        set_two_factor_required(current_user.clinic, action == "require", acting())
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return render_error(409)
    if action == "require":
        flash(
            "Everyone now needs a second factor; people without one set it up at their next "
            "sign-in.",
            "success",
        )
    else:
        flash("A second factor is now optional.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/clinic", methods=["GET", "POST"])
@admin_required
def clinic_settings() -> ResponseReturnValue:
    """The clinic's details as printed on handouts."""
    clinic = current_user.clinic
    form = ClinicForm(
        obj=clinic, clinic_id=clinic.id, max_logo_bytes=current_app.config["LOGO_MAX_BYTES"]
    )
    if not form.is_submitted():
        form.version.data = str(clinic.version)
    if form.validate_on_submit():
        if form.version_number() != clinic.version:
            return render_error(409)
        try:
            update_clinic(clinic, acting(), **form.values())
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            return render_error(409)
        flash("Clinic settings saved.", "success")
        return redirect(url_for("admin.clinic_settings"))
    status = 400 if form.errors else 200
    return render_template("admin/clinic.html", form=form, clinic=clinic), status


@bp.get("/clinic/logo.png")
@admin_required
def logo() -> ResponseReturnValue:
    """The clinic's stored logo, for the settings page."""
    data = current_user.clinic.logo or abort(404)
    return data, {"Content-Type": "image/png"}
