"""Error pages in the house layout."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db

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
}


def render_error(code: int, detail: str | None = None) -> ResponseReturnValue:
    """The house error page for an HTTP status."""
    title, text = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


LOST_RACE = (
    "Someone else changed this at the same moment, so your change was not saved. "
    "Open it again to see how it stands now."
)


def register(app: Flask) -> None:
    """Route HTTP errors, CSRF failures and unexpected exceptions to the error page."""

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

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        app.logger.exception("Unhandled error", exc_info=error)
        return render_error(InternalServerError.code)
