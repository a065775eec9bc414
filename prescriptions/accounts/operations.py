"""Writes of clinics and accounts: verb_noun functions that take the actor, flush and audit."""

from __future__ import annotations

from typing import Any

from ..audit import SYSTEM, Actor, record_event, record_update
from ..auth.passwords import hash_password
from ..domain.vocab import Role
from ..extensions import db
from ..models import Clinic, User, utcnow


def create_clinic(name: str, by: Actor = SYSTEM, **fields: Any) -> Clinic:
    """Create a clinic."""
    clinic = Clinic(name=name, **fields)
    db.session.add(clinic)
    db.session.flush()
    record_event(by, "clinic.create", clinic, name, clinic_id=clinic.id)
    return clinic


def update_clinic(clinic: Clinic, by: Actor, **fields: Any) -> Clinic:
    """Change clinic settings."""
    record_update(by, "clinic.update", clinic, fields)
    return clinic


def create_user(
    clinic: Clinic, *, email: str, name: str, role: Role | str, password: str, by: Actor = SYSTEM
) -> User:
    """Create an account in a clinic (the password is already checked against the policy)."""
    user = User(
        clinic_id=clinic.id,
        email=email.strip().lower(),
        name=name.strip(),
        role=Role(role).value,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    record_event(by, "user.create", user, f"{user.email} as {user.role}", clinic_id=clinic.id)
    return user


def set_user_active(user: User, active: bool, by: Actor) -> User:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    user.active = active
    user.session_version += 1
    db.session.flush()
    record_event(by, "user.activate" if active else "user.deactivate", user, user.email)
    return user


def set_password(user: User, password: str, by: Actor, action: str = "user.password") -> User:
    """Set a new password: every session of the user ends and open reset links are void."""
    from .resets import void_reset_links

    user.password_hash = hash_password(password)
    user.session_version += 1
    void_reset_links(user)
    db.session.flush()
    record_event(by, action, user, user.email, clinic_id=user.clinic_id)
    return user


def change_password(user: User, password: str, by: Actor) -> User:
    """Set a new password and end every other session of the user."""
    return set_password(user, password, by)


def end_sessions(user: User, by: Actor) -> None:
    """End every session of the user (logout)."""
    user.session_version += 1
    db.session.flush()
    record_event(by, "auth.logout", user)


#: Events after which the person is known to be the account's holder (the row names them).
PROVEN_SIGN_IN_EVENTS = {"auth.login", "auth.second_factor"}


def record_sign_in(action: str, email: str, by: Actor, user: User | None, detail: str = "") -> None:
    """Audit a sign-in event; one against a known account is kept with that account's clinic.

    `user` is the account the typed email names (None for an unknown email), whether or not the
    attempt succeeded, so the clinic's audit log shows failures against its own accounts.
    """
    if action == "auth.login" and user is not None:
        user.last_login_at = utcnow()
    proven = action in PROVEN_SIGN_IN_EVENTS
    record_event(
        Actor(user if proven else None, by.ip),
        action,
        user,
        detail,
        clinic_id=user.clinic_id if user else None,
        actor=email.strip().lower()[:254],
    )
