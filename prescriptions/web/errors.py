"""Error pages in the house layout; a database that is down, slow or full gets its own answer."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, g, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import AnonymousUserMixin
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..database import is_storage_full, is_unavailable, one_line
from ..extensions import db
from ..health import storage_full_now, watch_storage

MESSAGES = {
    400: (
        "Something in that request wasn't right",
        "Please go back, check the form and try again.",
    ),
    403: ("You can't open this page", "Your account doesn't have access to it."),
    404: ("Page not found", "The page or record you asked for isn't here."),
    405: ("That didn't work", "This page can't be used that way."),
    409: ("Someone else changed this first", "Reload the page to see their changes."),
    413: ("That file is too large", "Please choose a smaller file."),
    429: ("Too many attempts", "Please wait a few minutes and try again."),
    500: ("Something went wrong on our side", "The problem was logged. Please try again."),
    503: (
        "FloorPlan is unavailable for a moment",
        "Its database is not answering. If you were saving something, it was not saved: "
        "please try again in a minute.",
    ),
    507: (
        "The clinic's storage is full",
        "Nothing could be saved. Please tell whoever looks after FloorPlan, then try again.",
    ),
}
#: Seconds a client is asked to wait before trying again after a 503.
RETRY_AFTER_S = 30
STORAGE_FULL = (
    "The clinic's storage is full, so this could not be saved. What you typed is still here: "
    "please ask whoever looks after FloorPlan to free some space, then save again."
)
_RESHOWING = "floorplan_storage_full"


def logged_path() -> str:
    """The request's path as a log line may show it: a patient link's key left out."""
    return re.sub(r"^/p/(?!sw\.js$)[^/]+", "/p/-", request.path)


def _patient_path() -> bool:
    """Whether the request is for the patient's companion (/p, /p/...): no staff page there."""
    try:
        path = request.path
    except RuntimeError:  # no request (a CLI command)
        return False
    return path == "/p" or path.startswith("/p/")


def render_error(code: int, detail: str | None = None) -> ResponseReturnValue:
    """The house error page for an HTTP status (the companion's own page on patient routes)."""
    title, text = MESSAGES.get(code, MESSAGES[500])
    if _patient_path():
        page = render_template("companion/error.html", title=title, text=detail or text)
        return (
            page,
            code,
            {
                "Referrer-Policy": "no-referrer",
                "X-Robots-Tag": "noindex, nofollow",
                "Cache-Control": "no-store",
            },
        )
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


LOST_RACE = (
    "Someone else changed this at the same moment, so your change was not saved. "
    "Open it again to see how it stands now."
)


def _without_database(code: int) -> ResponseReturnValue:
    """The error page built from the session cookie alone: the signed-in user is not looked up."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  # the connection is gone already; the pool replaces it
        db.session.close()
    # The page header asks current_user for a name; a user object expired by the rollback would
    # be reloaded from the database that just failed, so the page shows the signed-out header.
    g._login_user = AnonymousUserMixin()
    response = make_response(render_error(code))
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _refuse_while_reshowing(self: FlaskForm, extra_validators: Any = None) -> bool:
    if g.get(_RESHOWING):
        if self.is_submitted():
            self.form_errors.append(STORAGE_FULL)
        return False
    return _original_validate_on_submit(self, extra_validators)


_original_validate_on_submit = FlaskForm.validate_on_submit


def _reshow_form(app: Flask) -> ResponseReturnValue | None:
    """Run the view again with its form refusing to save: the page as typed, and why."""
    view = app.view_functions.get(request.endpoint or "")
    if view is None or request.method != "POST" or g.get(_RESHOWING):
        return None
    setattr(g, _RESHOWING, True)
    try:
        response = make_response(view(**(request.view_args or {})))
    except Exception:  # noqa: BLE001  # the form page itself could not be built
        db.session.rollback()
        return None
    if response.status_code < 400:  # the view saved nothing and moved on: not a form page
        return None
    response.status_code = 507
    return response


def register(app: Flask) -> None:
    """Route HTTP errors, CSRF failures and unexpected exceptions to the error page."""
    # While a form is shown again after a full disk, its view must not try to save again.
    FlaskForm.validate_on_submit = _refuse_while_reshowing  # type: ignore[method-assign]
    watch_storage()

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> ResponseReturnValue:
        return render_error(400, "The form expired or was sent from elsewhere. Please try again.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(IntegrityError)
    @app.errorhandler(StaleDataError)
    def _lost_race(error: Exception) -> ResponseReturnValue:
        # A concurrent twin committed first: a unique index refused our row, or a row we update
        # moved on under its version. Nothing of ours was written. Answer as a repeat would, by
        # running the view once more on what is stored now: it finds the twin's work and says so.
        db.session.rollback()
        view = app.view_functions.get(request.endpoint or "")
        if view is None or request.method != "POST" or g.get("floorplan_retried"):
            app.logger.warning(
                "Lost a race again on %s: %s", request.endpoint, type(error).__name__
            )
            return render_error(409, LOST_RACE)
        g.floorplan_retried = True
        app.logger.info("Lost a race on %s; answering as a repeat", request.endpoint)
        try:
            return view(**(request.view_args or {}))
        except (IntegrityError, StaleDataError) as again:
            return _lost_race(again)
        except HTTPException as ended:  # the view ended itself: once_form's repeat, a 404
            return _http(ended)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        if is_storage_full(error):
            db.session.rollback()
            storage_full_now()
            app.logger.error(
                "Storage full on %s %s: %s", request.method, logged_path(), one_line(error)
            )
            return _reshow_form(app) or _without_database(507)
        if is_unavailable(error):
            # One line: the cause is the database, not this code, and a traceback per request
            # would bury the log during an outage.
            app.logger.error(
                "Database unavailable on %s %s: %s", request.method, logged_path(), one_line(error)
            )
            return _without_database(503)
        db.session.rollback()
        app.logger.exception("Unhandled error", exc_info=error)
        return render_error(InternalServerError.code)
