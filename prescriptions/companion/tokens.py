"""The companion link's secrets: token, short code and form key, all derived from a nonce.

token = HMAC(link key, "token:" + nonce), 192 bits in URL-safe base64; the short code is 12
characters of another HMAC in an alphabet without look-alikes (0/O, 1/I/L), about 60 bits,
typed with or without dashes. The database keeps HMACs of both under the link key (derived
from SECRET_KEY) and the nonce: without the key, a copy of the database gives no way to test a
guessed code or token, and a new SECRET_KEY ends every link (reissue to print a working one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

#: Crockford-like: no I, L, O, U; digits without 0 and 1.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 12
TOKEN_CHARS = 32  #: 32 base64 characters: 192 bits
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_CHARS}}}")


def new_nonce() -> str:
    """128 random bits for a new or reissued link."""
    return secrets.token_urlsafe(16)


def link_key(secret_key: str) -> bytes:
    """The key every link's token and code are derived under."""
    return hmac.new(str(secret_key).encode(), b"floorplan-patient-link", hashlib.sha256).digest()


def _mac(key: bytes, label: str, nonce: str) -> bytes:
    return hmac.new(key, f"{label}:{nonce}".encode(), hashlib.sha256).digest()


def token_for(key: bytes, nonce: str) -> str:
    """The link's token (what the QR code and URL carry)."""
    return base64.urlsafe_b64encode(_mac(key, "token", nonce)).decode()[:TOKEN_CHARS]


def code_for(key: bytes, nonce: str) -> str:
    """The short code a patient can type, as printed: XXXX-XXXX-XXXX."""
    number = int.from_bytes(_mac(key, "code", nonce), "big")
    chars = []
    for _ in range(CODE_LENGTH):
        number, rest = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[rest])
    code = "".join(chars)
    return "-".join(code[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def form_key_for(key: bytes, nonce: str) -> str:
    """The per-link form key every patient POST carries (CSRF without a session)."""
    return base64.urlsafe_b64encode(_mac(key, "form", nonce)).decode()[:32]


def digest(key: bytes, text: str) -> str:
    """What the database keeps of a token or normalised code: its HMAC under the link key."""
    return hmac.new(key, f"lookup:{text}".encode(), hashlib.sha256).hexdigest()


def holds(key: bytes, nonce: str, token_hash: str) -> bool:
    """Whether a link's stored hash is of the token this key derives (False after a key change)."""
    return hmac.compare_digest(digest(key, token_for(key, nonce)), token_hash or "")


def normalise_code(typed: str) -> str | None:
    """A typed code in capitals without spaces or dashes, or None when it cannot be one."""
    cleaned = re.sub(r"[\s-]", "", typed or "").upper()
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        return None
    return cleaned


def key_hash(key: bytes, typed: str) -> str | None:
    """Which stored hash a key from a URL is: ('t'|'c') + its digest, or None if it is neither."""
    if _TOKEN.fullmatch(typed or ""):
        return "t" + digest(key, typed)
    code = normalise_code(typed)
    if code is not None:
        return "c" + digest(key, code)
    return None
