"""The patient's companion: the therapist's link actions, and the phone pages (no sign-in).

Patient routes live under /p/<key>, where key is the link's token (from the QR code) or its
short code (typed). An unknown, revoked or expired key answers exactly as a missing one. Every
patient route is rate-limited per link and per address; every patient POST carries the link's
form key (CSRF without a session cookie) and an idempotency key; every patient write is audited
with the link as its actor.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import uuid
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import segno
import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from icalendar import Alarm, Calendar, Event
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from pdf.snapshot import HandoutSnapshot

from ..audit import record_event
from ..auth.mail import deliver, in_background, mail_configured, mail_settings
from ..auth.throttle import count_attempt
from ..domain.adherence import prescribed_per_day, week_of
from ..domain.timeline import programme_end
from ..exercises.queries import fetch_catalogue
from ..extensions import csrf, db
from ..mapping.handouts import handout_snapshot
from ..mapping.plans import plan_items
from ..models import Clinic, Patient, PatientLink, Plan, SignInCounter, utcnow
from ..patients.queries import fetch_patient
from ..web import acting, clinic_id
from .forms import DaySheetForm, LinkForm, ReminderForm, SendForm, TapForm
from .operations import issue_link, revoke_link, save_day, tap_session, touch_link
from .pages import breath_words, first_name, reminder_slots, safety_grades, today_page, week_sheet
from .queries import fetch_companion_plan, fetch_link_by_key, fetch_patient_link
from .tokens import code_for, form_key_for, holds, link_key, token_for

bp = Blueprint("companion", __name__)
#: Patient POSTs carry the link's own form key instead of the session's CSRF token.
csrf.exempt(bp)

STATIC = Path(__file__).resolve().parent.parent / "static"
PATIENT_ENDPOINTS = frozenset(
    {
        "companion.enter",
        "companion.today",
        "companion.tap",
        "companion.day",
        "companion.week",
        "companion.guide",
        "companion.reminders",
        "companion.calendar",
        "companion.printable",
        "companion.worker",
    }
)


# --- the link's secrets, from the app's key ---------------------------------------------------


def _key() -> bytes:
    return link_key(current_app.config["SECRET_KEY"])


def link_url(link: PatientLink) -> str | None:
    """The full link (what the QR encodes), or None while FLOORPLAN_PUBLIC_URL is not set or the
    link was made under another secret key (it no longer opens)."""
    base = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not base or not holds(_key(), link.nonce, link.token_hash):
        return None
    return f"{base}/p/{token_for(_key(), link.nonce)}"


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


def _live(link: PatientLink | None, plan: Plan | None, today: date) -> bool:
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
    current = link is not None and holds(_key(), link.nonce, link.token_hash)
    url = link_url(link) if current else None
    return render_template(
        "companion/manage.html",
        patient=patient,
        link=link if current or link is None else None,
        rekeyed=link is not None and not current,
        plan=plan,
        live=current and _live(link, plan, date.today()),
        expires=link_ends_on(link, plan) if current else link_expiry(plan),
        url=url,
        qr=_qr_data_uri(url) if url else None,
        code=code_for(_key(), link.nonce) if current else None,
        path=url_for("companion.today", key=token_for(_key(), link.nonce)) if current else None,
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
        issue_link(patient, _key(), acting(), existing, ends_on=link_expiry(plan))
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
    if not _live(link, plan, date.today()) or link_url(link) is None:
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


# --- the patient's side ---------------------------------------------------------------------


def address_bucket(address: str | None) -> str:
    """What the per-address limit counts: the address, or its /64 for IPv6 (one household or
    phone holds a whole /64, so counting single IPv6 addresses would limit nothing)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or ""
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


@bp.before_request
def _limit_patient_routes() -> ResponseReturnValue | None:
    """Count every patient request (the service worker too) per address; over the limit answers
    429. Each live link is counted as well, by its id once found (_open), so its token, its
    code and their spellings share one count, and made-up keys leave no counter behind."""
    if request.endpoint not in PATIENT_ENDPOINTS:
        return None
    config = current_app.config
    window = config["COMPANION_LIMIT_WINDOW"]
    address = count_attempt("patient-address", address_bucket(request.remote_addr), window)
    if address == 1:  # a new window for this address: clear the counters whose window is over
        _purge_counters(window)
    db.session.commit()
    if address > config["COMPANION_LIMIT_PER_ADDRESS"]:
        return _busy()
    return None


def _busy() -> Response:
    return Response(
        render_template("companion/busy.html"), status=429, headers={"Retry-After": "60"}
    )


def _purge_counters(window: timedelta) -> None:
    db.session.execute(
        sa.delete(SignInCounter).where(
            SignInCounter.scope.in_(["patient-address", "patient-link"]),
            SignInCounter.window_start <= utcnow() - window,
        )
    )


#: how often "last used" is written: a page view is a read, with at most one short write
TOUCH_EVERY = timedelta(minutes=5)


@bp.after_request
def _remember_use(response: Response) -> Response:
    """Save when a live link was last used: its own short commit, after the page was rendered."""
    link_id = g.pop("companion_touch", None)
    if link_id is not None and response.status_code < 400:
        try:
            db.session.rollback()  # end the page's read; nothing of it is pending
            touch_link(link_id)
            db.session.commit()
        except SQLAlchemyError:  # a busy database: the next visit writes it
            db.session.rollback()
    return response


@bp.after_request
def _patient_headers(response: Response) -> Response:
    if request.endpoint in PATIENT_ENDPOINTS:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        if request.endpoint != "companion.worker":
            response.headers["Cache-Control"] = "no-store"
    return response


def _missing() -> Response:
    """The one answer for a key that is unknown, revoked or expired."""
    return Response(render_template("companion/missing.html"), status=404)


class _Open:
    """A live link and what its pages need: the plan, its snapshot, the logged days."""

    def __init__(self, link: PatientLink, plan: Plan, key: str) -> None:
        self.link, self.plan, self.key = link, plan, key
        self.name = first_name(link.patient.called)
        self.form_key = form_key_for(_key(), link.nonce)

    @cached_property
    def snap(self) -> HandoutSnapshot:
        """The plan as the handout prints it (built only for the pages that show it)."""
        clinic = db.session.get(Clinic, self.link.clinic_id)
        return handout_snapshot(self.plan, clinic, fetch_catalogue(self.link.clinic_id))

    def sessions_on(self, day: date) -> int | None:
        """Sessions prescribed on a day of the plan; None outside it (no snapshot needed)."""
        week = week_of(self.plan.start_date, day)
        if week is None or day > self.plan.end_date:
            return None
        return prescribed_per_day(plan_items(self.plan.items), week)

    def logged(self, first: date, last: date) -> dict[date, dict[str, Any]]:
        """The patient's own entries (what the phone shows), by day."""
        from ..logs.queries import fetch_logs

        out = {}
        for e in fetch_logs(self.link.clinic_id, self.plan.id, first, last):
            out[e.day] = (
                dict(e.patient_entry or {})
                if e.patient_entry
                else {"sessions_done": e.sessions_done}
            )
        return out

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "form_key": self.form_key,
                "new_key": uuid.uuid4().hex, **extra}  # fmt: skip


def _open(key: str) -> _Open | None:
    link = fetch_link_by_key(_key(), key)
    if link is None or link.revoked_at is not None:
        fetch_companion_plan(0, 0)  # the same reads as an ended link: no answer comes sooner
        return None
    plan = fetch_companion_plan(link.clinic_id, link.patient_id)
    ends = link_ends_on(link, plan) if plan is not None else None
    if ends is not None and ends != link.ends_on:  # kept, so an ended link stays ended
        db.session.execute(
            sa.update(PatientLink).where(PatientLink.id == link.id).values(ends_on=ends)
        )
        db.session.commit()
    if plan is None or not _live(link, plan, date.today()):
        return None
    config = current_app.config
    used = count_attempt("patient-link", str(link.id), config["COMPANION_LIMIT_WINDOW"])
    db.session.commit()
    if used > config["COMPANION_LIMIT_PER_LINK"]:
        abort(_busy())
    last = link.last_used_at
    if last is None or utcnow() - last > TOUCH_EVERY:
        g.companion_touch = link.id  # written after the page is rendered (_remember_use)
    return _Open(link, plan, key)


def _open_or_missing(key: str) -> _Open:
    """The live link behind the key, or the missing page ends the request (as a busy one does)."""
    opened = _open(key)
    if opened is None:
        abort(_missing())
    return opened


@bp.get("/p")
def enter() -> ResponseReturnValue:
    """Type the code from the handout (a plain GET form)."""
    typed = request.args.get("code", "").strip()[:40]
    if typed:
        from .tokens import normalise_code

        code = normalise_code(typed)
        if code is not None:
            return redirect(url_for("companion.today", key=code), 303)
        return render_template("companion/enter.html", typed=typed, error=True), 400
    return render_template("companion/enter.html", typed="", error=False)


@bp.get("/p/<key>")
def today(key: str) -> ResponseReturnValue:
    """Today's sessions, each exercise's steps one tap away, one tap to log a session."""
    opened = _open_or_missing(key)
    day = date.today()
    logged = opened.logged(day, day)
    page = today_page(opened.snap, day, logged)
    return render_template(
        "companion/today.html",
        page=page,
        safety=safety_grades(opened.snap),
        status=request.args.get("done", ""),
        **opened.context(),
    )


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/p/<key>/tap")
def tap(key: str) -> ResponseReturnValue:
    """One session done (counted once per idempotency key, however often it is sent)."""
    opened = _open_or_missing(key)
    form = TapForm(request.form, expected_key=opened.form_key)
    if not form.validate():
        if _wants_json():
            return {"ok": False, "error": "stale"}, 400
        return render_template("companion/stale.html", **opened.context()), 400
    day = _tap_day(opened, request.form.get("on"))
    sessions = opened.sessions_on(day) if day is not None else None
    if sessions is None:  # a day outside the plan, or outside the window
        if _wants_json():
            return {"ok": False, "error": "day"}, 400
        return redirect(url_for("companion.today", key=key), 303)
    for attempt in range(3):
        try:
            result = tap_session(
                opened.link, opened.plan, day, sessions, form.key.data,
                request.remote_addr or "",
            )  # fmt: skip
            db.session.commit()
            break
        except (IntegrityError, StaleDataError):  # the same day written at the same moment
            db.session.rollback()
            if attempt == 2:
                raise
            opened = _open(key) or abort(404)
    if _wants_json():
        return {"ok": True, "counted": result.counted, "full": result.full}
    return redirect(url_for("companion.today", key=key, done="full" if result.full else "1"), 303)


#: how far back the phone may fill in a day's sheet ("at the end of the day, or later")
LATE_DAYS = 6
OUT_OF_WINDOW = (
    f"That day's sheet can no longer be filled in from your phone (only the last {LATE_DAYS + 1}"
    " days of your plan). Nothing was saved."
)


def _tap_day(opened: _Open, sent: str | None) -> date | None:
    """The day a tap is for: the day the phone says it was tapped (a queued tap arrives later),
    within the plan and the last few days; today when the form names no day (no JavaScript)."""
    today_ = date.today()
    if not sent:
        return today_
    try:
        chosen = date.fromisoformat(sent)
    except ValueError:
        return None
    earliest = max(opened.plan.start_date, today_ - timedelta(days=LATE_DAYS))
    return chosen if earliest <= chosen <= today_ else None


def _sheet_day(opened: _Open, asked: str | None) -> date | None:
    """The day a sheet is for: today when none is named, or one of the last few days of the
    plan; None for anything else (not a day, before the plan or the window, in the future)."""
    if not asked:
        return date.today()
    return _tap_day(opened, asked)


@bp.route("/p/<key>/day", methods=["GET", "POST"])
def day(key: str) -> ResponseReturnValue:
    """The rest of a day's sheet: leaks and causes, urgency, pain, longest hold, a note."""
    opened = _open_or_missing(key)
    asked = request.args.get("on") if request.method == "GET" else request.form.get("on")
    on = _sheet_day(opened, asked)
    if on is None and request.method == "POST":  # never saved into another day's sheet
        if _wants_json():
            return {"ok": False, "error": "day"}, 400
        on = date.today()
        form = DaySheetForm(request.form, expected_key=opened.form_key)
        form.validate()
        form.form_errors = [OUT_OF_WINDOW]
        page = today_page(opened.snap, on, {})
        return render_template(
            "companion/day.html", form=form, page=page, on=on, is_today=True,
            **opened.context(),
        ), 400  # fmt: skip
    on = on or date.today()  # a page asked for a day it cannot show shows today's
    page = today_page(opened.snap, on, {})
    extra = {"on": on, "is_today": on == date.today()}
    if request.method == "GET":
        logged = opened.logged(on, on).get(on, {})
        form = DaySheetForm(data={**logged, "question": ""}, expected_key=opened.form_key)
        return render_template(
            "companion/day.html", form=form, page=page, **extra, **opened.context()
        )
    form = DaySheetForm(request.form, expected_key=opened.form_key)
    if page.week is None:
        form.form_errors = ["Your plan has no day to log today."]
    elif form.validate():
        saved = save_day(
            opened.link, opened.plan, on, form.values(), form.question.data or "",
            page.sessions, form.key.data, request.remote_addr or "",
        )  # fmt: skip
        db.session.commit()
        if _wants_json():
            return {"ok": True, "counted": saved}
        return redirect(url_for("companion.week", key=key, saved=1), 303)
    if _wants_json():
        return {"ok": False, "error": "invalid"}, 400
    return render_template(
        "companion/day.html", form=form, page=page, **extra, **opened.context()
    ), 400


@bp.get("/p/<key>/week")
def week(key: str) -> ResponseReturnValue:
    """The week so far, as the paper sheet would show it."""
    opened = _open_or_missing(key)
    today_ = date.today()
    days = week_sheet(opened.snap, today_, {})
    logged = opened.logged(days[0].day, days[-1].day) if days else {}
    days = week_sheet(opened.snap, today_, logged)
    return render_template(
        "companion/week.html", days=days, saved=bool(request.args.get("saved")),
        **opened.context(),
    )  # fmt: skip


@bp.get("/p/<key>/guide/<int:index>")
def guide(key: str, index: int) -> ResponseReturnValue:
    """A guided session of one exercise: a squeeze-and-rest timer, or a breathing pacer."""
    opened = _open_or_missing(key)
    page = today_page(opened.snap, date.today(), {})
    if index >= len(page.steps):
        return _missing()
    step = page.steps[index]
    following = index + 1 if index + 1 < len(page.steps) else None
    return render_template(
        "companion/guide.html", step=step, timer=step.timer(), following=following, page=page,
        **opened.context(),
    )  # fmt: skip


@bp.get("/p/<key>/reminders")
def reminders(key: str) -> ResponseReturnValue:
    """Pick a time for each session; the calendar file follows."""
    opened = _open_or_missing(key)
    most = max((w.sessions_per_day for w in opened.snap.weeks), default=0)
    return render_template(
        "companion/reminders.html", form=ReminderForm(), most=most, **opened.context()
    )


@bp.get("/p/<key>/calendar.ics")
def calendar(key: str) -> ResponseReturnValue:
    """A calendar file with a reminder for each session of every day of the block."""
    opened = _open_or_missing(key)
    form = ReminderForm(request.args)
    most = max((w.sessions_per_day for w in opened.snap.weeks), default=0)
    times = form.times() if form.validate() else []
    if len(times) < most:
        if not form.errors:
            form.first.errors = [f"Pick a time for each of your {most} sessions a day."]
        return render_template(
            "companion/reminders.html", form=form, most=most, **opened.context()
        ), 400
    cal = Calendar()
    cal.add("prodid", "-//FloorPlan//companion//EN")
    cal.add("version", "2.0")
    stamp = datetime(2000, 1, 1)
    for when, n in reminder_slots(opened.snap, sorted(times)):
        event = Event()
        # stable for the same reminder, and says nothing (no plan number, no software name)
        event.add("uid", _uid(opened, f"{when:%Y%m%d}-{n}"))
        event.add("dtstamp", stamp)
        event.add("dtstart", when)
        event.add("dtend", when + timedelta(minutes=10))
        event.add("summary", "Exercise time")  # discreet on a lock screen
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", "Exercise time")
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
        cal.add_component(event)
    response = Response(cal.to_ical(), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="exercises.ics"'
    return response


def _uid(opened: _Open, slot: str) -> str:
    mac = hmac.new(opened.form_key.encode(), f"uid:{opened.plan.id}:{slot}".encode(), "sha256")
    return mac.hexdigest()[:32]


@bp.get("/p/<key>/print")
def printable(key: str) -> ResponseReturnValue:
    """A printable copy of the plan: every week's doses and each exercise's steps."""
    opened = _open_or_missing(key)
    from pdf.text import dose_words

    weeks = [
        (w, [(d.exercise_name, dose_words(d, opened.snap.approach)) for d in w.doses])
        for w in opened.snap.weeks
    ]
    guides = [
        (g.name, [breath_words(s) for s in g.steps], breath_words(g.breathing))
        for g in opened.snap.exercises
    ]
    return render_template(
        "companion/print.html",
        weeks=weeks,
        guides=guides,
        safety=safety_grades(opened.snap),
        **opened.context(),
    )


@bp.get("/p/sw.js")
def worker() -> ResponseReturnValue:
    """The service worker, served from /p/ so it may look after every patient page."""
    response = send_file(STATIC / "companion-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
