"""Signed codes for returned log sheets: what the sheet's QR carries, and checking it on return.

Each clinic signs with its own key, derived from the server's sheet key (`SHEET_KEY`, else the
secret key) and the clinic's id, so no key is stored and a sheet of one clinic is refused by
another. The code names clinic, plan, revision, week (0 for the spare sheet) and page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from flask import current_app

SHEET_KEY_MESSAGE = b"floorplan-sheet-key:"
_CODE = re.compile(r"FP\.C(\d+)\.P(\d+)\.R(\d+)\.W(\d)\.G(\d)\.([A-Z2-7]{16})")
PAGES = 2  # large print spreads a week over two pages
WEEKS = range(5)  # the four weeks and the spare sheet (0)


@dataclass(frozen=True, slots=True)
class SheetId:
    """Whose sheet a code names."""

    clinic_id: int
    plan_id: int
    revision: int
    week: int
    page: int


def server_key() -> bytes:
    """The server's sheet key: SHEET_KEY if configured, else the secret key."""
    key = current_app.config.get("SHEET_KEY") or current_app.config["SECRET_KEY"]
    return key if isinstance(key, bytes) else str(key).encode()


def clinic_key(key: bytes, clinic_id: int) -> bytes:
    """One clinic's signing key."""
    return hmac.new(key, SHEET_KEY_MESSAGE + str(clinic_id).encode(), hashlib.sha256).digest()


def sign(key: bytes, sheet: SheetId) -> str:
    """The code printed on a sheet: its names, then 80 bits of HMAC in base32."""
    body = f"FP.C{sheet.clinic_id}.P{sheet.plan_id}.R{sheet.revision}.W{sheet.week}.G{sheet.page}"
    mac = hmac.new(clinic_key(key, sheet.clinic_id), body.encode(), hashlib.sha256).digest()
    return f"{body}.{base64.b32encode(mac[:10]).decode()}"


def verify(key: bytes, code: str) -> SheetId | None:
    """The sheet a code names when its signature holds, else None."""
    m = _CODE.fullmatch(code)
    if not m:
        return None
    sheet = SheetId(*(int(g) for g in m.groups()[:5]))
    return sheet if hmac.compare_digest(sign(key, sheet), code) else None


def sheet_codes(key: bytes, clinic_id: int, plan_id: int, revision: int) -> tuple:
    """Codes for every sheet page a handout of this plan can print: (week, page, code)."""
    return tuple(
        (week, page, sign(key, SheetId(clinic_id, plan_id, revision, week, page)))
        for week in WEEKS
        for page in range(PAGES)
    )
