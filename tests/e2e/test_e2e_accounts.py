"""Accounts in a real browser: two-factor enrolment with a code computed by pyotp, signing in with
codes and recovery codes (each refused the second time), and an admin-made reset link.

Runs on a server of its own. Every new page is checked with axe-core and photographed at 1366
and 390 px (artifacts/screenshots/accounts/); none may scroll sideways on the narrow screen.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import pytest

from tests.e2e.browsing import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AXE_JS,
    AXE_MISSING,
    BLOCKING_IMPACTS,
    SCREENSHOTS,
    PageAudit,
    Server,
    complete_setup,
    start_server,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

expect = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)"
).expect

WIDTHS = (1366, 390)
SHOTS = SCREENSHOTS / "accounts"
REFUSED = "That code is not right, or it was used already."
CLINICIAN_EMAIL = "ben@harbour.test"


class Looks:
    """axe-core findings, sideways scroll at 390 px and screenshots at 1366 and 390 px."""

    def __init__(self) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.axe = AXE_JS.read_text() if AXE_JS.exists() else None
        self.serious: dict[str, list[str]] = {}
        self.sideways: dict[str, tuple[int, int]] = {}
        self.seen: list[str] = []

    def check(self, page: Page, name: str) -> None:
        page.wait_for_load_state("load")
        self.seen.append(name)
        if self.axe is not None:
            found = PageAudit._axe(page, self.axe)  # noqa: SLF001 - the house's axe runner
            lines = [f"{v['id']}: {v['help']} at {v['nodes']}" for v in found]
            (SHOTS / f"{name}.axe.json").write_text(json.dumps(found, indent=1))
            blocking = [v for v in found if v["impact"] in BLOCKING_IMPACTS]
            if blocking:
                self.serious[name] = lines
        size = page.viewport_size
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner + 1:
            self.sideways[name] = (scroll, inner)
        if size:
            page.set_viewport_size(size)


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("accounts-instance"))
    yield running
    running.stop(keep_as="accounts")


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def _password(page: Page, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _code(page: Page, code: str) -> None:
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Sign in").click()


def _signed_in(page: Page) -> None:
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _scan(page: Page, tmp: Path) -> str | None:
    """Read the QR code on screen the way a phone would: from pixels (None without zxing)."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:
        return None
    shot = tmp / "qr.png"
    page.locator("svg.qr").screenshot(path=shot)
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(shot))]
    return found[0] if found else ""


def test_two_factor_and_reset_journey(own_server: Server, new_page: Any, tmp_path: Path) -> None:
    looks = Looks()
    page = new_page(own_server.url, width=WIDTHS[0])
    page.on("dialog", lambda dialog: dialog.accept())  # "Make a new reset link?" and the like
    page.goto("/setup")
    complete_setup(page)

    # --- enrol from the account page, with a code computed here by pyotp -------------------
    page.get_by_role("link", name="Ada Lovelace").click()
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_text("Signing in asks for your password only.")).to_be_visible()
    looks.check(page, "two-factor-off")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    looks.check(page, "enrol")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    scanned = _scan(page, tmp_path)
    if scanned is not None:  # the QR code on screen carries the same secret
        assert f"secret={secret}" in scanned and scanned.startswith("otpauth://totp/")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_text(REFUSED)).to_be_visible()
    looks.check(page, "enrol-refused")
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    looks.check(page, "recovery-codes")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    page.get_by_role("link", name="I have kept them. Continue").click()
    expect(page.get_by_text("10 of your 10 recovery codes are left.")).to_be_visible()
    looks.check(page, "two-factor-on")
    assert codes[0] not in page.content()  # shown once only

    # --- sign out, sign in with a code ------------------------------------------------------
    _sign_out(page)
    _password(page)
    expect(page.get_by_role("heading", name="Your code")).to_be_visible()
    looks.check(page, "code")
    code = totp.at(time.time() + 30)  # the next step's code: inside the window, not yet used
    _code(page, code)
    _signed_in(page)
    _sign_out(page)

    # --- the same code again is refused; a recovery code works once -------------------------
    _password(page)
    _code(page, code)
    expect(page.get_by_text(REFUSED)).to_be_visible()
    looks.check(page, "code-refused")
    _code(page, codes[0])
    _signed_in(page)
    expect(page.get_by_text("You used a recovery code; 9 are left.")).to_be_visible()
    _sign_out(page)
    _password(page)
    _code(page, codes[0])
    expect(page.get_by_text(REFUSED)).to_be_visible()
    _code(page, codes[1])
    _signed_in(page)

    # --- an admin-made reset link works once -------------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clinic").click()
    page.get_by_label("Name").fill("Ben Clinician")
    page.get_by_label("Email").fill(CLINICIAN_EMAIL)
    page.get_by_label("Role").select_option(label="Clinician")
    page.get_by_label("Password", exact=True).fill("first long passphrase for ben")
    page.get_by_label("Repeat the password").fill("first long passphrase for ben")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("Ben Clinician can now sign in")).to_be_visible()
    looks.check(page, "people")
    page.get_by_role("row", name=re.compile("Ben Clinician")).get_by_role(
        "button", name="Reset password"
    ).click()
    expect(page.get_by_role("heading", name=re.compile("A link for Ben Clinician"))).to_be_visible()
    looks.check(page, "reset-link")
    link = page.get_by_label("Reset link").input_value()
    assert link.startswith(own_server.url + "/reset/")

    ben = new_page(own_server.url, width=WIDTHS[0])
    ben.goto(link)
    expect(ben.get_by_role("heading", name="Choose a new password")).to_be_visible()
    looks.check(ben, "reset")
    ben.get_by_label("Password", exact=True).fill("short")
    ben.get_by_label("Repeat the password").fill("short")
    ben.get_by_role("button", name="Save the new password").click()
    expect(ben.get_by_text("Use at least 12 characters.")).to_be_visible()
    looks.check(ben, "reset-errors")
    new = "ben chose this long passphrase"
    ben.get_by_label("Password", exact=True).fill(new)
    ben.get_by_label("Repeat the password").fill(new)
    ben.get_by_role("button", name="Save the new password").click()
    expect(ben.get_by_text("Your new password is set")).to_be_visible()
    looks.check(ben, "login-after-reset")
    _password(ben, CLINICIAN_EMAIL, new)
    _signed_in(ben)
    ben.goto(link)
    expect(ben.get_by_role("heading", name="This link no longer works")).to_be_visible()
    looks.check(ben, "reset-gone")

    # --- the clinic requires a second factor: Ben enrols at his next sign-in ------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clinic").click()
    page.get_by_role("button", name="Require it for everyone").click()
    expect(page.get_by_text("Everyone now needs a second factor")).to_be_visible()
    _sign_out(ben)
    _password(ben, CLINICIAN_EMAIL, new)
    expect(ben.get_by_text("Your clinic asks everyone")).to_be_visible()
    looks.check(ben, "enrol-at-sign-in")
    ben_totp = pyotp.TOTP(ben.locator("#totp-secret").inner_text().replace(" ", ""))
    ben.get_by_label("Code from the app").fill(ben_totp.now())
    ben.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(ben.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    ben.get_by_role("link", name="I have kept them. Continue").click()
    _signed_in(ben)

    # --- and the admin resets Ben's second factor (a lost phone) ------------------------------
    page.reload()
    looks.check(page, "people-required")
    page.get_by_role("row", name=re.compile("Ben Clinician")).get_by_role(
        "button", name="Reset second factor"
    ).click()
    expect(page.get_by_text("second factor is removed")).to_be_visible()
    ben.reload()
    expect(ben.get_by_role("heading", name="Sign in")).to_be_visible()  # his session ended

    # --- the clinic's audit log shows the sign-in events --------------------------------------
    page.goto("/admin/audit?action=auth.")
    body = page.content()
    for action in (
        "auth.second_factor",
        "auth.second_factor_failed",
        "auth.two_factor_on",
        "auth.reset_made",
        "auth.reset_used",
        "auth.two_factor_reset",
        "auth.login",
    ):
        assert action in body, action
    page.goto("/admin/audit?action=clinic.")
    assert "clinic.two_factor" in page.content()

    if looks.axe is None:
        pytest.skip(AXE_MISSING)
    assert not looks.serious, looks.serious
    assert not looks.sideways, looks.sideways
    assert own_server.tracebacks() == ""
