"""Configuration: the defaults, how FLOORPLAN_* variables are read, and the production key checks.

Settings come from DEFAULTS, then instance/config.py, then FLOORPLAN_* environment variables. A
variable's text is turned into the type of the setting's default (see `coerce`); a value that does
not fit stops start-up with a ConfigError naming the setting and what it expects.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

# Refused in production by create_app.
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105  # nosec B105

DEFAULTS: dict[str, object] = {
    "SECRET_KEY": DEV_SECRET_KEY,
    "ENV_NAME": "development",  #: "production" turns on secure cookies and the key checks
    "AUDIT_KEY": "",  #: HMAC key of the audit chain; empty: derived from SECRET_KEY
    "PROXY_FIX_X_FOR": 0,  #: trusted proxies in front of the app (0: none, no ProxyFix)
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # True in production, whatever is configured
    # Sessions end after IDLE_TIMEOUT without a request, and ABSOLUTE_TIMEOUT after sign-in
    # (checked on every request by the _session_lifetime hook in web/__init__.py). The session
    # cookie lasts until the browser closes; PERMANENT_SESSION_LIFETIME follows IDLE_TIMEOUT
    # (see session_settings).
    "IDLE_TIMEOUT": timedelta(minutes=30),
    "ABSOLUTE_TIMEOUT": timedelta(hours=12),
    "LOGIN_LIMIT_PER_ACCOUNT": 5,  #: failed logins per account per window before refusing
    "LOGIN_LIMIT_PER_ADDRESS": 20,  #: failed logins per client address per window
    "LOGIN_LIMIT_WINDOW": timedelta(minutes=15),
    #: a password reset link's life (admin-made, e-mailed or from the command line)
    "RESET_LINK_LIFETIME": timedelta(hours=24),
    "RESET_LIMIT_PER_ACCOUNT": 3,  #: e-mailed reset requests per address typed per window
    "RESET_LIMIT_PER_ADDRESS": 10,  #: e-mailed reset requests per client address per window
    "RESET_LIMIT_WINDOW": timedelta(hours=1),
    #: the answer to "e-mail me a link" takes this long whatever the address (timing tells nothing)
    "RESET_ANSWER_SECONDS": 0.25,
    #: how long a sign-in may wait between the password and the second factor
    "SECOND_FACTOR_TIMEOUT": timedelta(minutes=5),
    "TOTP_ISSUER": "FloorPlan",  #: the name authenticator apps show beside the code
    #: Outgoing mail for self-service password reset, set by the operator (never in a page or the
    #: database, so no backup or export carries the SMTP password). Off while MAIL_SERVER is "".
    "MAIL_SERVER": "",
    "MAIL_PORT": 587,
    "MAIL_SECURITY": "starttls",  #: "starttls", "ssl" or "none" (a relay on localhost)
    "MAIL_USERNAME": "",
    # MAIL_PASSWORD has no default: only the operator sets it (instance config or environment).
    "MAIL_SENDER": "",
    "MAIL_TIMEOUT": 10,
    #: the address people open, e.g. https://floorplan.example.org: e-mailed links use it,
    #: never the request's Host header (which a caller chooses); required for e-mailed resets
    "PUBLIC_URL": "",
    #: a patient's companion link stops this long after the end of the plan the patient is on
    "COMPANION_LINK_AFTER_END": timedelta(days=30),
    #: requests a patient route answers per link, and per client address, in each window
    "COMPANION_LIMIT_PER_LINK": 120,
    "COMPANION_LIMIT_PER_ADDRESS": 600,
    "COMPANION_LIMIT_WINDOW": timedelta(minutes=10),
    #: pain logged from the phone above this (0-10) shows on the therapist's start page
    "COMPANION_PAIN_ALERT_ABOVE": 5,
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
    "LOGO_MAX_BYTES": 512 * 1024,
    #: an uploaded photo or scanned PDF of returned sheets (the upload page's own body limit)
    "SCAN_MAX_BYTES": 25 * 1024 * 1024,
    "PATIENTS_PER_PAGE": 25,
    "WTF_CSRF_TIME_LIMIT": None,  # the session's own timeouts bound the token's life
    "AUTO_MIGRATE": True,  #: create/upgrade an SQLite database on first start
}

#: Smallest value each whole-number setting may take.
MINIMUMS: dict[str, int] = {
    "PROXY_FIX_X_FOR": 0,
    "LOGIN_LIMIT_PER_ACCOUNT": 1,
    "LOGIN_LIMIT_PER_ADDRESS": 1,
    "MAX_CONTENT_LENGTH": 1,
    "LOGO_MAX_BYTES": 1,
    "SCAN_MAX_BYTES": 1,
    "PATIENTS_PER_PAGE": 1,
    "COMPANION_LIMIT_PER_LINK": 1,
    "COMPANION_LIMIT_PER_ADDRESS": 1,
    "COMPANION_PAIN_ALERT_ABOVE": 0,
}

#: Settings that take one of a few words.
CHOICES: dict[str, tuple[str, ...]] = {"ENV_NAME": ("development", "production")}

#: FLOORPLAN_* variables that are read elsewhere and are not settings.
NOT_SETTINGS = frozenset({"INSTANCE_PATH", "NEW_PASSWORD"})

#: Settings an operator may not set, and why (each would be ignored or would undo a timeout).
REFUSED: dict[str, str] = {
    "PERMANENT_SESSION_LIFETIME": "it follows IDLE_TIMEOUT; set FLOORPLAN_IDLE_TIMEOUT instead",
    "REMEMBER_COOKIE_": "FloorPlan has no 'remember me' sign-in; sessions end after "
    "IDLE_TIMEOUT and ABSOLUTE_TIMEOUT",
}

#: The signed session cookie is refused this long after the idle timeout, as a second lock behind
#: the request hook (which ends the session first, with a message).
SIGNATURE_GRACE = timedelta(minutes=1)

#: Production key checks: length in bytes and variety (bits per character over the key's own
#: character counts; 32 random hex digits give 2.7 or more, random base64 about 5).
MIN_KEY_BYTES = 32
MIN_KEY_BITS_PER_CHARACTER = 2.5
#: A key may not hold the same run of this many characters twice, nor this many consecutive ones
#: ("abcdefgh", "87654321"); random keys do neither (for random hex, about once in 10 million).
KEY_PATTERN_LENGTH = 8

#: The message of the audit key derivation (prescriptions.audit.audit_key uses the same).
AUDIT_KEY_MESSAGE = b"floorplan-audit-chain"

_WHOLE = re.compile(r"[+-]?\d+")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_SENSITIVE = ("KEY", "PASSWORD", "SECRET", "TOKEN", "URI", "URL")


class ConfigError(RuntimeError):
    """A setting the service cannot start with; the message names it and what it expects."""


def expects(default: object) -> str:
    """What a setting whose default is `default` expects, in words."""
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, timedelta):
        return "a number of seconds greater than 0 (e.g. 1800 for 30 minutes)"
    if isinstance(default, dict):
        return 'a JSON object (e.g. {"pool_size": 5})'
    if isinstance(default, list | tuple):
        return "a JSON list"
    return "text"


def _fail(name: str, value: object, source: str, wanted: str) -> ConfigError:
    shown = "" if any(word in name for word in _SENSITIVE) else f"={str(value)[:60]!r}"
    label = source if source.startswith("FLOORPLAN_") else f"{name}{shown} in {source}"
    if source.startswith("FLOORPLAN_"):
        label += shown
    return ConfigError(f"{label}: expected {wanted}.")


def _from_text(text: str, default: object) -> Any:
    """Turn a variable's text into the default's type; ValueError when it does not fit."""
    stripped = text.strip()
    if isinstance(default, bool):
        word = stripped.lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise ValueError(text)
    if isinstance(default, int):
        if _WHOLE.fullmatch(stripped):
            return int(stripped)
        raise ValueError(text)
    if isinstance(default, float | timedelta):
        number = float(stripped)  # ValueError for text that is not a number
        return timedelta(seconds=number) if isinstance(default, timedelta) else number
    if isinstance(default, dict | list | tuple):
        return json.loads(stripped)  # JSONDecodeError is a ValueError
    if isinstance(default, str):
        if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"':
            try:
                unquoted = json.loads(stripped)
            except ValueError:
                return text
            return unquoted if isinstance(unquoted, str) else text
        return text
    # No typed default (None or an unknown setting): JSON where it parses, else the text.
    try:
        return json.loads(text)
    except ValueError:
        return text


def coerce(name: str, value: object, default: object, source: str, *, text: bool = False) -> Any:
    """`value` as the type of `default`, checked against MINIMUMS and CHOICES; else ConfigError.

    `source` is the variable's name (FLOORPLAN_...) or where the value was set, for the message;
    `text` marks a variable's text: without a typed default it is read as JSON where it parses.
    A value from Python (instance/config.py) without a typed default is kept as it is.
    """
    if default is None and not text:
        return value
    wanted = expects(default)
    given = value
    try:
        if isinstance(value, str):
            value = _from_text(value, default)
        elif isinstance(default, timedelta) and _is_number(value):
            value = timedelta(seconds=float(value))  # type: ignore[arg-type]
        elif isinstance(default, float) and _is_number(value):
            value = float(value)  # type: ignore[arg-type]
    except (ValueError, OverflowError):  # text that is not the type, or seconds out of range
        raise _fail(name, given, source, wanted) from None
    if default is not None and not _same_kind(value, default):
        raise _fail(name, given, source, wanted)
    if isinstance(value, timedelta) and value <= timedelta(0):
        raise _fail(name, given, source, wanted)
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(name, given, source, wanted)
    if name in MINIMUMS and value < MINIMUMS[name]:
        raise _fail(name, given, source, f"a whole number of at least {MINIMUMS[name]}")
    if name in CHOICES and value not in CHOICES[name]:
        raise _fail(name, given, source, " or ".join(repr(word) for word in CHOICES[name]))
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_kind(value: object, default: object) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    if isinstance(default, str):
        return isinstance(value, str | bytes)  # Flask signs with a bytes key too
    return isinstance(value, type(default))


def refused_setting(names: Mapping[str, object] | set[str]) -> str | None:
    """The first setting in `names` that may not be set, with why; None when all may."""
    for name in names:
        for refused, why in REFUSED.items():
            if name == refused or (refused.endswith("_") and name.startswith(refused)):
                return f"{name} cannot be set: {why}."
    return None


def settings_from_environment(
    environ: Mapping[str, str], defaults: Mapping[str, object], prefix: str = "FLOORPLAN_"
) -> dict[str, Any]:
    """The settings named by `prefix`ed variables, each as the type of its default."""
    settings: dict[str, Any] = {}
    for variable in sorted(environ):
        if not variable.startswith(prefix):
            continue
        name = variable.removeprefix(prefix)
        if not name or name in NOT_SETTINGS:
            continue
        settings[name] = coerce(name, environ[variable], defaults.get(name), variable, text=True)
    return settings


def session_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Settings that follow from the timeouts: the signed cookie's own age limit."""
    # Sessions are never made permanent: the cookie ends with the browser, so a shared clinic
    # computer does not keep a signed-in session on disk. Flask still refuses a session cookie
    # whose signature is older than PERMANENT_SESSION_LIFETIME; tying that to the idle timeout
    # makes a copied, unused cookie worthless cryptographically as well as by the request hook.
    return {"PERMANENT_SESSION_LIFETIME": config["IDLE_TIMEOUT"] + SIGNATURE_GRACE}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _key_bytes(key: object) -> bytes:
    return key if isinstance(key, bytes) else str(key).encode()


def key_weakness(key: object) -> str | None:
    """Why `key` is too weak to sign anything in production, or None when it is strong enough."""
    data = _key_bytes(key)
    if len(data) < MIN_KEY_BYTES:
        return f"it is {_count(len(data), 'byte')} long and at least {MIN_KEY_BYTES} are needed"
    counts = collections.Counter(data)
    bits = abs(sum(n / len(data) * math.log2(n / len(data)) for n in counts.values()))
    if bits < MIN_KEY_BITS_PER_CHARACTER:
        return (
            f"it has too little variety ({_count(len(counts), 'different character')}, "
            f"{bits:.1f} bits per character where at least {MIN_KEY_BITS_PER_CHARACTER} are needed)"
        )
    size = KEY_PATTERN_LENGTH
    pieces = [data[i : i + size] for i in range(len(data) - size + 1)]
    if len(set(pieces)) < len(pieces):
        return f"a run of {size} characters appears in it twice"
    for piece in pieces:
        steps = {b - a for a, b in zip(piece, piece[1:], strict=False)}
        if steps in ({1}, {-1}):
            return f"it holds {size} consecutive characters ({piece.decode(errors='replace')!r})"
    return None


def derived_audit_key(secret_key: object) -> bytes:
    """The audit chain's key when AUDIT_KEY is unset: an HMAC of the secret key (as audit_key)."""
    return hmac.new(str(secret_key).encode(), AUDIT_KEY_MESSAGE, hashlib.sha256).digest()


def _spellings(raw: bytes) -> set[bytes]:
    """A derived key as bytes and in the text forms someone might copy it in."""
    return {
        raw,
        raw.hex().encode(),
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
    }


def production_key_problems(config: Mapping[str, Any]) -> list[str]:
    """Why the secret and audit keys may not be used in production (empty when they may)."""
    problems = []
    secret = config.get("SECRET_KEY")
    if not secret or _key_bytes(secret) == DEV_SECRET_KEY.encode():
        problems.append("FLOORPLAN_SECRET_KEY is unset or the development key")
    elif why := key_weakness(secret):
        problems.append(f"FLOORPLAN_SECRET_KEY is too weak: {why}")
    audit = config.get("AUDIT_KEY")
    if audit:
        weak_secrets = [DEV_SECRET_KEY] + ([secret] if problems and secret else [])
        derived = set().union(*(_spellings(derived_audit_key(key)) for key in weak_secrets))
        audit_bytes = _key_bytes(audit)
        if audit_bytes in derived or audit_bytes in {_key_bytes(k) for k in weak_secrets}:
            problems.append("FLOORPLAN_AUDIT_KEY is, or is derived from, a weak secret key")
        elif why := key_weakness(audit):
            problems.append(f"FLOORPLAN_AUDIT_KEY is too weak: {why}")
    return problems
