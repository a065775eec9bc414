"""Password policy (SECURITY.md): length, a shipped list of common passwords, scrypt hashing."""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 128


@cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("prescriptions").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) < 4:
        return "This password is too common. Choose a less predictable one, such as a short phrase."
    personal = {email.lower(), email.lower().partition("@")[0], name.lower().replace(" ", "")}
    if lowered.replace(" ", "") in personal - {""}:
        return "Don't use your name or email address as the password."
    return None


def hash_password(password: str) -> str:
    """Hash with scrypt (Werkzeug's memory-hard KDF)."""
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str, password: str) -> bool:
    """Constant-time check of a password against its stored hash."""
    return check_password_hash(password_hash, password)


# A valid hash to compare against when the account does not exist, so unknown emails take as
# long as wrong passwords and reveal nothing through timing.
DUMMY_HASH = generate_password_hash("not-a-real-password-ever", method="scrypt")
