"""Load on loopback: gunicorn with 4 workers on PostgreSQL, driven by a small thread pool.

Creates a scratch PostgreSQL database, runs `flask --app app db upgrade` and
`flask --app app seed-demo --patients 500` against it, starts `gunicorn -w 4` on a free
127.0.0.1 port, waits for /healthz, then drives a fixed number of requests per scenario with
8 threads:

- patient list: GET /patients?page=N, rotating through the pages;
- plan page: GET /plans/<id>, rotating through the demo's issued plans;
- handout: GET /plans/<id>/handout.pdf (each one renders a PDF and writes an audit row);
- login: a fresh client each time: GET /login for its CSRF token, then the timed POST.

The read scenarios share 8 clients (one a thread), each signed in once through the real form.
Prints per scenario: requests, errors (a status outside 2xx/3xx, an exception, or a login that did
not sign in), throughput (req/s over the scenario's wall time) and p50/p95 latency in ms. Asserts
nothing. Everything, setup included, stays within the time budget (60 s by default): each
scenario gets a fair share of the time left and stops early when its share runs out. gunicorn is
stopped and the scratch database dropped in `finally`. Only 127.0.0.1 is contacted.

Run from the repository root:  python bench/load.py [--requests 400] [--threads 8]
    [--patients 500] [--budget 60] [--server-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import IO
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from scratch import database_answers, free_port, gunicorn, scratch_database, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEMO_EMAIL = "demo@floorplan.test"  # prescriptions.demo.DEMO_EMAIL
TEARDOWN_RESERVE_S = 4.0  #: kept back from the budget for stopping gunicorn and dropping the db


# --- a minimal HTTP client with a cookie jar (one per simulated browser) ----------------------


class Client:
    """One browser: its own cookies; a new loopback connection per request (sync workers)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, bytes]:
        """(status, Location header, body)."""
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie: SimpleCookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    if morsel.value and morsel["max-age"] not in ("0",):
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            return response.status, response.headers.get("Location", ""), data
        finally:
            connection.close()


TOKEN = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


def sign_in(client: Client, password: str) -> tuple[int, str, float]:
    """GET the form for its CSRF token, then POST it; (status, location, POST time in ms)."""
    status, _, page = client.request("GET", "/login")
    match = TOKEN.search(page)
    if status != 200 or match is None:
        return status, "", 0.0
    form = {"email": DEMO_EMAIL, "password": password, "csrf_token": match.group(1).decode()}
    start = time.perf_counter()
    status, location, _ = client.request("POST", "/login", form)
    return status, location, (time.perf_counter() - start) * 1000


def signed_in(status: int, location: str) -> bool:
    return status == 302 and "/login" not in location


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    planned: int
    times_ms: list[float] = field(default_factory=list)
    errors: int = 0
    throttled: int = 0  #: 429s: the login rate limiter answered
    wall_s: float = 0.0
    stopped_early: bool = False
    samples: list[str] = field(default_factory=list)  #: a few error descriptions

    def line(self) -> str:
        done = len(self.times_ms)
        if not done:
            return f"{self.name:<14} {done:>5}/{self.planned:<5} (none completed)"
        times = sorted(self.times_ms)
        p95 = times[max(0, math.ceil(len(times) * 0.95) - 1)]
        rate = done / self.wall_s if self.wall_s else 0.0
        note = "  (time budget ran out)" if self.stopped_early else ""
        return (
            f"{self.name:<14} {done:>5}/{self.planned:<5} {self.errors:>6} {rate:>9.1f} "
            f"{statistics.median(times):>8.1f} {p95:>8.1f}{note}"
        )


def drive(
    name: str,
    requests: int,
    threads: int,
    deadline: float,
    one: Callable[[int], tuple[bool, float, str]],
) -> Result:
    """Run `one(i)` for i in range(requests) on a thread pool until done or the deadline."""
    result = Result(name, requests)
    lock = threading.Lock()

    def task(i: int) -> None:
        if time.monotonic() >= deadline:
            result.stopped_early = True
            return
        try:
            ok, ms, problem = one(i)
        except Exception as error:  # a refused or dropped connection is an error, not a crash
            ok, ms, problem = False, 0.0, repr(error)
        with lock:
            result.times_ms.append(ms)
            if not ok:
                result.errors += 1
                if "429" in problem:
                    result.throttled += 1
                if len(result.samples) < 3:
                    result.samples.append(problem)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(task, range(requests)))
    result.wall_s = time.monotonic() - start
    return result


def timed_get(client: Client, path: str) -> tuple[bool, float, str]:
    start = time.perf_counter()
    status, _, _ = client.request("GET", path)
    ms = (time.perf_counter() - start) * 1000
    return 200 <= status < 400, ms, f"{status} {path}"


# --- the scratch database and the server ---------------------------------------------------------


def flask(env: dict[str, str], *args: str) -> None:
    """Run a `flask --app app ...` command; raise with its output when it fails."""
    command = [sys.executable, "-m", "flask", "--app", "app", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def tail(log: IO[bytes], lines: int = 15) -> str:
    log.flush()
    log.seek(0)
    return "\n".join(log.read().decode(errors="replace").splitlines()[-lines:])


# --- the run -----------------------------------------------------------------------------------


def run(args: argparse.Namespace, url: str, workdir: Path, started: float) -> None:
    budget_end = started + args.budget - TEARDOWN_RESERVE_S
    password = "load bench " + secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "FLOORPLAN_SQLALCHEMY_DATABASE_URI": url,
        "FLOORPLAN_SECRET_KEY": "k" + secrets.token_urlsafe(32),
        "FLOORPLAN_INSTANCE_PATH": str(workdir / "instance"),
    }
    step = time.monotonic()
    flask(env, "db", "upgrade")
    flask(env, "seed-demo", "--patients", str(args.patients), "--password", password)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
            plans = list(
                connection.scalars(
                    sa.text("SELECT id FROM plan WHERE status = 'issued' ORDER BY id LIMIT 200")
                )
            )
            patients = connection.scalar(sa.text("SELECT count(*) FROM patient")) or 0
    finally:
        engine.dispose()
    pages = max(1, math.ceil(patients / 25))
    print(f"migrated and seeded {patients} patients, {len(plans)} issued plans sampled "
          f"in {time.monotonic() - step:.1f} s")  # fmt: skip
    if not plans:
        raise RuntimeError("the demo seed made no issued plans")

    port = free_port()
    with (
        open(workdir / "gunicorn.log", "w+b") as log,
        gunicorn(env, args.workers, port, log) as server,
    ):
        step = time.monotonic()
        wait_healthy(port, server, min(budget_end, step + 30))
        log.flush()
        log.seek(0)
        for listening in re.findall(rb"Listening at: \S+", log.read()):
            print(f"gunicorn: {listening.decode()}")
        print(f"gunicorn -w {args.workers} on {HOST}:{port} healthy in "
              f"{time.monotonic() - step:.1f} s")  # fmt: skip
        results = scenarios(args, port, password, plans, pages, budget_end)
        print()
        print(f"{'scenario':<14} {'done/planned':>11} {'errors':>6} {'req/s':>9} "
              f"{'p50 ms':>8} {'p95 ms':>8}")  # fmt: skip
        for result in results:
            print(result.line())
        for result in results:
            for sample in result.samples:
                print(f"  {result.name} error, e.g.: {sample}")
            if result.throttled:
                print(f"  {result.name}: the login rate limiter answered 429 "
                      f"{result.throttled} times")  # fmt: skip
        if any(r.errors for r in results):
            print("gunicorn log (last lines):\n" + tail(log))


def scenarios(
    args: argparse.Namespace,
    port: int,
    password: str,
    plans: list[int],
    pages: int,
    budget_end: float,
) -> list[Result]:
    """Sign in one client per thread, warm up, then run the four scenarios in turn."""
    clients = [Client(port) for _ in range(args.threads)]
    for client in clients:
        status, location, _ = sign_in(client, password)
        if not signed_in(status, location):
            raise RuntimeError(f"the demo clinician could not sign in (status {status})")
    local = threading.local()
    handed = iter(clients)
    hand_lock = threading.Lock()

    def mine() -> Client:
        """The calling thread's own signed-in client."""
        if not hasattr(local, "client"):
            with hand_lock:
                local.client = next(handed)
        return local.client  # type: ignore[no-any-return]

    for client in clients:  # warm every worker's connections and templates
        client.request("GET", "/patients")
        client.request("GET", f"/plans/{plans[0]}")
        client.request("GET", f"/plans/{plans[0]}/handout.pdf")

    def login(i: int) -> tuple[bool, float, str]:
        status, location, ms = sign_in(Client(port), password)
        return signed_in(status, location), ms, f"{status} -> {location or '(no redirect)'}"

    def plan(i: int) -> int:
        return plans[i % len(plans)]

    runs: list[tuple[str, Callable[[int], tuple[bool, float, str]]]] = [
        ("patient list", lambda i: timed_get(mine(), f"/patients?page={i % pages + 1}")),
        ("plan page", lambda i: timed_get(mine(), f"/plans/{plan(i)}")),
        ("handout", lambda i: timed_get(mine(), f"/plans/{plan(i)}/handout.pdf")),
        ("login", login),
    ]
    results = []
    for left, (name, one) in zip(range(len(runs), 0, -1), runs, strict=True):
        share = max(0.0, budget_end - time.monotonic()) / left
        handed = iter(clients)
        local = threading.local()
        results.append(drive(name, args.requests, args.threads, time.monotonic() + share, one))
    return results


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="per scenario")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for everything")
    parser.add_argument("--server-url", default=SERVER_URL, help="a server's admin database")
    args = parser.parse_args()
    started = time.monotonic()
    if urlsplit(args.server_url.replace("+psycopg", "")).hostname not in (HOST, "localhost"):
        sys.exit("Refusing: this bench only talks to a database on 127.0.0.1.")
    if not database_answers(args.server_url):
        print(f"SKIPPED: PostgreSQL does not answer at {args.server_url}; start it and run again.")
        return
    print(f"{args.requests} requests per scenario, {args.threads} threads, "
          f"budget {args.budget:.0f} s")  # fmt: skip
    try:
        with (
            scratch_database(args.server_url, "floorplan_load") as url,
            tempfile.TemporaryDirectory(prefix="floorplan-load-") as workdir,
        ):
            run(args, url, Path(workdir), started)
    finally:
        print(f"dropped the scratch database; total {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
