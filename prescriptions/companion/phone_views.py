"""The patient's phone pages (no sign-in), on the companion blueprint.

Patient routes live under /p/<key>, where key is the link's token (from the QR code) or its
short code (typed). An unknown, revoked or expired key answers exactly as a missing one. Every
patient route is rate-limited per link and per address; every patient POST carries the link's
form key (CSRF without a session cookie) and an idempotency key; every patient write is audited
with the link as its actor.
"""

from __future__ import annotations

import hmac
import ipaddress
import uuid
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from icalendar import Alarm, Calendar, Event
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from pdf.snapshot import HandoutSnapshot

from ..auth.throttle import count_attempt
from ..domain.adherence import prescribed_per_day, week_of
from ..exercises.queries import fetch_catalogue
from ..extensions import db
from ..mapping.handouts import handout_snapshot
from ..mapping.plans import plan_items
from ..models import Clinic, PatientLink, Plan, SignInCounter, utcnow
from .forms import DaySheetForm, ReminderForm, TapForm
from .operations import save_day, tap_session, touch_link
from .pages import breath_words, first_name, reminder_slots, safety_grades, today_page, week_sheet
from .queries import fetch_companion_plan, fetch_link_by_key
from .tokens import form_key_for
from .views import bp, is_live, link_ends_on, signing_key

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
        self.form_key = form_key_for(signing_key(), link.nonce)

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
    link = fetch_link_by_key(signing_key(), key)
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
    if plan is None or not is_live(link, plan, date.today()):
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
