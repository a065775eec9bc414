"""Two app servers, one database: a session started on server A works on server B.

Starts two gunicorn instances (2 workers each, free loopback ports, this repository's
gunicorn.conf.py) on one scratch PostgreSQL database migrated with `flask db upgrade`, creates a
clinic and clinician with `flask create-user`, signs in on A through the login form, adds a
patient and a plan through A's forms, then checks with the same cookies that B serves both pages,
and that signing out on B ends the session on A too. Prints PASS/FAIL lines; at most 60 s; stops
the servers and drops the database however it ends.

Run from the repository root:  python bench/two_servers.py
    [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa
from scratch import database_answers, free_port, scratch_database

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BUDGET_S = 60.0
EMAIL = "two.servers@floorplan.test"
PASSWORD = "two servers share one database"  # noqa: S105 - a throwaway scratch account


class Deadline:
    """The run's time budget; every wait takes what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self, cap: float = 10.0) -> float:
        """Seconds left, at most `cap`; raises once the budget is spent."""
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"over the {BUDGET_S:.0f} s budget")
        return min(cap, remaining)


def flask(args: list[str], env: dict[str, str], deadline: Deadline) -> str:
    """Run a `flask --app app` command; its output, or an error naming what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=deadline.left(30),
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed: {result.stderr.strip()[-500:]}")
    return result.stdout.strip()


@dataclass
class Server:
    """One gunicorn instance."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def gunicorn(name: str, env: dict[str, str], folder: Path) -> Iterator[Server]:
    """A gunicorn instance with 2 workers on a free loopback port, stopped on exit."""
    port = free_port()
    log = folder / f"gunicorn-{name}.log"
    # gunicorn 25.1+ opens a control socket at $XDG_RUNTIME_DIR/gunicorn.ctl: one each
    runtime = folder / f"run-{name}"
    runtime.mkdir(mode=0o700)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "2", "app:app"],
            cwd=ROOT,
            env={**env, "XDG_RUNTIME_DIR": str(runtime)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Server(name, port, process, log)
    finally:
        process.send_signal(signal.SIGTERM)  # graceful: the arbiter stops its workers
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(f"cleanup: stopped server {name} (port {port}, exit {process.returncode})")


def wait_healthy(server: Server, deadline: Deadline) -> None:
    """Poll /healthz until it answers 200."""
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"server {server.name} exited: {server.log.read_text()[-800:]}")
        try:
            with urllib.request.urlopen(f"{server.base}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:  # not listening yet, or still starting its workers
            pass
        deadline.left()
        time.sleep(0.2)


class Hidden(HTMLParser):
    """The hidden inputs of a page (CSRF token, one-time form token, row version)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.values[str(found["name"])] = found.get("value") or ""


class Browser:
    """One cookie jar, used against either server, as a browser behind a balancer would."""

    def __init__(self, deadline: Deadline) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.deadline = deadline

    def open(self, url: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        """GET (or POST `data`), following redirects: status, final URL, body."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, body, timeout=self.deadline.left()) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode(errors="replace")

    def submit(self, url: str, fields: dict[str, str]) -> tuple[int, str, str]:
        """Open a form page, then post it back with its hidden fields and `fields`."""
        _, _, page = self.open(url)
        parser = Hidden()
        parser.feed(page)
        return self.open(url, {**parser.values, **fields})


RESULTS: list[bool] = []


def check(ok: bool, what: str, saw: str) -> None:
    """Print one PASS/FAIL line with what was seen."""
    RESULTS.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}  {what}: {saw}")


def run(server_url: str) -> None:
    """Set up both servers and walk through the checks."""
    deadline = Deadline(BUDGET_S)
    with ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="floorplan-two-"))
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        url = stack.enter_context(scratch_database(server_url, "floorplan_two"))
        env = {
            **os.environ,
            "FLOORPLAN_SQLALCHEMY_DATABASE_URI": url,
            # identical on every server: any of them must read the others' cookies and audit rows
            "FLOORPLAN_SECRET_KEY": secrets.token_urlsafe(48),
            "FLOORPLAN_AUDIT_KEY": secrets.token_urlsafe(48),
            "FLOORPLAN_INSTANCE_PATH": str(folder / "instance"),  # no local config, no SQLite
            "FLOORPLAN_AUTO_MIGRATE": "false",
            "WEB_CONCURRENCY": "2",
        }
        env.pop("FLOORPLAN_ENV_NAME", None)  # production cookies are Secure: not sent over http
        print(f"database: {sa.make_url(url).database} (scratch)")
        flask(["db", "upgrade"], env, deadline)
        print("migrated: flask db upgrade")
        created = flask(
            ["create-user", "--email", EMAIL, "--name", "Dr Two Servers", "--role", "clinician"]
            + ["--clinic", "Two Servers Clinic"],
            {**env, "FLOORPLAN_NEW_PASSWORD": PASSWORD},
            deadline,
        )
        print(f"create-user: {created}")
        a = stack.enter_context(gunicorn("A", env, folder))
        b = stack.enter_context(gunicorn("B", env, folder))
        for server in (a, b):
            wait_healthy(server, deadline)
        print(f"servers: A on {a.base}, B on {b.base} (2 workers each, healthz 200)")
        try:
            walk(a, b, Browser(deadline))
        finally:
            if not all(RESULTS):
                for server in (a, b):
                    print(f"--- server {server.name} log (tail)\n{server.log.read_text()[-1500:]}")


def walk(a: Server, b: Server, browser: Browser) -> None:
    """Sign in on A, write on A, read on B, sign out on B, replay the old cookie on A."""
    status, where, _ = browser.submit(f"{a.base}/login", {"email": EMAIL, "password": PASSWORD})
    signed_in = status == 200 and "/login" not in where
    check(signed_in, "sign in on A", f"{status} at {urllib.parse.urlsplit(where).path}")
    if not signed_in:
        return
    status, where, page = browser.submit(
        f"{a.base}/patients/new",
        {"given_name": "Ada", "family_name": "Twoserver", "chart_number": "TS-001",
         "cue_set": "female", "diagnoses": "stress_ui"},
    )  # fmt: skip
    found = re.search(r"/patients/(\d+)$", urllib.parse.urlsplit(where).path)
    check(bool(found), "add a patient on A", f"{status} at {urllib.parse.urlsplit(where).path}")
    if not found:
        return
    patient_id = int(found.group(1))
    status, where, page = browser.submit(
        f"{a.base}/patients/{patient_id}/plans/new",
        {"template": "strengthening", "start_date": date.today().isoformat()},
    )
    found = re.search(r"/plans/(\d+)/edit$", urllib.parse.urlsplit(where).path)
    check(bool(found), "start a plan on A", f"{status} at {urllib.parse.urlsplit(where).path}")
    if not found:
        return
    plan_id = int(found.group(1))

    status, where, page = browser.open(f"{b.base}/patients/{patient_id}")
    path = urllib.parse.urlsplit(where).path
    check(
        status == 200 and path == f"/patients/{patient_id}" and "Twoserver" in page,
        "B serves the patient page with A's session",
        f"{status} at {path}, name {'shown' if 'Twoserver' in page else 'missing'}",
    )
    status, where, page = browser.open(f"{b.base}/plans/{plan_id}")
    path = urllib.parse.urlsplit(where).path
    shown = "Week 4" in page and "Twoserver" in page
    check(
        status == 200 and path == f"/plans/{plan_id}" and shown,
        "B serves the plan page with A's session",
        f"{status} at {path}, four weeks and patient {'shown' if shown else 'missing'}",
    )

    old_cookies = list(browser.jar)
    _, _, page = browser.open(f"{b.base}/patients")  # every page's sign-out form has the token
    parser = Hidden()
    parser.feed(page)
    status, where, _ = browser.open(f"{b.base}/logout", {"csrf_token": parser.values["csrf_token"]})
    check("/login" in where, "sign out on B", f"{status} at {urllib.parse.urlsplit(where).path}")
    for cookie in old_cookies:  # a copy of the cookie from before sign-out, replayed on A
        browser.jar.set_cookie(cookie)
    status, where, _ = browser.open(f"{a.base}/patients/{patient_id}")
    path = urllib.parse.urlsplit(where).path
    check(
        path == "/login",
        "A refuses the pre-sign-out cookie (session counter in the database)",
        f"{status} at {path}",
    )


def main() -> None:
    """Run and print; exit 1 when a check failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="a server's admin database")
    args = parser.parse_args()
    if not database_answers(args.postgres_url):
        print(f"SKIP  no PostgreSQL answers at {sa.make_url(args.postgres_url).host}")
        return
    started = time.monotonic()
    try:
        run(args.postgres_url)
    except Exception as error:  # report, after the cleanup above has run
        check(False, "run", f"{type(error).__name__}: {error}")
    print(f"{'PASS' if all(RESULTS) else 'FAIL'}  overall in {time.monotonic() - started:.1f} s")
    sys.exit(0 if RESULTS and all(RESULTS) else 1)


if __name__ == "__main__":
    main()
