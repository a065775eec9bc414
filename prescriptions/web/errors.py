"""Error pages in the house layout."""

from __future__ import annotations

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
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

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        app.logger.exception("Unhandled error", exc_info=error)
        return render_error(InternalServerError.code)
