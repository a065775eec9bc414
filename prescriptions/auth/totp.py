"""Time-based one-time codes (RFC 6238, with pyotp), their QR code and recovery codes.

Free of Flask and the database: the views and operations decide what to store.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

import pyotp
import segno

STEP_SECONDS = 30
#: Steps either side of now that are still accepted (a phone clock a little off).
DRIFT_STEPS = 1
RECOVERY_CODES = 10
#: No 0/O or 1/I/L: a code copied from paper reads one way only.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 12  # 12 of 31 symbols: about 59 bits each


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str, label: str) -> str:
    """The QR code as inline SVG markup: paths with presentation attributes, no style or script.

    The page's CSP allows `img-src 'self' data:` and `style-src 'self'`: inline <svg> markup is
    part of the document (not an image load), and fill/stroke attributes are not styles.
    """
    svg = segno.make(uri, error="m").svg_inline(
        scale=5,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="qr",
        lineclass=None,
        title=label,
        omitsize=True,
    )
    # One accessible name for screen readers; the title gives the same name as a tooltip.
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(label)}" ', 1)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def normalise_code(code: str) -> str:
    """A typed code without spaces or dashes, lower case."""
    return re.sub(r"[\s-]+", "", code or "").lower()


def current_step(now: float | None = None) -> int:
    """The TOTP time step of a moment (30-second steps since the epoch)."""
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code this is, within the drift allowed, or None."""
    code = normalise_code(code)
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    step = current_step(now)
    found = None
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        # Compare every candidate (no early exit) so timing says nothing about which matched.
        if hmac.compare_digest(totp.at(candidate * STEP_SECONDS), code):
            found = candidate
    return found


def new_recovery_codes() -> list[str]:
    """Ten random single-use codes, grouped for reading as xxxx-xxxx-xxxx."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def hash_recovery_code(code: str) -> str:
    """SHA-256 of a normalised recovery code (59 random bits; tries are rate-limited)."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    """Whether a typed code has the shape of a recovery code (not a six-digit TOTP)."""
    return len(normalise_code(code)) == _RECOVERY_LENGTH


def secret_for_typing(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
