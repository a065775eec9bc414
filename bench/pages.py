"""Page speed at scale: the demo clinic with 10,000 patients, pages timed through the test client.

Seeds `seed_demo(10000)` into a temporary SQLite database, and into a scratch PostgreSQL database
when 127.0.0.1:5432 answers, signs in as the demo clinician, then times each page after warm-up
(median and p95 in ms, SQL statements per request). Prints; asserts nothing; removes the SQLite
file and drops the scratch database when done.

Run from the repository root:  python bench/pages.py [--patients 10000] [--requests 50]
    [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--no-postgres]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from scratch import database_answers, scratch_database  # noqa: E402

from prescriptions import PROJECT_ROOT, create_app  # noqa: E402
from prescriptions.commands.demo import DEMO_EMAIL, seed_demo  # noqa: E402
from prescriptions.extensions import db  # noqa: E402
from prescriptions.models import LogEntry, Patient, Plan, PlanItem  # noqa: E402

PASSWORD = "bench demo password"  # noqa: S105 - a throwaway database's demo account
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def build_app(url: str) -> Flask:
    """The app on a database migrated to head, exactly as `flask db upgrade` leaves it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "AUTO_MIGRATE": False})
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
    return app


def seed(app: Flask, patients: int) -> float:
    """Seed the demo clinic; seconds taken (the commit included)."""
    with app.app_context():
        start = time.perf_counter()
        seed_demo(patients, PASSWORD)
        db.session.commit()
        elapsed = time.perf_counter() - start
        if db.engine.dialect.name == "postgresql":
            # autovacuum would analyse the freshly loaded tables within a minute; don't wait
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
    return elapsed


def sizes(app: Flask) -> str:
    """What the database holds, for the report."""
    with app.app_context():
        counts = {
            model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Patient, Plan, PlanItem, LogEntry)
        }
    return ", ".join(f"{n:,} {table}" for table, n in counts.items())


def sign_in(app: Flask) -> FlaskClient:
    """A test client signed in as the demo clinician through the real login form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"email": DEMO_EMAIL, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/login", data=data)
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed with status {response.status_code}")
    return client


def targets(app: Flask) -> dict[str, str]:
    """The pages to time: a patient in the middle of the list, and their current plan."""
    with app.app_context():
        ids = db.session.scalars(sa.select(Patient.id).order_by(Patient.id)).all()
        patient_id = ids[len(ids) // 2]
        plan_id = db.session.scalar(
            sa.select(Plan.id).where(Plan.patient_id == patient_id, Plan.status == "issued")
        )
    return {
        "patient list, first page": "/patients",
        "patient search 'nowak'": "/patients?q=nowak",
        "patient search by chart": "/patients?q=D000421",
        "patient record": f"/patients/{patient_id}",
        "plan page": f"/plans/{plan_id}",
        "handout PDF": f"/plans/{plan_id}/handout.pdf",
        "start page (/)": "/",
        "clinic outcomes": "/outcomes",
        "outcomes, one template": "/outcomes?template=strengthening",
    }


class Counter:
    """Counts SQL statements (transaction control excluded)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)", statement, re.I):
            self.n += 1


def time_page(
    app: Flask, client: FlaskClient, url: str, requests: int, warmup: int
) -> tuple[list[float], int, int]:
    """Times in ms of `requests` GETs after `warmup`, statements per request, last status."""
    status = 0
    for _ in range(warmup):
        status = client.get(url, follow_redirects=True).status_code
    counter = Counter()
    with app.app_context():
        engine = db.engine
    times = []
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        for _ in range(requests):
            start = time.perf_counter()
            status = client.get(url, follow_redirects=True).status_code
            times.append((time.perf_counter() - start) * 1000)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    return sorted(times), counter.n // max(1, requests), status


def run(label: str, url: str, args: argparse.Namespace) -> None:
    """Seed one database and print a line per page."""
    app = build_app(url)
    try:
        took = seed(app, args.patients)
        print(f"\n{label}: seed_demo({args.patients}) took {took:.1f} s ({sizes(app)})")
        client = sign_in(app)
        print(f"  {'page':<28} {'median':>8} {'p95':>8} {'SQL':>4}  status")
        for name, page in targets(app).items():
            times, statements, status = time_page(app, client, page, args.requests, args.warmup)
            p95 = times[max(0, int(round(len(times) * 0.95)) - 1)]
            print(
                f"  {name:<28} {statistics.median(times):6.1f}ms {p95:6.1f}ms "
                f"{statements:>4}  {status} {page}"
            )
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="a server's admin database")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    print(
        f"{args.requests} timed requests a page after {args.warmup} warm-up requests, "
        "through the Flask test client signed in as the demo clinician (redirects followed)"
    )
    if not args.no_sqlite:
        folder = tempfile.mkdtemp(prefix="floorplan-bench-")
        try:
            run("SQLite (temporary file)", f"sqlite:///{folder}/bench.sqlite", args)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.no_postgres:
        return
    if not database_answers(args.postgres_url):
        print(f"\nPostgreSQL: skipped, nothing answers at {urlsplit(args.postgres_url).netloc}")
        return
    with scratch_database(args.postgres_url, "floorplan_bench") as url:
        run(f"PostgreSQL (scratch database {sa.make_url(url).database})", url, args)


if __name__ == "__main__":
    main()
