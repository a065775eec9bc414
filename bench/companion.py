"""The patient's companion under load: 200 patients logging at once on gunicorn + PostgreSQL.

Creates a scratch PostgreSQL database, runs `flask --app app db upgrade`, seeds one clinic with
N patients (default 200), each on an issued plan that started yesterday and with a live phone
link, starts `gunicorn -w 4` on a free 127.0.0.1 port, then lets every patient, on a bounded
pool of threads (default 32), do what a phone does in a day:

    GET /p/<token>                          today's page (its form key and a fresh tap key)
    POST /p/<token>/tap   key A             a session done, and at the same moment
    POST /p/<token>/tap   key A again       the same tap retried (a flaky network)
    POST /p/<token>/tap   key B             a second session
    POST /p/<token>/day   key C             the rest of the day's sheet

and then checks the database: each patient's day must hold exactly 2 sessions (fewer: a lost
log; more: a doubled one), its leaks as sent, and one audit row per counted write. Prints the
requests, errors, throughput (req/s over the wall time) and p50/p95 latency per kind of request
and overall. All patients share 127.0.0.1, so the per-address limit is raised for the run (the
per-link limit stays as configured). gunicorn is stopped and the scratch database dropped in
`finally`. Only 127.0.0.1 is contacted.

Run from the repository root:  python bench/companion.py [--patients 200] [--threads 32]
    [--workers 4] [--server-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from scratch import database_answers, free_port, gunicorn, scratch_database, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def request(port: int, method: str, path: str, form: dict[str, str] | None = None):
    """(status, body, milliseconds) of one request on a fresh loopback connection."""
    headers = {"Host": f"{HOST}:{port}"}
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    start = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, data, (time.perf_counter() - start) * 1000
    finally:
        connection.close()


def seed(url: str, secret: str, patients: int) -> list[str]:
    """One clinic, N patients on issued plans that started yesterday, a link each: the tokens."""
    from prescriptions import create_app
    from prescriptions.accounts.operations import create_clinic, create_user
    from prescriptions.audit import SYSTEM, Actor
    from prescriptions.companion.operations import issue_link
    from prescriptions.companion.tokens import link_key, token_for
    from prescriptions.domain.progression import BUILTIN_TEMPLATES, propose_items
    from prescriptions.extensions import db
    from prescriptions.patients.operations import create_patient
    from prescriptions.plans.operations import create_plan, issue_plan

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret, "AUTO_MIGRATE": False})
    key = link_key(secret)
    tokens = []
    with app.app_context():
        clinic = create_clinic("Bench Clinic", phone="+44 1")
        user = create_user(clinic, email="bench@clinic.test", name="Bench", role="clinician",
                           password=secrets.token_urlsafe(16))  # fmt: skip
        by = Actor(user)
        template = BUILTIN_TEMPLATES["strengthening"]
        items = propose_items(template, None)
        for n in range(patients):
            patient = create_patient(
                clinic.id, SYSTEM, given_name=f"P{n}", family_name="Bench", preferred_name="",
                date_of_birth=None, chart_number=f"B{n:05d}", cue_set="female",
                diagnoses=["stress_ui"], precautions=[], phone="", email="", address="", notes="",
            )  # fmt: skip
            plan = create_plan(patient, template, items, by, start=date.today() - timedelta(days=1))
            issue_plan(plan, by, [])
            link = issue_link(patient, key, by, None)
            tokens.append(token_for(key, link.nonce))
            if n % 50 == 49:
                db.session.commit()
        db.session.commit()
        db.engine.dispose()
    return tokens


FORM = re.compile(rb'name="form_key" value="([^"]+)"')


def patient_day(port: int, token: str) -> list[tuple[str, int, float]]:
    """One phone's day; (kind, status, ms) of each request."""
    out = []
    status, body, ms = request(port, "GET", f"/p/{token}")
    out.append(("today", status, ms))
    found = FORM.search(body)
    if not found:
        return out
    form_key = found[1].decode()
    first = {"form_key": form_key, "key": uuid.uuid4().hex}
    # the tap and its retry arrive at the same moment (a phone resending on a flaky network)
    with ThreadPoolExecutor(2) as twins:
        sent = list(twins.map(lambda _: request(port, "POST", f"/p/{token}/tap", first), (0, 1)))
    out += [("tap", sent[0][0], sent[0][2]), ("tap retried", sent[1][0], sent[1][2])]
    second = {"form_key": form_key, "key": uuid.uuid4().hex}
    status, _, ms = request(port, "POST", f"/p/{token}/tap", second)
    out.append(("tap", status, ms))
    day = {"form_key": form_key, "key": uuid.uuid4().hex, "leaks": "1", "pain": "2"}
    status, _, ms = request(port, "POST", f"/p/{token}/day", day)
    out.append(("day", status, ms))
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values or [0])[0]


def run(args: argparse.Namespace, url: str, workdir: Path) -> None:
    secret = "k" + secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "FLOORPLAN_SQLALCHEMY_DATABASE_URI": url,
        "FLOORPLAN_SECRET_KEY": secret,
        "FLOORPLAN_INSTANCE_PATH": str(workdir / "instance"),
        # every simulated phone is 127.0.0.1: the per-address limit would stop the bench itself
        "FLOORPLAN_COMPANION_LIMIT_PER_ADDRESS": "1000000",
    }
    step = time.monotonic()
    upgrade = [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"]
    done = subprocess.run(upgrade, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(done.stderr)
    tokens = seed(url, secret, args.patients)
    print(
        f"migrated and seeded {len(tokens)} patients with links in {time.monotonic() - step:.1f} s"
    )
    port = free_port()
    with open(workdir / "gunicorn.log", "w+b") as log:
        with gunicorn(env, args.workers, port, log) as server:
            wait_healthy(port, server, time.monotonic() + 60)
            request(port, "GET", "/p")  # warm a worker
            started = time.perf_counter()
            with ThreadPoolExecutor(args.threads) as pool:
                days = list(pool.map(lambda t: patient_day(port, t), tokens))
            wall = time.perf_counter() - started
        log.seek(0)
        tracebacks = log.read().count(b"Traceback")
    every = [r for day in days for r in day]
    errors = [r for r in every if r[1] >= 400 or r[1] == 0]
    print(f"\n{args.patients} patients, {args.threads} threads, gunicorn -w {args.workers}, "
          f"PostgreSQL; wall {wall:.2f} s")  # fmt: skip
    print(f"{'request':<12} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for kind in ("today", "tap", "tap retried", "day"):
        ms = [r[2] for r in every if r[0] == kind]
        bad = sum(1 for r in every if r[0] == kind and r[1] >= 400)
        print(f"{kind:<12} {len(ms):>6} {bad:>6} {statistics.median(ms):>8.1f} {p95(ms):>8.1f}")
    all_ms = [r[2] for r in every]
    print(f"{'all':<12} {len(all_ms):>6} {len(errors):>6} {statistics.median(all_ms):>8.1f} "
          f"{p95(all_ms):>8.1f}   throughput {len(all_ms) / wall:.1f} req/s")  # fmt: skip
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            counts = connection.execute(
                sa.text("SELECT sessions_done, leaks FROM log_entry WHERE day = :d"),
                {"d": date.today()},
            ).all()
            audited = connection.scalar(
                sa.text("SELECT count(*) FROM audit_event WHERE action = 'companion.session'")
            )
    finally:
        engine.dispose()
    lost = args.patients - sum(1 for c in counts if c.sessions_done >= 2)
    doubled = sum(1 for c in counts if c.sessions_done > 2)
    print(f"log days {len(counts)}; lost logs {lost}; doubled logs {doubled}; "
          f"session audit rows {audited} (expected {2 * args.patients}); "
          f"day sheets with leaks {sum(1 for c in counts if c.leaks == 1)}; "
          f"worker tracebacks {tracebacks}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--server-url", default=os.environ.get("BENCH_SERVER_URL", SERVER_URL))
    args = parser.parse_args()
    if not database_answers(args.server_url):
        sys.exit(f"PostgreSQL does not answer at {args.server_url}")
    with (
        tempfile.TemporaryDirectory() as tmp,
        scratch_database(args.server_url, "companion") as url,
    ):
        run(args, url, Path(tmp))


if __name__ == "__main__":
    main()
