"""Handout render speed: warm median, cold first render, size and pages. Prints; asserts nothing.

The handout is the demo clinic's: `seed-demo` into a temporary SQLite database, then the first
issued plan, built into a snapshot exactly as the handout endpoint does (`--source sample` uses
the renderer's own sample instead).

Run from the repository root:  python bench/handout.py [--renders 50] [--large-print] [--paper a4]
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pdf import HandoutOptions, HandoutSnapshot, render_handout  # noqa: E402
from pdf.sample import sample_snapshot  # noqa: E402

# Runs in a fresh interpreter: the import (fonts are registered lazily, on first render) and the
# first render, timed separately.
COLD = """
import json, sys, time
sys.path.insert(0, {root!r})
import pickle
t0 = time.perf_counter()
from pdf import HandoutOptions, render_handout
t1 = time.perf_counter()
with open({snapshot!r}, "rb") as file:
    snapshot = pickle.load(file)
t1b = time.perf_counter()
render_handout(snapshot, HandoutOptions(paper={paper!r}, large_print={large!r}))
t2 = time.perf_counter()
print(json.dumps({{"import_ms": (t1 - t0) * 1000, "first_ms": (t2 - t1b) * 1000}}))
"""


def page_count(pdf: bytes) -> int:
    """Count page objects (ReportLab writes no object streams, so a scan is enough)."""
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def demo_snapshot(folder: str) -> HandoutSnapshot:
    """The demo clinic's first issued plan, as the handout endpoint would print it."""
    import sqlalchemy as sa

    from prescriptions import create_app
    from prescriptions.commands.demo import seed_demo
    from prescriptions.exercises.queries import fetch_clinic_exercises
    from prescriptions.extensions import db
    from prescriptions.mapping.handouts import handout_snapshot
    from prescriptions.mapping.plans import catalogue_of
    from prescriptions.models import Clinic, Plan
    from prescriptions.plans.queries import fetch_plan

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "SECRET_KEY": "bench"}
    )
    with app.app_context():
        result = seed_demo(12, "bench demo password")
        db.session.commit()
        plan_id = db.session.scalar(
            sa.select(Plan.id).where(Plan.status == "issued").order_by(Plan.id).limit(1)
        )
        plan = fetch_plan(result.clinic_id, plan_id)
        clinic = db.session.get(Clinic, result.clinic_id)
        snapshot = handout_snapshot(plan, clinic, catalogue_of(fetch_clinic_exercises(clinic.id)))
        db.session.remove()
        db.engine.dispose()
        return snapshot


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--paper", choices=("a4", "letter"), default="a4")
    parser.add_argument("--large-print", action="store_true")
    parser.add_argument("--source", choices=("demo", "sample"), default="demo")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="floorplan-bench-") as folder:
        measure(args, folder)


def measure(args: argparse.Namespace, folder: str) -> None:
    """Build the snapshot in `folder`, render it cold and warm, and print the figures."""
    options = HandoutOptions(paper=args.paper, large_print=args.large_print)
    snapshot = demo_snapshot(folder) if args.source == "demo" else sample_snapshot()
    pickled = Path(folder) / "snapshot.pickle"
    pickled.write_bytes(pickle.dumps(snapshot))

    cold_code = COLD.format(
        root=str(ROOT), paper=args.paper, large=args.large_print, snapshot=str(pickled)
    )
    out = subprocess.run(
        [sys.executable, "-c", cold_code], check=True, capture_output=True, text=True
    )
    cold = json.loads(out.stdout)

    for _ in range(args.warmup):
        pdf = render_handout(snapshot, options)
    times = []
    for _ in range(args.renders):
        start = time.perf_counter()
        pdf = render_handout(snapshot, options)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()

    print(
        f"handout: {args.source} ({snapshot.chart_number}, {len(snapshot.exercises)} exercises), "
        f"{args.paper}, {'large' if args.large_print else 'normal'} print"
    )
    print(f"pages: {page_count(pdf)}")
    print(f"bytes: {len(pdf)} ({len(pdf) / 1024:.1f} KiB)")
    print(
        f"warm: median {statistics.median(times):.1f} ms over {args.renders} renders "
        f"(min {times[0]:.1f}, p90 {times[int(len(times) * 0.9) - 1]:.1f}, "
        f"max {times[-1]:.1f}) after {args.warmup} warm-up renders"
    )
    print(
        f"cold: first render {cold['first_ms']:.1f} ms in a fresh process "
        f"(import {cold['import_ms']:.1f} ms before it)"
    )


if __name__ == "__main__":
    main()
