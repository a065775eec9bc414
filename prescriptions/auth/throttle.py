"""Atomic sign-in counters: an attempt is counted before it is checked, in one upsert.

Counting failures after the slow password hash let 40 parallel guesses all see "4 so far" and be
checked (issue 12, item 4). Here each attempt first adds itself to its account's and address's
counters with one INSERT ... ON CONFLICT DO UPDATE ... RETURNING, which PostgreSQL serialises on
the row and SQLite runs under its write lock, then commits; only attempts whose count is within
the limit are checked, and an attempt that proves right (or was refused unchecked) is handed back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..database import upsert_insert
from ..domain.throttle import Decision, ThrottlePolicy, decide_attempt
from ..extensions import db
from ..models import SignInCounter, utcnow


def count_attempt(scope: str, subject: str, window: timedelta, now: datetime | None = None) -> int:
    """Add one attempt to a counter (restarting it when its window is over); the new count."""
    now = now or utcnow()
    table = SignInCounter.__table__
    expired = table.c.window_start <= now - window
    stmt = upsert_insert(table, db.session.get_bind().dialect.name).values(
        scope=scope, subject=subject[:254], failures=1, window_start=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.scope, table.c.subject],
        set_={
            "failures": sa.case((expired, 1), else_=table.c.failures + 1),
            "window_start": sa.case((expired, now), else_=table.c.window_start),
        },
    ).returning(table.c.failures)
    return int(db.session.execute(stmt).scalar_one())


def hand_back(scope: str, subject: str) -> None:
    """Take back one counted attempt (it was right, or refused without being checked)."""
    db.session.execute(
        sa.update(SignInCounter)
        .where(
            SignInCounter.scope == scope,
            SignInCounter.subject == subject[:254],
            SignInCounter.failures > 0,
        )
        .values(failures=SignInCounter.failures - 1)
    )


@dataclass(frozen=True)
class Attempt:
    """A counted sign-in attempt: the account (email) and address it counts against."""

    email: str
    ip: str
    decision: Decision

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def hand_back(self) -> None:
        """Uncount this attempt (it proved right, or it was refused unchecked)."""
        hand_back("account", self.email)
        hand_back("address", self.ip)


def begin_attempt(email: str, ip: str, policy: ThrottlePolicy) -> Attempt:
    """Count a password or code attempt and commit, so parallel attempts see it at once."""
    email = email.strip().lower()
    account = count_attempt("account", email, policy.window)
    address = count_attempt("address", ip, policy.window)
    db.session.commit()
    attempt = Attempt(email, ip, decide_attempt(account, address, policy))
    if not attempt.allowed:
        attempt.hand_back()  # a refused attempt was never checked: it is not a failure
    return attempt


def count_request(scope: str, subject: str, window: timedelta) -> int:
    """Count a rate-limited request (e-mailed resets) and commit; the count, this one included."""
    counted = count_attempt(scope, subject.strip().lower(), window)
    db.session.commit()
    return counted
