"""Start-up cost: `from prescriptions import create_app; create_app()` in fresh interpreters.

    python bench/startup.py [--runs 15] [TREE ...]

Each run is a new interpreter in TREE (default: this checkout) on an already-migrated SQLite
database in a temporary instance folder; it prints the median and range of wall and CPU time
(CPU time moves less on a busy machine), and which heavy packages the start imported. Give two
trees (say a `git worktree` of an older commit and this one) to compare them: their runs alternate,
so a machine growing busier weighs on both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("fhir", "pydantic", "lxml", "yaml", "reportlab", "PIL", "numpy", "cv2")

PROBE = """
import json, sys, time
wall, cpu = time.perf_counter(), time.process_time()
from prescriptions import create_app
create_app()
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
heavy = sorted({name.split('.')[0] for name in sys.modules} & set(sys.argv[1].split(',')))
print(json.dumps({"wall": wall, "cpu": cpu, "heavy": heavy}))
"""


def run(tree: Path, instance: str) -> dict:
    """One fresh interpreter's start-up in `tree`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOORPLAN_")}
    env["FLOORPLAN_INSTANCE_PATH"] = instance
    done = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", PROBE, ",".join(HEAVY)],
        cwd=tree, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(values: list[float]) -> str:
    """Median and range in milliseconds."""
    ms = sorted(v * 1000 for v in values)
    return f"median {statistics.median(ms):.0f} ms (min {ms[0]:.0f}, max {ms[-1]:.0f})"


def main() -> None:
    """Measure each tree and print what was measured."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("trees", nargs="*", type=Path, default=[ROOT])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        instances = {tree: os.path.join(folder, str(i)) for i, tree in enumerate(args.trees)}
        for tree, instance in instances.items():
            run(tree, instance)  # the first start creates and migrates the database: not counted
        results: dict[Path, list[dict]] = {tree: [] for tree in args.trees}
        for _ in range(args.runs):
            for tree in args.trees:
                results[tree].append(run(tree, instances[tree]))
    print(f"create_app() in a fresh interpreter, {args.runs} runs, load {os.getloadavg()[0]:.1f}")
    for tree, runs in results.items():
        print(f"{tree}:")
        print(f"  wall {summary([r['wall'] for r in runs])}")
        print(f"  cpu  {summary([r['cpu'] for r in runs])}")
        print(f"  imports {', '.join(runs[0]['heavy']) or 'none of ' + ', '.join(HEAVY)}")


if __name__ == "__main__":
    main()
