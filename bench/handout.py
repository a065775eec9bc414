"""Handout speed: the endpoint, the renderer alone and a plain platypus peer build, in one run.

Seeds the demo clinic into a temporary SQLite database, signs in through Flask's test client and
times `GET /plans/<id>/handout.pdf` (fetch, snapshot, render, audit row, commit: all of it); then
the renderer alone on that plan's snapshot; then a plain platypus build of the same content: the
renderer's own paragraphs, tables, pictures and log sheets handed to a `SimpleDocTemplate`, with
the same header and "Page X of Y" footer drawn by the usual onPage callback and numbered canvas,
but no cached wrapping, each picture drawn afresh wherever it appears, and every circle, digit,
marker and QR code of the log sheets drawn afresh where it is (`LogSheet.plain`). Prints the warm
medians, their ratios, the same in process CPU time (steadier on a shared machine), the size and
the pages. Asserts nothing.

Run from the repository root:  python bench/handout.py [--renders 40] [--paper a4] [--large-print]
`--editions` instead prints, for the sample plan of each template in every paper and print size
and as a draft, the pages and the smallest font (pdfplumber), with and without the log sheets.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reportlab.graphics.shapes import Drawing, Group  # noqa: E402
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table  # noqa: E402

from pdf import HandoutOptions, HandoutSnapshot, render_handout  # noqa: E402
from pdf.drawings import Picture, drawing  # noqa: E402
from pdf.flow import Bookmark, Para, Run  # noqa: E402
from pdf.layout import SIDE_MARGIN, NumberedCanvas, make_decor, page_geometry  # noqa: E402
from pdf.logsheet import LogSheet  # noqa: E402
from pdf.render import _story  # noqa: E402
from pdf.styles import handout_styles  # noqa: E402

PASSWORD = "bench demo password"  # noqa: S105 - a throwaway demo database


def page_count(pdf: bytes) -> int:
    """Count page objects (ReportLab writes no object streams, so a scan is enough)."""
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def interleaved(
    runs: dict[str, Callable[[], object]], rounds: int, warmup: int, cpu: dict | None = None
) -> dict[str, list[float]]:
    """Each run once per round, in turn; every wall timing in milliseconds, sorted.

    `cpu`, if given, receives the same runs' process CPU times (ms, sorted): on a shared
    machine they move far less than wall times, but leave out any wait (a disk flush, say).
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    cpu_times: dict[str, list[float]] = {name: [] for name in runs}
    for round_number in range(warmup + rounds):
        for name, run in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            if round_number >= warmup:
                times[name].append((time.perf_counter() - start) * 1000)
                cpu_times[name].append((time.process_time() - start_cpu) * 1000)
    if cpu is not None:
        cpu.update({name: sorted(values) for name, values in cpu_times.items()})
    return {name: sorted(values) for name, values in times.items()}


# -- the peer: the same content through plain platypus -----------------------------------------


def _plain_picture(picture: Picture) -> Drawing:
    """A picture as an ordinary Drawing flowable: rendered again at every use."""
    source = drawing(picture.key)
    scaled = Drawing(picture.width, picture.height)
    group = Group(*source.contents)
    group.scale(picture.scale, picture.scale)
    scaled.add(group)
    scaled.initialFontName = source.initialFontName
    return scaled


def plain(flowable: object) -> list[object]:
    """The same flowable as stock platypus parts: Runs flattened, no cached wrapping."""
    if isinstance(flowable, Run):
        parts = [*flowable.lead, *([flowable.heading] if flowable.heading else []), *flowable.items]
        return [p for part in parts for p in plain(part)]
    if isinstance(flowable, Bookmark):
        return []
    if isinstance(flowable, Para):
        # parsed and broken afresh, as a plain program's paragraphs are
        return [Paragraph(flowable.text, flowable.style, bulletText=flowable.bulletText)]
    if isinstance(flowable, Picture):
        return [_plain_picture(flowable)]
    if isinstance(flowable, LogSheet):
        flowable.plain = True  # no shared forms, no cached paths
        return [flowable]
    if isinstance(flowable, Table):
        flowable.__class__ = Table  # a Grid is a Table with a smarter split
        flowable._cellvalues = [[_plain_cell(cell) for cell in row] for row in flowable._cellvalues]
        return [flowable]
    return [flowable]


def _plain_cell(cell: object) -> object:
    if isinstance(cell, list):
        return [p for item in cell for p in plain(item)]
    if isinstance(cell, Flowable):
        converted = plain(cell)
        return converted[0] if len(converted) == 1 else converted
    return cell


def peer_build(snapshot: HandoutSnapshot, options: HandoutOptions) -> bytes:
    """The handout's content built by a SimpleDocTemplate, as a plain platypus program would."""
    styles = handout_styles(options.large_print)
    geometry = page_geometry(options.paper, styles)
    story = [p for f in _story(snapshot, options, geometry.frame_width, 0, 0) for p in plain(f)]
    decor = make_decor(snapshot, 0, styles, geometry)

    def on_page(canv: NumberedCanvas, doc: SimpleDocTemplate) -> None:
        # the same header, watermark and (once the page count is known) footer on every page
        decor.header(canv)
        if decor.draft:
            decor.watermark(canv)
        canv.floorplan_decor = decor

    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=(geometry.width, geometry.height),
        leftMargin=SIDE_MARGIN,
        rightMargin=SIDE_MARGIN,
        topMargin=geometry.height - geometry.top,
        bottomMargin=geometry.bottom,
        invariant=1,
        initialFontName=styles.fonts.regular,
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


# -- the endpoint ------------------------------------------------------------------------------


def demo_app(folder: str):  # noqa: ANN201 - a Flask app and the plan to print
    """A seeded demo clinic on SQLite, and its first issued plan's id."""
    import sqlalchemy as sa

    from prescriptions import create_app
    from prescriptions.commands.demo import seed_demo
    from prescriptions.extensions import db
    from prescriptions.models import Plan

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,  # the bench signs in once, through the real form
        }
    )
    with app.app_context():
        result = seed_demo(12, PASSWORD)
        db.session.commit()
        plan_id = db.session.scalar(
            sa.select(Plan.id).where(Plan.status == "issued").order_by(Plan.id).limit(1)
        )
        db.session.remove()
    return app, result.email, plan_id


def demo_snapshot(app, plan_id: int) -> HandoutSnapshot:  # noqa: ANN001
    """The plan's snapshot, exactly as the endpoint builds it."""
    from prescriptions.exercises.queries import fetch_catalogue
    from prescriptions.extensions import db
    from prescriptions.mapping.handouts import handout_snapshot
    from prescriptions.models import Clinic, Plan

    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        clinic = db.session.get(Clinic, plan.patient.clinic_id)
        snapshot = handout_snapshot(plan, clinic, fetch_catalogue(clinic.id))
        db.session.remove()
    return snapshot


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--paper", choices=("a4", "letter"), default="a4")
    parser.add_argument("--large-print", action="store_true")
    parser.add_argument("--editions", action="store_true")
    args = parser.parse_args()
    if args.editions:
        editions()
        return
    with tempfile.TemporaryDirectory(prefix="floorplan-bench-") as folder:
        measure(args, folder)


def measure(args: argparse.Namespace, folder: str) -> None:
    """Seed, sign in, and time the three builds in turn."""
    options = HandoutOptions(paper=args.paper, large_print=args.large_print)
    app, email, plan_id = demo_app(folder)
    client = app.test_client()
    signed_in = client.post("/login", data={"email": email, "password": PASSWORD})
    if signed_in.status_code != 302:
        raise SystemExit(f"sign-in failed: {signed_in.status_code}")
    query = f"?paper={args.paper}&large_print={1 if args.large_print else 0}"
    url = f"/plans/{plan_id}/handout.pdf{query}"

    def endpoint() -> bytes:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code}")
        return response.data

    snapshot = demo_snapshot(app, plan_id)
    served = endpoint()
    pdf = render_handout(snapshot, options)
    peer = peer_build(snapshot, options)
    # Interleaved, round by round, so a busy machine slows all three alike.
    runs = {
        "endpoint": endpoint,
        "renderer": lambda: render_handout(snapshot, options),
        "peer": lambda: peer_build(snapshot, options),
    }
    cpu: dict[str, list[float]] = {}
    timings = interleaved(runs, args.renders, args.warmup, cpu)
    endpoint_times = timings["endpoint"]
    endpoint_ms, render_ms, peer_ms = (statistics.median(timings[k]) for k in runs)
    edition = f"{args.paper}, {'large' if args.large_print else 'normal'} print"
    print(f"handout: demo plan {plan_id} ({len(snapshot.exercises)} exercises), {edition}")
    same = "the same bytes" if served == pdf else "DIFFERENT bytes"
    print(
        f"pages: {page_count(pdf)} (endpoint served {page_count(served)}, {same}); "
        f"peer build {page_count(peer)}"
    )
    print(f"bytes: {len(pdf)} ({len(pdf) / 1024:.1f} KiB); peer build {len(peer) / 1024:.1f} KiB")
    print(
        f"endpoint warm median: {endpoint_ms:.1f} ms over {args.renders} requests "
        f"(min {endpoint_times[0]:.1f}, max {endpoint_times[-1]:.1f})"
    )
    print(f"renderer warm median: {render_ms:.1f} ms (min {timings['renderer'][0]:.1f})")
    print(f"peer build warm median: {peer_ms:.1f} ms (min {timings['peer'][0]:.1f})")
    print(
        f"endpoint / peer: {endpoint_ms / peer_ms:.2f}; renderer / peer: {render_ms / peer_ms:.2f}"
    )
    e_cpu, r_cpu, p_cpu = (statistics.median(cpu[k]) for k in runs)
    print(
        f"CPU-time medians: endpoint {e_cpu:.1f}, renderer {r_cpu:.1f}, peer {p_cpu:.1f} ms; "
        f"endpoint / peer: {e_cpu / p_cpu:.2f}; renderer / peer: {r_cpu / p_cpu:.2f}"
    )


def smallest_fonts(pdf: bytes) -> tuple[float, float]:
    """The smallest character size overall, and outside the log sheets."""
    import pdfplumber

    overall, guide = 99.0, 99.0
    with pdfplumber.open(BytesIO(pdf)) as doc:
        for page in doc.pages:
            sizes = [c["size"] for c in page.chars if c["text"].strip()]
            if not sizes:
                continue
            overall = min(overall, *sizes)
            if "log sheet" not in (page.extract_text() or "")[:200]:
                guide = min(guide, *sizes)
    return round(overall, 1), round(guide, 1)


def editions() -> None:
    """Pages and smallest fonts of every edition of the sample plans."""
    from dataclasses import replace

    from pdf.sample import sample_snapshot

    print("edition | pages | smallest font (pt) | smallest outside the log sheets (pt) | KiB")
    for approach in ("strengthening", "down_training", "balanced"):
        for paper in ("a4", "letter"):
            for large in (False, True):
                for draft in (False, True):
                    if draft and (paper, large) != ("a4", False):
                        continue
                    snap = replace(sample_snapshot(approach), is_draft=draft)
                    pdf = render_handout(snap, HandoutOptions(paper=paper, large_print=large))
                    small, guide = smallest_fonts(pdf)
                    name = f"{approach} {paper} {'large' if large else 'normal'}"
                    name += " draft" if draft else ""
                    print(f"{name} | {page_count(pdf)} | {small} | {guide} | {len(pdf) / 1024:.1f}")


if __name__ == "__main__":
    main()
