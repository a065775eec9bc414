"""A synthetic corpus of returned sheets: real sheets, marked as people mark them, photographed.

Render a real handout's log sheets, rasterise them with pdftoppm, draw ticks, crosses, fills,
rings, light pencil, overrunning and crossed-out marks, then either photograph the page in
software (perspective up to 25 degrees, any of four rotations, a page curl, a shadow, blur,
noise, JPEG quality 60, 12 megapixels) or scan it (150 or 300 dpi). Used by tests/sheets and
bench/sheets.py alike.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from pdf import HandoutOptions, render_handout
from pdf.sample import sample_snapshot
from pdf.sheetlayout import SCALES, SheetLayout, SheetSpec, pages_per_week, sheet_layout

PDFTOPPM = shutil.which("pdftoppm")


@dataclass
class Truth:
    """What the patient meant on one page: per day, ticks and chosen values (None: left blank)."""

    sessions: dict[int, list[bool]]
    values: dict[tuple[int, str], int | None]
    crossed: dict[tuple[int, str], int]  #: a value marked, then scribbled out


def specs_of(paper: str, large: bool, sessions: int) -> list[SheetSpec]:
    """The spec of every page of the sample handout's log sheets, in print order."""
    snap = _snapshot(sessions)
    out = [
        SheetSpec(paper, large, w.sessions_per_day, w.starts, p)
        for w in snap.weeks
        for p in range(pages_per_week(large))
    ]
    out += [SheetSpec(paper, large, sessions, None, p) for p in range(pages_per_week(large))]
    return out


def _snapshot(sessions: int):  # noqa: ANN202
    snap = sample_snapshot()
    weeks = tuple(replace(w, sessions_per_day=sessions) for w in snap.weeks)
    codes = tuple((w, p, f"FP.C1.P7.R1.W{w}.G{p}.TESTSIGNATURE") for w in range(5) for p in (0, 1))
    return replace(snap, weeks=weeks, sheet_codes=codes)


@cache
def blank_pages(
    paper: str, large: bool, sessions: int, dpi: int, count: int = 99
) -> tuple[np.ndarray, ...]:
    """The first `count` log-sheet pages of the sample handout, rasterised in grey at `dpi`."""
    pdf = render_handout(
        _snapshot(sessions), HandoutOptions(paper=paper, large_print=large, log_sheets_only=True)
    )
    assert PDFTOPPM, "pdftoppm is needed to build the corpus"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "s.pdf"
        src.write_bytes(pdf)
        subprocess.run(
            [
                PDFTOPPM,
                "-r",
                str(dpi),
                "-l",
                str(count),
                "-gray",
                "-png",
                str(src),
                str(Path(tmp) / "p"),
            ],  # fmt: skip
            check=True,
            capture_output=True,
        )
        files = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return tuple(cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files)


def random_truth(rng: np.random.Generator, layout: SheetLayout) -> Truth:
    """What a patient might have marked on a page."""
    sessions: dict[int, list[bool]] = {}
    values: dict[tuple[int, str], int | None] = {}
    crossed: dict[tuple[int, str], int] = {}
    for row in layout.rows:
        n = sum(1 for a in layout.areas if a.day == row.day and a.field == "session")
        sessions[row.day] = [bool(rng.random() < 0.7) for _ in range(n)]
        for name, scale in SCALES.items():
            value = int(rng.choice(scale)) if rng.random() < 0.88 else None
            values[(row.day, name)] = value
            if value is not None and rng.random() < 0.06:
                crossed[(row.day, name)] = int(rng.choice([v for v in scale if v != value]))
    return Truth(sessions, values, crossed)


# -- drawing marks ------------------------------------------------------------------------------


@dataclass
class _Pen:
    ink: int  # grey level of the stroke
    width: float  # stroke width in pixels


def _pen(rng: np.random.Generator, px_mm: float) -> _Pen:
    if rng.random() < 0.35:  # pencil, often light
        return _Pen(int(rng.integers(115, 165)), px_mm * rng.uniform(0.3, 0.5))
    return _Pen(int(rng.integers(20, 90)), px_mm * rng.uniform(0.35, 0.7))


def _stroke(layer: np.ndarray, pts: np.ndarray, pen: _Pen) -> None:
    p = np.round(pts * 16).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(layer, [p], False, pen.ink, max(1, int(round(pen.width))), cv2.LINE_AA, 4)


def _jit(rng: np.random.Generator, s: float, n: int = 2) -> np.ndarray:
    return rng.normal(0, s, n)


def draw_mark(
    layer: np.ndarray,
    box: tuple[float, float, float, float],
    kind: str,
    pen: _Pen,
    rng: np.random.Generator,
) -> None:
    """One mark in a box given in pixels: tick, cross, fill, ring or scribble."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2 + _jit(rng, w * 0.05)[0], (y0 + y1) / 2 + _jit(rng, h * 0.05)[0]
    over = rng.uniform(1.25, 1.6) if rng.random() < 0.2 else rng.uniform(0.75, 1.05)
    hw, hh = w / 2 * over, h / 2 * over
    if kind == "tick":
        pts = np.array([[cx - hw * 0.7, cy], [cx - hw * 0.15, cy + hh * 0.75], [cx + hw, cy - hh]])
        _stroke(layer, pts + rng.normal(0, w * 0.04, pts.shape), pen)
    elif kind == "cross":
        for sx in (1, -1):
            pts = np.array(
                [[cx - hw * 0.8 * sx, cy - hh * 0.8], [cx + hw * 0.8 * sx, cy + hh * 0.8]]
            )
            _stroke(layer, pts + rng.normal(0, w * 0.05, pts.shape), pen)
    elif kind == "ring":
        a = rng.uniform(0, 2 * math.pi)
        t = np.linspace(a, a + rng.uniform(1.8, 2.1) * math.pi, 40)
        r = rng.uniform(0.55, 0.68)
        pts = np.stack([cx + w * r * np.cos(t), cy + h * r * 0.95 * np.sin(t)], 1)
        _stroke(layer, pts, pen)
    elif kind in ("fill", "scribble"):
        r = w * (0.42 if kind == "fill" else 0.5)
        bold = _Pen(pen.ink, max(pen.width, w * 0.09))
        lines = 7 if kind == "fill" else 9
        pts = []
        for i in range(lines):
            yy = cy - r + 2 * r * i / (lines - 1)
            half = math.sqrt(max(0.0, r * r - (yy - cy) ** 2)) * 1.05
            pts += [[cx - half, yy], [cx + half, yy + r / lines]] if i % 2 == 0 else [
                [cx + half, yy], [cx - half, yy + r / lines]]  # fmt: skip
        arr = np.array(pts) + rng.normal(0, w * 0.03, (len(pts), 2))
        _stroke(layer, arr, bold)


def mark_page(
    page: np.ndarray, layout: SheetLayout, truth: Truth, rng: np.random.Generator, dpi: int
) -> np.ndarray:
    """The page with the truth drawn on it, by hand."""
    k = dpi / 72
    px_mm = dpi / 25.4
    layer = np.full(page.shape, 255, np.uint8)
    boxes = {
        (a.day, a.field, a.index if a.field == "session" else a.value): tuple(v * k for v in a.box)
        for a in layout.areas
    }
    for row in layout.rows:
        pen = _pen(rng, px_mm)  # one pen per day
        for i, on in enumerate(truth.sessions[row.day]):
            if on:
                kind = rng.choice(["tick", "tick", "cross", "fill"])
                draw_mark(layer, boxes[(row.day, "session", i)], str(kind), pen, rng)
        for name in SCALES:
            value = truth.values[(row.day, name)]
            if value is None:
                continue
            wrong = truth.crossed.get((row.day, name))
            if wrong is not None:
                draw_mark(layer, boxes[(row.day, name, wrong)], "cross", pen, rng)
                draw_mark(layer, boxes[(row.day, name, wrong)], "scribble", pen, rng)
                kind = rng.choice(["tick", "cross", "ring"])
            else:
                kind = rng.choice(["tick", "cross", "cross", "ring", "ring", "fill"])
            draw_mark(layer, boxes[(row.day, name, value)], str(kind), pen, rng)
    return np.minimum(page, layer)


# -- photographing and scanning -----------------------------------------------------------------


def photograph(
    page: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (4000, 3000)
) -> bytes:
    """A phone photo of the page: tilted, turned, curled, shadowed, blurred, noisy, JPEG q60."""
    ph, pw = page.shape
    # A gentle curl: lines bow by up to 1 % of the page across it.
    amp = rng.uniform(0, 0.01) * ph
    yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
    bow = (amp * np.sin(np.pi * xx / pw)).astype(np.float32)
    page = cv2.remap(page, xx, yy - bow, cv2.INTER_LINEAR, borderValue=255)
    w, h = size
    # Perspective: the page tilted up to 25 degrees, seen by a pinhole camera.
    tilt = math.radians(rng.uniform(0, 25))
    axis = rng.uniform(0, 2 * math.pi)
    ax, ay = tilt * math.cos(axis), tilt * math.sin(axis)
    corners = np.array([[-pw / 2, -ph / 2, 0], [pw / 2, -ph / 2, 0], [pw / 2, ph / 2, 0],
                        [-pw / 2, ph / 2, 0]], float)  # fmt: skip
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    spin = rng.integers(0, 4) * math.pi / 2 + math.radians(rng.uniform(-6, 6))
    rz = np.array([[math.cos(spin), -math.sin(spin), 0], [math.sin(spin), math.cos(spin), 0],
                   [0, 0, 1]])  # fmt: skip
    pts = corners @ (rz @ ry @ rx).T
    dist = max(pw, ph) * 1.6
    proj = pts[:, :2] / (pts[:, 2:] + dist) * dist
    proj -= proj.mean(0)
    span = proj.max(0) - proj.min(0)
    fit = min(w / span[0], h / span[1]) * rng.uniform(0.8, 0.95)
    proj = proj * fit + np.array([w / 2, h / 2]) + rng.normal(0, 0.02, 2) * [w, h]
    hom = cv2.getPerspectiveTransform(
        np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]), np.float32(proj)
    )
    table = int(rng.integers(60, 150))
    photo = cv2.warpPerspective(page, hom, (w, h), flags=cv2.INTER_LINEAR, borderValue=table)
    # Light: an overall slope, and a shadow across part of the page.
    gx = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    gy = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    light = 0.75 + 0.25 * (gx * rng.uniform(-1, 1) + gy * rng.uniform(-1, 1) + 1) / 2
    shadow = np.zeros((h // 8, w // 8), np.float32)
    a, b = rng.uniform(0, w // 8, 2), rng.uniform(0, h // 8, 2)
    poly = np.int32([[a[0], 0], [a[1], h // 8], [0, h // 8], [0, 0]]) if rng.random() < 0.5 else \
        np.int32([[0, b[0]], [w // 8, b[1]], [w // 8, h // 8], [0, h // 8]])  # fmt: skip
    cv2.fillPoly(shadow, [poly], 1.0)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 6)
    shadow = cv2.resize(shadow, (w, h))
    light = light * (1 - shadow * rng.uniform(0.25, 0.45))
    img = photo.astype(np.float32) * light
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 2.2))
    noise = np.empty((h, w), np.float32)
    cv2.randn(noise, 0, float(rng.uniform(2, 6)))
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    ok, jpg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    return jpg.tobytes()


def scan(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An office scan of the page: slightly skewed and shifted, a little soft and noisy."""
    ph, pw = page.shape
    m = cv2.getRotationMatrix2D((pw / 2, ph / 2), rng.uniform(-1.5, 1.5), 1.0)
    m[:, 2] += rng.normal(0, 0.006, 2) * [pw, ph]
    img = cv2.warpAffine(page, m, (pw, ph), borderValue=255)
    img = cv2.GaussianBlur(img, (0, 0), 0.6).astype(np.float32)
    noise = np.empty(img.shape, np.float32)
    cv2.randn(noise, 0, 3.0)
    return np.clip(img * rng.uniform(0.9, 1.0) + noise, 0, 255).astype(np.uint8)


@dataclass
class Sample:
    """One corpus page: what was meant, its geometry and the image bytes."""

    truth: Truth
    spec: SheetSpec
    data: bytes
    kind: str  #: "photo" or "scan"


VARIANTS = [(p, lg, s) for p in ("a4", "letter") for lg in (False, True) for s in (2, 3, 5)]


def make_sample(rng: np.random.Generator, kind: str, dpi: int = 200) -> Sample:
    """One marked page, photographed (kind 'photo') or scanned (kind 'scan' at `dpi`)."""
    paper, large, sessions = VARIANTS[int(rng.integers(len(VARIANTS)))]
    raster_dpi = 200 if kind == "photo" else dpi
    pages = blank_pages(paper, large, sessions, raster_dpi)
    specs = specs_of(paper, large, sessions)
    i = int(rng.integers(len(pages)))
    layout = sheet_layout(specs[i])
    truth = random_truth(rng, layout)
    marked = mark_page(pages[i], layout, truth, rng, raster_dpi)
    if kind == "photo":
        data = photograph(marked, rng)
    else:
        ok, jpg = cv2.imencode(".jpg", scan(marked, rng), [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        data = jpg.tobytes()
    return Sample(truth, specs[i], data, kind)


@dataclass
class Score:
    """Counts of answer areas and sheets read right, wrong (confidently) and left unsure."""

    areas: int = 0
    right: int = 0
    wrong: int = 0
    unsure: int = 0
    sheets: int = 0
    sheets_right: int = 0
    unread: int = 0

    def add(self, other: Score) -> None:
        """Add another score's counts to this one."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def score(sample: Sample, read: object) -> tuple[Score, list[str]]:
    """Compare a reading with the truth, area by area; also say what went wrong."""
    from sheets import SheetError, SheetRead

    layout = sheet_layout(sample.spec)
    s = Score(sheets=1)
    problems: list[str] = []
    if isinstance(read, SheetError) or not isinstance(read, SheetRead) or read.spec != sample.spec:
        s.areas = s.unsure = len(layout.areas)
        s.unread = 1
        return s, [f"unread: {read}"]
    days = {d.day: d for d in read.days}
    for a in layout.areas:
        s.areas += 1
        d = days[a.day]
        if a.field == "session":
            meant = sample.truth.sessions[a.day][a.index or 0]
            if "sessions" in d.unsure:
                s.unsure += 1
                problems.append(f"unsure day {a.day} session {a.index}")
                continue
            got = d.sessions[a.index or 0]
        else:
            meant = sample.truth.values[(a.day, a.field)] == a.value
            if a.field in d.unsure:
                s.unsure += 1
                continue
            got = getattr(d, a.field) == a.value
        if got == meant:
            s.right += 1
        else:
            s.wrong += 1
            problems.append(f"WRONG day {a.day} {a.field} {a.index if a.value is None else a.value}"
                            f" meant {meant} read {got}")  # fmt: skip
    for d in read.days:
        for f in d.unsure:
            if f != "sessions":
                problems.append(f"unsure day {d.day} {f} (meant "
                                f"{sample.truth.values[(d.day, f)]})")  # fmt: skip
    if s.right == s.areas:
        s.sheets_right = 1
    return s, problems
