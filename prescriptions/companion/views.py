"""The patient's companion: the therapist's link actions (show, issue, revoke, send the link).

The phone pages (no sign-in) are phone_views.py, on the same blueprint. Patient routes live
under /p/<key>, where key is the link's token (from the QR code) or its short code (typed).
"""

from __future__ import annotations

import re
from datetime import date

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..audit import record_event
from ..auth.mail import deliver, in_background, mail_configured, mail_settings
from ..domain.timeline import programme_end
from ..extensions import csrf, db
from ..models import Patient, PatientLink, Plan
from ..patients.queries import fetch_patient
from ..web import acting, clinic_id
from ..web.links import public_link
from .forms import LinkForm, SendForm
from .operations import issue_link, revoke_link
from .pages import first_name
from .queries import fetch_companion_plan, fetch_patient_link
from .tokens import code_for, holds, link_key, token_for

bp = Blueprint("companion", __name__)
#: Patient POSTs carry the link's own form key instead of the session's CSRF token.
csrf.exempt(bp)


# --- the link's secrets, from the app's key ---------------------------------------------------


def signing_key() -> bytes:
    """The key the links' tokens, codes and form keys are made with (from the app's secret)."""
    return link_key(current_app.config["SECRET_KEY"])


def link_url(link: PatientLink) -> str | None:
    """The full link (what the QR encodes), or None while FLOORPLAN_PUBLIC_URL is not set or the
    link was made under another secret key (it no longer opens)."""
    public = str(current_app.config.get("PUBLIC_URL") or "")
    if not public.rstrip("/") or not holds(signing_key(), link.nonce, link.token_hash):
        return None
    key = token_for(signing_key(), link.nonce)
    return public_link(public, request.script_root, "companion.today", key=key)


def link_expiry(plan: Plan | None) -> date | None:
    """The last day a link to this plan opens: a set time after its programme ends."""
    if plan is None:
        return None
    ends = plan.end_date
    if plan.programme is not None:
        programme = plan.programme
        ends = programme_end(ends, plan.block_number, programme.block_count, programme.ended_on)
    return ends + current_app.config["COMPANION_LINK_AFTER_END"]


def link_ends_on(link: PatientLink, plan: Plan | None) -> date | None:
    """The last day the link opens.

    While the link is live it follows the patient's plan (a revision, the next block); a plan
    issued after the link's last day does not bring it back: that needs a reissue.
    """
    follows = link_expiry(plan)
    if link.ends_on is None or follows is None:
        return follows or link.ends_on
    issued = plan.issued_at.date() if plan is not None and plan.issued_at else None
    if issued is not None and issued <= link.ends_on:
        return follows
    return link.ends_on


def is_live(link: PatientLink | None, plan: Plan | None, today: date) -> bool:
    """Whether the link opens today: not revoked, the patient not archived, within its days."""
    if link is None or link.revoked_at is not None or plan is None:
        return False
    if link.patient.archived_at is not None:  # an archived patient's link does not open
        return False
    ends = link_ends_on(link, plan)
    return ends is not None and today <= ends


# --- the therapist's side -------------------------------------------------------------------


def _qr_data_uri(text: str) -> str:
    return segno.make(text, error="m").svg_data_uri(scale=5, border=2)


@bp.get("/patients/<int:patient_id>/companion")
@login_required
def manage(patient_id: int) -> ResponseReturnValue:
    """The patient's phone link: show it, reissue or revoke it, when it was last used."""
    patient = fetch_patient(clinic_id(), patient_id) or abort(404)
    link = fetch_patient_link(clinic_id(), patient.id)
    plan = fetch_companion_plan(clinic_id(), patient.id)
    key = signing_key()
    current = link is not None and holds(key, link.nonce, link.token_hash)
    url = link_url(link) if current else None
    return render_template(
        "companion/manage.html",
        patient=patient,
        link=link if current or link is None else None,
        rekeyed=link is not None and not current,
        plan=plan,
        live=current and is_live(link, plan, date.today()),
        expires=link_ends_on(link, plan) if current else link_expiry(plan),
        url=url,
        qr=_qr_data_uri(url) if url else None,
        code=code_for(key, link.nonce) if current else None,
        path=url_for("companion.today", key=token_for(key, link.nonce)) if current else None,
        form=LinkForm(),
        send_form=SendForm(data={"email": patient.email}),
        can_mail=_can_mail(),
    )


#: one address, no spaces or line breaks (a header must never be split)
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")


def _can_mail() -> bool:
    # the same three settings as a self-service reset: a server, a sender, the public address
    return mail_configured(current_app.config)


def _link_patient(patient_id: int) -> Patient:
    """The patient behind an issue or revoke button: 404 if not the clinic's, 400 on a bad form."""
    patient = fetch_patient(clinic_id(), patient_id) or abort(404)
    if not LinkForm().validate_on_submit():
        abort(400)
    return patient


@bp.post("/patients/<int:patient_id>/companion/issue")
@login_required
def issue(patient_id: int) -> ResponseReturnValue:
    """Issue the link, or reissue it: the old link and code stop at once."""
    patient = _link_patient(patient_id)
    if patient.archived_at is not None:
        flash("The patient is archived: restore them to give them a phone link.", "error")
        return redirect(url_for("companion.manage", patient_id=patient.id))
    existing = fetch_patient_link(clinic_id(), patient.id)
    try:
        plan = fetch_companion_plan(clinic_id(), patient.id)
        issue_link(patient, signing_key(), acting(), existing, ends_on=link_expiry(plan))
        db.session.commit()
    except (IntegrityError, StaleDataError):  # two clicks at once: one link
        db.session.rollback()
    flash("A new phone link is ready." if existing else "The phone link is ready.", "success")
    return redirect(url_for("companion.manage", patient_id=patient.id))


@bp.post("/patients/<int:patient_id>/companion/revoke")
@login_required
def revoke(patient_id: int) -> ResponseReturnValue:
    """Stop the link at once."""
    patient = _link_patient(patient_id)
    link = fetch_patient_link(clinic_id(), patient.id) or abort(404)
    if link.revoked_at is None:
        revoke_link(link, acting())
        db.session.commit()
    flash("The phone link no longer opens.", "success")
    return redirect(url_for("companion.manage", patient_id=patient.id))


@bp.post("/patients/<int:patient_id>/companion/send")
@login_required
def send(patient_id: int) -> ResponseReturnValue:
    """E-mail the link to the patient: a short plain message, no health details."""
    patient = fetch_patient(clinic_id(), patient_id) or abort(404)
    link = fetch_patient_link(clinic_id(), patient.id) or abort(404)
    form = SendForm()
    if not _can_mail() or link.revoked_at is not None:
        abort(404)
    plan = fetch_companion_plan(clinic_id(), patient.id)
    if not is_live(link, plan, date.today()) or link_url(link) is None:
        flash("This link does not open any more: make a new one before sending it.", "error")
        return redirect(url_for("companion.manage", patient_id=patient.id))
    address = (form.email.data or "").strip() if form.validate_on_submit() else ""
    if not _EMAIL.fullmatch(address):
        flash("Type the patient's e-mail address, like name@example.com.", "error")
        return redirect(url_for("companion.manage", patient_id=patient.id))
    from email.message import EmailMessage

    clinic = current_user.clinic
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = address
    message["Subject"] = "Your exercise plan"  # the clinic's name could say what it treats
    message.set_content(
        f"Hello {first_name(patient.called)},\n\n"
        "This link opens your exercise plan on your phone. Keep it to yourself: anyone with "
        f"the link can see your plan.\n\n{link_url(link)}\n\n"
        f"If you did not expect this message, please call {clinic.name}"
        + (f" on {clinic.phone}" if clinic.phone else "")
        + ".\n"
    )
    settings = mail_settings(current_app.config)
    record_event(acting(), "companion.send", link, "e-mailed")
    db.session.commit()  # on record before it leaves
    in_background(lambda: deliver(settings, message), name="companion-mail")
    flash("The link is on its way to the patient's e-mail.", "success")
    return redirect(url_for("companion.manage", patient_id=patient.id))


# The phone pages add their routes, limits and headers to this blueprint.
from . import phone_views  # noqa: E402, F401
