"""Submit once: a create form carries a one-time token, so a double click makes one record.

One behaviour everywhere: the first POST with a token saves and commits; any later POST with the
same token from the same person (a double click, Back and resubmit, a concurrent twin) is shown
what the first one made. A token is the user's own: another user's or another clinic's use of the
same string is a different submission.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, flash, redirect
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import Submission, utcnow
from .forms import OnceForm

#: how long a used token keeps answering repeats; older rows are purged
SUBMISSION_TTL = timedelta(days=2)

#: what a save returns: where the new record lives, and the message to show there
Saved = tuple[str, str]

REPEAT_MESSAGE = "That was already saved: here is what it made."

F = TypeVar("F", bound=OnceForm)


def _key() -> tuple[int, int]:
    return current_user.clinic_id, current_user.id


def fetch_submission_target(token: str) -> str | None:
    """Where this user's earlier use of a token led, or None when the token is unused."""
    clinic_id, user_id = _key()
    return db.session.scalar(
        sa.select(Submission.target).where(
            Submission.clinic_id == clinic_id,
            Submission.user_id == user_id,
            Submission.token == token,
        )
    )


def _claim(token: str) -> str | None:
    """Claim a token for this user. None when it is fresh, else where its first use led."""
    clinic_id, user_id = _key()
    db.session.execute(
        sa.delete(Submission).where(Submission.created_at < utcnow() - SUBMISSION_TTL)
    )
    earlier = fetch_submission_target(token)
    if earlier is not None:
        return earlier
    try:
        with db.session.begin_nested():
            db.session.add(Submission(clinic_id=clinic_id, user_id=user_id, token=token))
    except IntegrityError:
        # A concurrent twin claimed it between our read and our insert; it has committed now.
        return fetch_submission_target(token) or ""
    return None


def _repeat(target: str) -> Response:
    flash(REPEAT_MESSAGE, "info")
    return redirect(target or "/")


def repeat_of(form: OnceForm) -> Response | None:
    """Before validating a POST: a token this user already used answers with what it made."""
    if not form.is_submitted() or not form.once.data or not current_user.is_authenticated:
        return None
    target = fetch_submission_target(str(form.once.data))
    return None if target is None else _repeat(target)


def once_form(form_class: type[F], **kwargs: Any) -> F:
    """The route's form from the request; a POST repeating a token this user already used ends
    the request here (as a 404 would), shown what the first one made."""
    form = form_class(**kwargs)
    if (repeat := repeat_of(form)) is not None:
        abort(repeat)
    return form


def submit_once(form: OnceForm, save: Callable[[], Saved]) -> ResponseReturnValue:
    """Run `save` (write, flush, return where and what) once for the form's token, and commit."""
    token = str(form.once.data)
    earlier = _claim(token)
    if earlier is not None:
        db.session.rollback()
        return _repeat(earlier)
    target, message = save()
    db.session.execute(
        sa.update(Submission)
        .where(
            Submission.clinic_id == current_user.clinic_id,
            Submission.user_id == current_user.id,
            Submission.token == token,
        )
        .values(target=target)
    )
    db.session.commit()
    flash(message, "success")
    return redirect(target)


def save_once_or_show(
    form: OnceForm, save: Callable[[], Saved], page: Callable[[], str]
) -> ResponseReturnValue:
    """A create page's whole request: a repeat is shown what the first POST made, valid input is
    saved once (`submit_once`), and anything else renders `page` (400 when the form has errors)."""
    if repeat := repeat_of(form):
        return repeat
    if form.validate_on_submit():
        return submit_once(form, save)
    return page(), 400 if form.errors else 200
