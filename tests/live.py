"""A real gunicorn on loopback for the tests that need concurrent requests, and a browser-like
client for it: one copy, shared by the concurrency, race and sign-in-limit tests."""

from __future__ import annotations

import http.cookiejar
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from prescriptions import PROJECT_ROOT
from tests.factories import PASSWORD

BIN = Path(sys.executable).parent

needs_gunicorn = pytest.mark.skipif(
    shutil.which("gunicorn", path=str(BIN)) is None, reason="gunicorn is not installed"
)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


class Browser:
    """A cookie-keeping client that reads CSRF tokens from forms, as a browser would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(self, path: str, data: Mapping[str, Any] | None = None) -> tuple[int, str, str]:
        """(status, body, Location) of one request; redirects are not followed."""
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            location = error.headers.get("Location", "")
            return error.code, error.read().decode(errors="replace"), location

    def form(self, path: str) -> dict[str, str]:
        """The named inputs of the page's forms, with their values."""
        status, page, _ = self.request(path)
        assert status == 200, (path, status)
        return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))

    def login(self, email: str, password: str = PASSWORD) -> None:
        """Sign in through the form."""
        fields = self.form("/login")
        data = {"csrf_token": fields["csrf_token"], "email": email, "password": password}
        assert self.request("/login", data)[0] == 302


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment in threads; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def create_user(env: Mapping[str, str], email: str, clinic: str, role: str = "clinician") -> None:
    """An account made by the real command (on SQLite this also runs the migrations)."""
    subprocess.run(
        [BIN / "flask", "--app", "app", "create-user", "--email", email, "--name", email,
         "--role", role, "--clinic", clinic],
        cwd=PROJECT_ROOT, env=dict(env), check=True, capture_output=True,
    )  # fmt: skip


@contextmanager
def gunicorn(env: Mapping[str, str], *options: str) -> Iterator[str]:
    """gunicorn serving the app with these options; yields its address once /healthz answers.

    On the way out it stops the server and fails the test if any worker logged a traceback or
    "database is locked".
    """
    port = free_port()
    process = subprocess.Popen(
        [BIN / "gunicorn", *options, "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=PROJECT_ROOT, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded 2-core machine boots workers slowly
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=20)
        assert b"database is locked" not in errors
        assert b"Traceback" not in errors, errors.decode()[-3000:]
