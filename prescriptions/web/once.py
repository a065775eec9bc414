"""Submit once: one-time form tokens, so a double click makes one record."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Submission


def fetch_submission_target(clinic_id: int, token: str) -> str | None:
    """Where an already-used one-time form token led, or None when it is unused."""
    return db.session.scalar(
        sa.select(Submission.target).where(
            Submission.token == token, Submission.clinic_id == clinic_id
        )
    )


def claim_submission(token: str, clinic_id: int) -> str | None:
    """Claim a one-time form token. Returns None when fresh, else where the first use led."""
    existing = db.session.get(Submission, token)
    if existing is not None:
        return existing.target or "/"
    try:
        with db.session.begin_nested():
            db.session.add(Submission(token=token, clinic_id=clinic_id))
    except IntegrityError:
        # A concurrent twin claimed it between our read and our insert; it has committed now.
        twin = db.session.get(Submission, token, populate_existing=True)
        return (twin.target if twin else "") or "/"
    return None


def complete_submission(token: str, target: str) -> None:
    """Remember where a claimed submission led, so a repeat lands there too."""
    submission = db.session.get(Submission, token)
    if submission is not None:
        submission.target = target
