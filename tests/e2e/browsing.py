"""Browser journeys: the real server, Chromium through Playwright, and the steps a person takes.

Plain helpers shared by the e2e modules (conftest.py holds the fixtures built on them).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the rest of the suite runs without it
    expect = sync_playwright = None

if TYPE_CHECKING:
    from playwright.sync_api import Page


ROOT = Path(__file__).resolve().parents[2]


E2E_DIR = Path(__file__).resolve().parent


CHROMIUM = Path("/usr/bin/chromium")


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


#: axe-core from the npm registry: `npm install --prefix .e2e-node axe-core@4` (git-ignored).
AXE_JS = ROOT / ".e2e-node" / "node_modules" / "axe-core" / "axe.min.js"


SCREENSHOTS = ROOT / "artifacts" / "screenshots"


SERVER_LOGS = ROOT / "artifacts" / "e2e-logs"


WIDE, NARROW = 1280, 375


BLOCKING_IMPACTS = ("serious", "critical")


#: The first administrator, made through /setup on each server.
CLINIC = "Harbour Pelvic Health"


ADMIN_NAME = "Ada Lovelace"


ADMIN_EMAIL = "ada@harbour.test"


ADMIN_PASSWORD = "tidal mosaic orchard 47"


def missing_requirement() -> str | None:
    """Why the browser tests can't run here, or None when they can."""
    if sync_playwright is None:
        return "Playwright for Python is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@dataclass
class Server:
    """A running `flask --app app run` on a loopback port with its own instance folder."""

    url: str  #: with the path prefix, if the server has one
    process: subprocess.Popen[bytes]
    log: Path
    instance: Path
    secret_key: str

    def stop(self, keep_as: str) -> None:
        """Stop the server (kill it if it lingers) and keep its log under artifacts/."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        SERVER_LOGS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.log, SERVER_LOGS / f"{keep_as}.log")

    def tracebacks(self) -> str:
        """What the server logged after a traceback, if anything ("never a 500")."""
        text = self.log.read_text(errors="replace")
        return text[text.find("Traceback") :] if "Traceback" in text else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    instance: Path, timeout: float = 30.0, *, secret_key: str = "", prefix: str = ""
) -> Server:
    """Start the real server on a fresh SQLite database and wait until /healthz answers.

    With a `prefix` it is gunicorn serving the site under that path (SCRIPT_NAME), as behind a
    proxy that forwards /floorplan/ to it; with the `secret_key` of another server on the same
    instance folder it serves that server's clinic, whose phone links then open here too.
    """
    instance.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    secret_key = secret_key or secrets.token_hex(32)
    # Nothing from the caller's FLOORPLAN_* settings (a server database, say) leaks in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOORPLAN_")}
    env |= {
        "FLOORPLAN_INSTANCE_PATH": str(instance),
        "FLOORPLAN_SECRET_KEY": secret_key,
        "PYTHONUNBUFFERED": "1",
    }
    log = instance / f"server{prefix.replace('/', '-')}.log"
    if prefix:
        env["SCRIPT_NAME"] = prefix
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", "1", "app:app"]
    else:
        command = [sys.executable, "-m", "flask", "--app", "app", "run"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}{prefix}", process, log, instance, secret_key)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:  # noqa: S310
                if json.load(response) == {"status": "ok", "database": "ok"}:
                    return server
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.1)
    server.stop(keep_as="failed-start")
    pytest.fail(f"The server did not become healthy:\n{log.read_text(errors='replace')[-3000:]}")


@dataclass
class PageAudit:
    """axe-core results, sideways-scroll measures and screenshots for each page visited."""

    axe_source: str | None  #: None when axe-core is not installed: screenshots only
    shots: Path
    violations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    overflow: dict[str, tuple[int, int]] = field(default_factory=dict)

    def check(self, page: Page, name: str) -> None:
        """Run axe on the page as it is, then screenshot it wide and narrow."""
        page.wait_for_load_state("load")
        if self.axe_source is not None:
            self.violations[name] = self._axe(page, self.axe_source)
            # Kept beside the screenshots for reading after a run, minor findings included.
            (self.shots / "axe.json").write_text(json.dumps(self.violations, indent=1))
        viewport = page.viewport_size or {"width": WIDE, "height": 900}
        page.set_viewport_size({"width": WIDE, "height": 900})
        page.screenshot(path=self.shots / f"{name}-{WIDE}.png", full_page=True)
        page.set_viewport_size({"width": NARROW, "height": 800})
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        self.overflow[name] = (int(scroll), int(inner))
        page.screenshot(path=self.shots / f"{name}-{NARROW}.png", full_page=True)
        page.set_viewport_size(viewport)

    @staticmethod
    def _axe(page: Page, source: str) -> list[dict[str, Any]]:
        # The app's CSP allows only script-src 'self', which blocks an injected <script>; a
        # DevTools evaluation is not subject to it, so the page keeps its real policy.
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(source)
        return page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ["violations"]});
                return r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
                }));
            }"""
        )

    def serious(self) -> dict[str, list[str]]:
        """Serious and critical violations by page, one readable line each."""
        found: dict[str, list[str]] = {}
        for name, violations in self.violations.items():
            lines = [
                f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['nodes'])}"
                for v in violations
                if v["impact"] in BLOCKING_IMPACTS
            ]
            if lines:
                found[name] = lines
        return found

    def scrolls_sideways(self) -> dict[str, tuple[int, int]]:
        """Pages wider than a 375 px screen: (scrollWidth, innerWidth)."""
        return {n: (s, w) for n, (s, w) in self.overflow.items() if s > w + 1}


AXE_MISSING = f"axe-core is not installed: npm install --prefix {AXE_JS.parents[2].name} axe-core@4"


def complete_setup(page: Page) -> None:
    """Fill the first-run form at /setup; the new administrator is signed in."""
    page.get_by_label("Clinic name").fill(CLINIC)
    page.get_by_label("Clinic phone").fill("+44 20 7946 0123")
    page.get_by_label("Paper size").select_option(label="A4")
    page.get_by_label("Your name").fill(ADMIN_NAME)
    page.get_by_label("Your email").fill(ADMIN_EMAIL)
    page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_label("Repeat the password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Create the clinic").click()
    page.get_by_role("button", name="Sign out").wait_for()


def sign_in(page: Page, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    """Sign in through the login form."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def add_patient(
    page: Page, given: str, family: str, chart: str, preferred: str = "", submit: bool = True
) -> None:
    """Fill the new-patient form from the patients list."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Add a patient", exact=True).click()
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Preferred name").fill(preferred)
    page.get_by_label("Chart number").fill(chart)
    page.get_by_label("Date of birth").fill("1968-03-14")
    page.get_by_role("radio", name="Female").check()
    page.get_by_role("checkbox", name="Stress urinary incontinence").check()
    if submit:
        page.get_by_role("button", name="Add patient").click()


def start_plan(page: Page, template: str = "Strengthening") -> int:
    """On the new-plan page, create a draft from a template; returns the plan id."""
    page.get_by_role("radio", name=re.compile(f"^{re.escape(template)}")).check()
    page.get_by_role("button", name="Create draft").click()
    page.get_by_role("heading", name="Edit the plan").wait_for()
    match = re.search(r"/plans/(\d+)/edit", page.url)
    assert match, page.url
    return int(match.group(1))


def issue_plan(page: Page) -> None:
    """On a draft's page, tick every warning and issue the plan.

    Waits for the issue button first: a click that saved the draft may still be loading its page,
    and ticking before it has come finds no boxes (the plan is then refused for an unticked
    warning, as CI once saw).
    """
    button = page.get_by_role("button", name="Issue the plan")
    expect(button).to_be_visible()
    for box in page.locator("#issue").get_by_role("checkbox").all():
        box.check()
    button.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Issued")


#: The two widths every page is looked at: a laptop and a phone.
DESKTOP, PHONE = 1366, 390


def look_at_both_widths(page: Page, name: str) -> None:
    """axe at both widths (nothing serious), no sideways scroll on a phone, two screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("load")
    source = AXE_JS.read_text() if AXE_JS.exists() else None
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        if source is not None:
            serious = [
                f"{v['id']} at {v['nodes']}"
                for v in PageAudit._axe(page, source)  # noqa: SLF001 - the suite's own runner
                if v["impact"] in BLOCKING_IMPACTS
            ]
            assert serious == [], (name, width, serious)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert scroll <= inner + 1, (name, width, scroll, inner)
        page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": DESKTOP, "height": 900})
