"""Read returned log sheets: find the corner marks and the code, straighten the page, read boxes."""

from __future__ import annotations

import io
import shutil
import subprocess  # noqa: S404  # nosec B404 - pdftoppm, a fixed argument list, never a shell
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

from pdf.sheetlayout import (
    MM,
    SCALE_LABELS,
    SCALES,
    Area,
    SheetLayout,
    SheetSpec,
    parse_tag,
    sheet_layout,
)
from pdf.snapshot import PAPERS

#: Pixels per PDF point of the straightened page the reader works on (144 dpi).
K = 2.0
_DICT = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
_PARAMS = cv2.aruco.DetectorParameters()
_PARAMS.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
_DETECTOR = cv2.aruco.ArucoDetector(_DICT, _PARAMS)
#: Darkness (0 paper, 1 black) from which a pixel counts as ink.
INK = 0.2
#: Ink in a zone per millimetre of its side: at or above MARKED a box is marked, at or below
#: EMPTY it is empty, between the two the reader says it is unsure. Circles are judged as a row.
#: An empty box holds under 0.05 (a stray speck; another row's mark that only grazes the zone
#: is not counted); a light pencil tick on a blurred photo holds from about 0.28, and a very
#: faint one 0.2, so the band between is left unsure rather than read as empty.
MARKED, EMPTY = 0.25, 0.12
#: An area under this looks empty enough to tell what the print alone inks over its number and rim.
LOOKS_EMPTY = 0.3
CIRCLE_MARKED, CIRCLE_EMPTY = 0.25, 0.12
#: Weight of a ring drawn round a circle, by the share of the way round it goes beyond 40 %.
RING = 1.0
#: How far out from a circle's centre a ring round it is looked for, in radii (a loose ring
#: drawn freehand runs out to about 1.45).
RING_OUT = 1.5
#: In a row of circles, the runner-up may hold at most this share of the winner's ink.
RATIO = 0.5
#: A circle this full of ink is a filled (or scribbled-out) one. A cross covers up to half a
#: normal-print circle's inside but under a third of a large-print one's, where a fill or a
#: scribble in light pencil can cover as little as 0.4.
FILLED, FILLED_LARGE = 0.5, 0.4
#: Circles at least this wide (in mm) are large print's.
LARGE_CIRCLE = 8.0
#: How much less of its circle a plain mark covers than the scribble crossing out another.
SCRIBBLE_GAP = 0.35
#: A mark at least this share as dark as the day's clear marks is drawn with the same pen.
SAME_PEN = 0.75
#: What a circle beside a lone faint mark may hold: no more than an empty circle's speck.
TRACE = 0.06
#: Ink beyond the next circle from a filled one that is a mark of its own (a ring in pencil
#: tight on the outline scores about 0.09); beside 875 filled answers of the test corpus, those
#: circles held at most 0.076 (print blur and noise).
FAR_TRACE = 0.08
MAX_SIDE = 2000  # photos are read at about this size: plenty for 5 mm circles


class SheetError(ValueError):
    """A page that cannot be read as a sheet, with a message for the person who sent it."""


@dataclass(frozen=True, slots=True)
class AreaRead:
    """The reader's decision for one answer area."""

    area: Area
    score: float
    fill: float
    state: str  #: "marked", "empty" or "unsure"
    tone: float = 0.0  #: how dark the area's own ink is (0 paper, 1 black), 0 without ink
    stray: float = 0.0  #: ink near the area outside every area of its row (score's units)


@dataclass(frozen=True, slots=True)
class DayRead:
    """One day as read: values, what the reader is unsure of, and how sure it is of each field."""

    day: int
    date: date | None
    sessions: tuple[bool, ...]
    pain: int | None
    urgency: int | None
    leaks: int | None
    unsure: tuple[str, ...]
    confidence: dict[str, float]


@dataclass(slots=True)
class SheetRead:
    """One page read back: its code, its geometry and what was marked."""

    signed: str  #: the app's signed code, still to be verified by the app
    spec: SheetSpec
    days: list[DayRead]
    areas: list[AreaRead]
    page: np.ndarray = field(repr=False)  #: the straightened page, grey, K pixels a point
    layout: SheetLayout = field(repr=False)

    def crops(self) -> dict[str, bytes]:
        """PNG images of the handwritten cells, keyed 'day/field' (day 0 to 6)."""
        out = {}
        for cell in self.layout.cells:
            x0, y0, x1, y1 = (int(round(v * K)) for v in cell.box)
            crop = self.page[max(0, y0) : y1, max(0, x0) : x1]
            ok, png = cv2.imencode(".png", crop)
            if ok:
                out[f"{cell.day}/{cell.field}"] = png.tobytes()
        return out


# -- input --------------------------------------------------------------------------------------


def load_pages(data: bytes) -> list[np.ndarray]:
    """Grey images of a file: a photo or scan (JPEG, PNG, HEIC, TIFF ...) or each page of a PDF."""
    if data[:5] == b"%PDF-":
        return _pdf_pages(data)
    buf = np.frombuffer(data, np.uint8)
    img = None
    if data[:3] == b"\xff\xd8\xff":  # JPEG: let libjpeg scale big photos down while decoding
        head = cv2.imdecode(buf, cv2.IMREAD_REDUCED_GRAYSCALE_8)
        if head is not None:
            side = max(head.shape) * 8
            flag = cv2.IMREAD_GRAYSCALE
            if side >= MAX_SIDE * 4:
                flag = cv2.IMREAD_REDUCED_GRAYSCALE_4
            elif side >= MAX_SIDE * 2:
                flag = cv2.IMREAD_REDUCED_GRAYSCALE_2
            img = cv2.imdecode(buf, flag)
    if img is None:
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if img is None:
        img = _pillow(data)
    if img is None:
        raise SheetError("This file is not an image or PDF the reader knows.")
    return [img]


def _pillow(data: bytes) -> np.ndarray | None:
    try:
        from PIL import Image

        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
        except ImportError:  # pragma: no cover - HEIC stays unreadable without it
            pass
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("L"))
    except Exception:  # noqa: BLE001 - any decoder failure means "not an image we read"
        return None


def _pdf_pages(data: bytes) -> list[np.ndarray]:
    """Scanned PDFs carry one image a page: take it as it is; draw other pages with pdftoppm."""
    pages: list[np.ndarray] = []
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        for page in reader.pages:
            images = list(page.images)
            if len(images) != 1:
                pages.append(None)  # type: ignore[arg-type]
                continue
            raw = images[0].data
            arr = None
            if raw[:3] == b"\xff\xd8\xff":
                arr = load_pages(raw)[0]
            if arr is None:
                arr = _pillow(raw)
            pages.append(arr)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - fall back to drawing the pages
        pages = []
    if pages and all(p is not None for p in pages):
        return pages
    return _pdftoppm(data)


def _pdftoppm(data: bytes) -> list[np.ndarray]:
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise SheetError("Reading this PDF needs pdftoppm (poppler-utils).")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        done = subprocess.run(  # noqa: S603  # nosec B603 - fixed arguments, our own temp files
            [tool, "-r", "150", "-gray", "-png", str(src), str(Path(tmp) / "p")],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise SheetError("This PDF could not be opened.")
        files = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]


def read_file(data: bytes) -> list[SheetRead | SheetError]:
    """Every page of a file, read, or the reason it could not be."""
    out: list[SheetRead | SheetError] = []
    for page in load_pages(data):
        try:
            out.append(read_page(page))
        except SheetError as err:
            out.append(err)
        except cv2.error:  # a degenerate picture (all one colour, marks in a line ...)
            out.append(SheetError("This page could not be read as a sheet."))
    return out


# -- finding and straightening the page ---------------------------------------------------------


def _mark_layout(variant: int) -> SheetLayout:
    paper, large = PAPERS[variant // 2], bool(variant % 2)
    return sheet_layout(SheetSpec(paper, large, 0, None, 0))


def _find_marks(small: np.ndarray) -> dict[int, np.ndarray]:
    corners, ids, _ = _DETECTOR.detectMarkers(small)
    found: dict[int, np.ndarray] = {}
    if ids is not None:
        for c, i in zip(corners, ids.flatten(), strict=True):
            if int(i) < 16:
                found[int(i)] = c.reshape(4, 2)
    return found


def _decode(img: np.ndarray) -> list[str]:
    try:
        results = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
    except Exception:  # noqa: BLE001 - a decoder hiccup is a page without a code
        return []
    return [r.text for r in results if r.valid]


def _split_code(texts: list[str]) -> tuple[str, SheetSpec] | None:
    for text in texts:
        signed, _, tag = text.rpartition("/")
        spec = parse_tag(tag)
        if spec is not None:
            return signed, spec
    return None


def read_page(gray: np.ndarray) -> SheetRead:
    """Read one photo or scanned page of a log sheet."""
    if gray is None or gray.size == 0:
        raise SheetError("The page is empty.")
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    scale = min(1.0, MAX_SIDE / max(gray.shape))
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    marks = _find_marks(gray)
    if not marks:
        marks = _find_marks(cv2.equalizeHist(gray))
    variants: dict[int, int] = {}
    for i in marks:
        variants[i // 4] = variants.get(i // 4, 0) + 1
    code: tuple[str, SheetSpec] | None = None
    if not variants:
        code = _split_code(_decode(gray))
        if code is None:
            raise SheetError("No sheet found: neither the corner marks nor the code could be seen.")
        variant = code[1].variant
    else:
        variant = max(variants, key=lambda v: variants[v])
    base = _mark_layout(variant)
    src, dst = [], []
    for corner in range(4):
        pts = marks.get(variant * 4 + corner)
        if pts is None:
            continue
        x0, y0, x1, y1 = base.marks[corner]
        dst += [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        src += list(pts)
    if len(src) < 8:
        # Fewer than two marks: lean on the code's own corners as well.
        qr = _qr_corners(gray)
        if qr is not None:
            x0, y0, x1, y1 = base.code
            dst += [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            src += qr
    if len(src) < 8:
        raise SheetError("Only part of the sheet is in the picture: show all four corners.")
    hom, _ = cv2.findHomography(np.float32(dst) * K, np.float32(src), 0)
    if hom is None:
        raise SheetError("The sheet could not be straightened.")
    w, h = (int(round(v * K)) for v in base.page)
    page = cv2.warpPerspective(
        gray, hom, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=255
    )
    if code is None:
        x0, y0, x1, y1 = (int(round(v * K)) for v in base.code)
        pad = int(5 * MM * K)
        crop = page[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad]
        code = _split_code(_decode(cv2.resize(crop, None, fx=2, fy=2)))
        if code is None:
            code = _split_code(_decode(gray))
    if code is None:
        raise SheetError("The sheet's code could not be read: take the picture again, nearer.")
    signed, spec = code
    if spec.variant != variant:
        raise SheetError("The corner marks and the code disagree: is this one of our sheets?")
    layout = sheet_layout(spec)
    areas = _read_areas(page, layout)
    return SheetRead(signed, spec, _days(layout, areas), areas, page, layout)


def _qr_corners(gray: np.ndarray) -> list[tuple[float, float]] | None:
    try:
        results = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    except Exception:  # noqa: BLE001
        return None
    for r in results:
        if r.valid and parse_tag(r.text.rpartition("/")[2]):
            p = r.position
            return [(float(q.x), float(q.y)) for q in
                    (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]  # fmt: skip
    return None


# -- reading the boxes --------------------------------------------------------------------------


def _darkness(page: np.ndarray) -> np.ndarray:
    """0 for paper, 1 for black, with shadows and uneven light divided out."""
    small = cv2.resize(page, None, fx=1 / 8, fy=1 / 8, interpolation=cv2.INTER_AREA)
    # The paper around the ink: a closing, not a plain dilation, so the edge of a shadow stays
    # where it is instead of spreading the bright side's paper over the dark side's.
    small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    small = cv2.GaussianBlur(small, (0, 0), 1)
    bg = cv2.resize(small, (page.shape[1], page.shape[0]), interpolation=cv2.INTER_LINEAR)
    bg = np.maximum(bg.astype(np.float32), 40.0)
    return np.clip(1.0 - page.astype(np.float32) / bg, 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class _Zone:
    """Pixel masks of one area, relative to its window's top-left."""

    free: np.ndarray  # where ink counts: the zone minus the printed outline and digits
    inner: np.ndarray  # the inside of the circle or box, minus the printed digits
    outline: np.ndarray  # the printed outline, for aligning
    pad: int
    sectors: np.ndarray  # for a circle: sector 0-15 of each pixel just outside it, else -1
    printed: np.ndarray  # the outline and the number as printed, grown a little
    digit: np.ndarray  # the printed number alone, grown a little (inside the zone)
    rim: np.ndarray  # the printed outline alone, grown a little


_ZONES: dict[tuple[str, int, int, int, int], _Zone] = {}


def _zone(area: Area, layout: SheetLayout) -> _Zone:
    x0, y0, x1, y1 = area.box
    side = (x1 - x0) * K
    key = (area.shape, int(round(side * 4)), area.field, area.value, int(layout.digit_size))
    zone = _ZONES.get(key)
    if zone is not None:
        return zone
    pad = int(round(side * 0.3))
    n = int(round(side)) + 2 * pad
    c = n / 2 - 0.5
    yy, xx = np.mgrid[0:n, 0:n]
    outline = np.zeros((n, n), np.uint8)
    thick = max(2, int(round(K * 1.0)))
    if area.shape == "circle":
        r = side / 2
        cv2.circle(outline, (int(round(c * 4)), int(round(c * 4))), int(round(r * 4)), 1, thick,
                   cv2.LINE_AA, shift=2)  # fmt: skip
        dist = np.hypot(xx - c, yy - c)
        zone_mask = dist <= r * 1.3
        inner = dist <= r * 0.85
        digit = _digit_mask(area, layout, n, c)
        ring = (dist >= r + thick + 1.5) & (dist <= r * RING_OUT)
        angle = ((np.arctan2(yy - c, xx - c) + np.pi) / (2 * np.pi) * 16).astype(int) % 16
        sectors = np.where(ring, angle, -1)
    else:
        lo, hi = pad - 0.5, pad + side - 0.5
        cv2.rectangle(outline, (pad, pad), (pad + int(round(side)) - 1, pad + int(round(side)) - 1),
                      1, thick)  # fmt: skip
        d = np.maximum(np.maximum(lo - xx, xx - hi), np.maximum(lo - yy, yy - hi))
        zone_mask = d <= side * 0.22
        inner = d <= -2
        digit = np.zeros((n, n), bool)
        sectors = np.full((n, n), -1)
    printed = cv2.dilate(outline, np.ones((3, 3), np.uint8), iterations=2).astype(bool)
    zone = _Zone(
        free=zone_mask & ~printed & ~digit,
        inner=inner & ~printed & ~digit,
        outline=outline.astype(np.float32),
        pad=pad,
        sectors=sectors,
        printed=printed | digit,
        digit=digit & zone_mask & ~printed,
        rim=printed.copy(),
    )
    _ZONES[key] = zone
    return zone


def _digit_mask(area: Area, layout: SheetLayout, n: int, c: float) -> np.ndarray:
    """Where the printed number inside a circle puts its ink (glyphs drawn, then grown a little)."""
    from PIL import Image, ImageDraw, ImageFont

    from pdf.fonts import FONT_DIR

    labels = SCALE_LABELS.get(area.field, ())
    value = area.value if area.value is not None else 0
    text = labels[value] if value < len(labels) else str(value)
    font = ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), int(round(layout.digit_size * K)))
    im = Image.new("L", (n, n), 0)
    draw = ImageDraw.Draw(im)
    width = draw.textlength(text, font=font)
    draw.text((c + 0.5 - width / 2, c + 0.5 + layout.digit_size * 0.36 * K), text, fill=255,
              font=font, anchor="ls")  # fmt: skip
    glyph = np.asarray(im) > 60
    return cv2.dilate(glyph.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2).astype(bool)


def _groups(layout: SheetLayout) -> dict[tuple[int, str], list[Area]]:
    groups: dict[tuple[int, str], list[Area]] = {}
    for a in layout.areas:
        groups.setdefault((a.day, a.field), []).append(a)
    return groups


def _shift(dark: np.ndarray, areas: list[Area], layout: SheetLayout) -> tuple[int, int] | None:
    """How far the printed row of boxes sits from where the straightened page puts it (None
    when the row's outlines cannot be found)."""
    x0 = min(a.box[0] for a in areas) * K
    y0 = min(a.box[1] for a in areas) * K
    x1 = max(a.box[2] for a in areas) * K
    y1 = max(a.box[3] for a in areas) * K
    ox, oy = int(x0) - 2, int(y0) - 2
    tw, th = int(x1 - ox) + 3, int(y1 - oy) + 3
    tmpl = np.zeros((th, tw), np.float32)
    for a in areas:
        z = _zone(a, layout)
        zx = int(round(a.box[0] * K)) - z.pad - ox
        zy = int(round(a.box[1] * K)) - z.pad - oy
        h, w = z.outline.shape
        sx0, sy0 = max(0, -zx), max(0, -zy)
        dst = tmpl[max(0, zy) : zy + h, max(0, zx) : zx + w]
        np.maximum(dst, z.outline[sy0 : sy0 + dst.shape[0], sx0 : sx0 + dst.shape[1]], out=dst)
    r = int(round(3.5 * MM * K))
    H, W = dark.shape
    wx0, wy0 = max(0, ox - r), max(0, oy - r)
    wx1, wy1 = min(W, ox + tw + r), min(H, oy + th + r)
    win = dark[wy0:wy1, wx0:wx1]
    if win.shape[0] < th or win.shape[1] < tw:
        return None
    res = cv2.matchTemplate(win, tmpl, cv2.TM_CCORR_NORMED)
    _, best, _, loc = cv2.minMaxLoc(res)
    if best < 0.3:
        return None
    return loc[0] + wx0 - ox, loc[1] + wy0 - oy


#: Pixels of ink over a printed number that are still the number (blur, a thicker print).
DIGIT_SLACK = 6
#: Of a printed outline's pixels, the share that light and blur alone may ink beyond the usual
#: (50 pixels of a normal-print circle's outline, 60 of a tick box's, 95 of large print's).
RIM_SLACK = 0.075
#: How far one box may sit from where its row's shift puts it, in pixels (a curled page bows).
SETTLE = 2


def _lines(dark: np.ndarray) -> np.ndarray:
    """The darkness of thin strokes alone: printed outlines and pen lines stay, a filled-in
    circle or box (wider than any line) goes, so it cannot pull the outlines' match off."""
    grey = (dark * 255).astype(np.uint8)  # 8-bit: the opening is several times faster
    wide = cv2.morphologyEx(
        grey, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    )
    return cv2.subtract(grey, wide).astype(np.float32) / 255


def _centre(areas: list[Area]) -> tuple[float, float]:
    return (
        (min(a.box[0] for a in areas) + max(a.box[2] for a in areas)) / 2 * K,
        (min(a.box[1] for a in areas) + max(a.box[3] for a in areas)) / 2 * K,
    )


def _terms(x: np.ndarray, y: np.ndarray, w: int, h: int, order: int) -> np.ndarray:
    u, v = x / w - 0.5, y / h - 0.5
    cols = [np.ones_like(u)]
    if order >= 1:
        cols += [u, v]
    if order >= 2:
        cols += [u * u, u * v, v * v]
    return np.stack(cols, 1)


def _field(
    found: list[tuple[float, float, int, int]], w: int, h: int
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """A smooth shift over the page (a curl, a bowed page) fitted to the rows' shifts: a
    quadratic in x and y, refitted without the rows it misses by more than OUTLIER pixels (a
    row whose match a mark pulled off). None when too few rows agree."""
    if not found:
        return None
    pts = np.array(found, np.float64)
    keep = np.ones(len(pts), bool)
    order = 2 if len(pts) >= 10 else 1 if len(pts) >= 4 else 0
    for _ in range(4):
        t = _terms(pts[keep, 0], pts[keep, 1], w, h, order)
        cx, *_ = np.linalg.lstsq(t, pts[keep, 2], rcond=None)
        cy, *_ = np.linalg.lstsq(t, pts[keep, 3], rcond=None)
        t_all = _terms(pts[:, 0], pts[:, 1], w, h, order)
        miss = np.hypot(t_all @ cx - pts[:, 2], t_all @ cy - pts[:, 3])
        new = miss <= OUTLIER
        if new.sum() < max(3, t.shape[1] + 1) or (new == keep).all():
            break
        keep = new
    return cx, cy, order


#: A row's own match may differ from the page's smooth shift by this much, in pixels.
OUTLIER = 3.0


def _offsets(
    dark: np.ndarray, groups: list[list[Area]], layout: SheetLayout
) -> list[list[tuple[int, int]]]:
    """Each box's shift from where the straightened page puts it: the rows' printed outlines
    matched, a smooth shift over the page fitted through them (so a row a mark pulled off, or
    one whose outline cannot be found, follows the others), then each box settled on its own
    outline near it."""
    lines = _lines(dark)
    H, W = dark.shape
    found = []
    for group in groups:
        shift = _shift(lines, group, layout)
        if shift is not None:
            found.append((*_centre(group), *shift))
    fit = _field(found, W, H)
    out = []
    for group in groups:
        if fit is None:
            guess = [(0.0, 0.0)] * len(group)
        else:
            cx, cy, order = fit
            xs = np.array([(a.box[0] + a.box[2]) / 2 * K for a in group])
            ys = np.array([(a.box[1] + a.box[3]) / 2 * K for a in group])
            t = _terms(xs, ys, W, H, order)
            guess = list(zip(t @ cx, t @ cy, strict=True))
        out.append(_settle(lines, group, layout, guess))
    return out


def _middle(values: list[int]) -> int:
    """The median of two or three shifts (the lower middle of two), without numpy's cost."""
    return sorted(values)[(len(values) - 1) // 2]


def _settle(
    dark: np.ndarray, group: list[Area], layout: SheetLayout, guess: list[tuple[float, float]]
) -> list[tuple[int, int]]:
    """Each box's own shift: its printed outline found near the guess, then smoothed along the
    row (median of each box and its neighbours), so a mark over one outline cannot pull it off."""
    H, W = dark.shape
    found: list[tuple[int, int]] = []
    for a, (gx, gy) in zip(group, guess, strict=True):
        dx, dy = int(round(gx)), int(round(gy))
        z = _zone(a, layout)
        n = z.outline.shape[0]
        zx = int(round(a.box[0] * K)) - z.pad + dx - SETTLE
        zy = int(round(a.box[1] * K)) - z.pad + dy - SETTLE
        if zx < 0 or zy < 0 or zx + n + 2 * SETTLE > W or zy + n + 2 * SETTLE > H:
            found.append((dx, dy))
            continue
        win = dark[zy : zy + n + 2 * SETTLE, zx : zx + n + 2 * SETTLE]
        res = cv2.matchTemplate(win, z.outline, cv2.TM_CCORR_NORMED)
        _, _, _, loc = cv2.minMaxLoc(res)
        found.append((dx + loc[0] - SETTLE, dy + loc[1] - SETTLE))
    out = []
    for i in range(len(found)):
        near = found[max(0, i - 1) : i + 2]
        out.append((_middle([f[0] for f in near]), _middle([f[1] for f in near])))
    return out


_PRINTED: dict[SheetSpec, np.ndarray] = {}


def _printed(layout: SheetLayout, shape: tuple[int, int]) -> np.ndarray:
    """Every outline and number printed in the answer areas, over the whole page, grown a little."""
    mask = _PRINTED.get(layout.spec)
    if mask is not None and mask.shape == shape:
        return mask
    out = np.zeros(shape, bool)
    for a in layout.areas:
        z = _zone(a, layout)
        zx = int(round(a.box[0] * K)) - z.pad
        zy = int(round(a.box[1] * K)) - z.pad
        n = z.printed.shape[0]
        if zx >= 0 and zy >= 0 and zx + n <= shape[1] and zy + n <= shape[0]:
            out[zy : zy + n, zx : zx + n] |= z.printed
    _PRINTED[layout.spec] = out
    return out


_OWNER: dict[SheetSpec, np.ndarray] = {}


def _owner(layout: SheetLayout, shape: tuple[int, int]) -> np.ndarray:
    """Which row of boxes (its index in `_groups`) each pixel of the page lies nearest to.

    A mark is its own row's: a ring round a leaks circle that overruns up into the tick box
    above, or a tick that overshoots into the circles below, is not counted there.
    """
    owner = _OWNER.get(layout.spec)
    if owner is not None and owner.shape == shape:
        return owner
    # Drawn at half the page's resolution: a row's edge need not be known to the pixel.
    small = ((shape[0] + 1) // 2, (shape[1] + 1) // 2)
    seeds = np.full(small, 255, np.uint8)
    centres: list[tuple[int, int, int]] = []
    for gid, group in enumerate(_groups(layout).values()):
        for a in group:
            x0, y0, x1, y1 = (int(round(v * K / 2)) for v in a.box)
            if a.shape == "circle":
                cv2.circle(seeds, ((x0 + x1) // 2, (y0 + y1) // 2), max(1, (x1 - x0) // 2), 0, -1)
            else:
                cv2.rectangle(seeds, (x0, y0), (x1, y1), 0, -1)
            centres.append(((y0 + y1) // 2, (x0 + x1) // 2, gid))
    _, labels = cv2.distanceTransformWithLabels(
        seeds, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_CCOMP
    )
    lut = np.full(int(labels.max()) + 1, -1, np.int32)
    for y, x, gid in centres:
        if 0 <= y < small[0] and 0 <= x < small[1]:
            lut[labels[y, x]] = gid
    owner = np.repeat(np.repeat(lut[labels], 2, 0), 2, 1)[: shape[0], : shape[1]]
    _OWNER[layout.spec] = owner
    return owner


def _read_areas(page: np.ndarray, layout: SheetLayout) -> list[AreaRead]:
    dark = _darkness(page)
    ink = dark >= INK
    H, W = ink.shape
    printed = _printed(layout, ink.shape)
    owner = _owner(layout, ink.shape)
    groups = list(_groups(layout).values())
    offsets = _offsets(dark, groups, layout)
    raw: list[tuple[Area, float, float, int, int, float]] = []
    row_rim: dict[int, float] = {}
    strays: dict[int, list[float]] = {}
    claim = _rings(ink, printed, groups, offsets, layout)
    for gid, group in enumerate(groups):
        for i, (a, (dx, dy)) in enumerate(zip(group, offsets[gid], strict=True)):
            z = _zone(a, layout)
            zx = int(round(a.box[0] * K)) - z.pad + dx
            zy = int(round(a.box[1] * K)) - z.pad + dy
            n = z.free.shape[0]
            px, py = zx - dx, zy - dy
            if min(zx, zy, px, py) < 0 or max(zx, px) + n > W or max(zy, py) + n > H:
                raw.append((a, 0.0, 0.0, 0, 0, 0.0))
                continue
            # The row's own ink (the pixels nearest it), less any ring drawn round another
            # circle; then less the print (its own outline and digits and its neighbours').
            theirs = claim[zy : zy + n, zx : zx + n]
            here = ink[zy : zy + n, zx : zx + n] & (owner[py : py + n, px : px + n] == gid)
            here &= (theirs == 0) | (theirs == gid * 100 + i + 1)
            win = here & ~printed[py : py + n, px : px + n]
            # Pen over the printed number and outline, on the part another circle's ring
            # leaves visible, taken as if it went on under the ring.
            seen = (theirs == 0) | (theirs == gid * 100 + i + 1)
            over_digit = _extrapolate(here, z.digit, seen)
            over_rim = _extrapolate(here, z.rim, seen)
            # Ink in the zone per millimetre of box side: a stroke across counts the same on
            # small and large print.
            # The strokes that are the area's own: those that enter it, and round a circle a
            # ring, ink in the band just outside it that goes at least half way round.
            mine = _reaching(win & z.free, z.inner)
            around = 0.0
            if a.shape == "circle":
                band = win & (z.sectors >= 0)
                around = len(np.unique(z.sectors[band])) / 16
                if around >= 0.5:
                    mine |= band
            score = float(mine[z.free].sum()) / ((a.box[2] - a.box[0]) * K * K * MM)
            fill = float(win[z.inner].mean())
            if a.shape == "circle":
                # A ring drawn round the printed circle: ink all the way round, just outside.
                score += RING * max(0.0, around - 0.4)
            own = dark[zy : zy + n, zx : zx + n][mine & z.free]
            tone = float(np.percentile(own, 90)) if own.size else 0.0
            raw.append((a, score, fill, over_digit, over_rim, tone))
        strays[gid] = _stray(ink, printed, owner, gid, group, layout)
        if group[0].shape == "circle":
            # A row's circles share one outline: its usual ink is the row's own (most of a
            # row's circles are left alone), whatever the patient marks on other days.
            mine = raw[len(raw) - len(group) :]
            rim = float(np.median([r[4] for r in mine]))
            row_rim.update({id(r[0]): rim for r in mine})
    # Pen over a printed number or outline (a ring drawn tight round a circle): the print inks
    # the same pixels on every day's row, so only what an area holds there beyond the usual for
    # that area on the page counts. The usual is taken from the rows where the area otherwise
    # looks empty, so a patient marking the same value every day does not become the usual.
    usual: dict[tuple[str, int | None, int | None], list[tuple[int, int]]] = {}
    every: dict[tuple[str, int | None, int | None], list[tuple[int, int]]] = {}
    for a, score, _, d, r, _ in raw:
        key = (a.field, a.value, a.index)
        every.setdefault(key, []).append((d, r))
        if score <= LOOKS_EMPTY:
            usual.setdefault(key, []).append((d, r))
    base = {}
    for key, v in every.items():
        rows = usual.get(key, [])
        rows = rows if len(rows) >= 2 else v
        base[key] = (float(np.median([d for d, _ in rows])), float(np.median([r for _, r in rows])))
    # The print about a row (the table's rules, a label) is the same on every day's: only what
    # an area has about it beyond the usual for that area on the page is stray ink.
    usual_stray: dict[tuple[str, int | None, int | None], list[float]] = {}
    for gid, group in enumerate(groups):
        for a, v in zip(group, strays[gid], strict=True):
            usual_stray.setdefault((a.field, a.value, a.index), []).append(v)
    stray = {
        id(a): max(0.0, v - float(np.median(usual_stray[(a.field, a.value, a.index)])))
        for gid, group in enumerate(groups)
        for a, v in zip(group, strays[gid], strict=True)
    }
    scored = []
    for a, score, fill, d, r, tone in raw:
        bd, br = base[(a.field, a.value, a.index)]
        br = row_rim.get(id(a), br)
        rim_slack = RIM_SLACK * int(_zone(a, layout).rim.sum())
        extra = max(0.0, d - bd - DIGIT_SLACK) + max(0.0, r - br - rim_slack)
        score += float(extra) / ((a.box[2] - a.box[0]) * K * K * MM)
        scored.append((a, score, fill, tone))
    pens = _pens(scored)
    return [
        AreaRead(a, s, f, _state(s, t, pens.get(a.day)), t, stray[id(a)]) for a, s, f, t in scored
    ]


def _stray(
    ink: np.ndarray, printed: np.ndarray, owner: np.ndarray, gid: int, group: list[Area],
    layout: SheetLayout,
) -> list[float]:  # fmt: skip
    """For each area of a row, the row's ink that lies in none of its areas' zones and nearer
    this area than any other (a loose ring's stroke round it, a stroke overrunning it), in the
    score's units."""
    placed = []
    for a in group:
        z = _zone(a, layout)
        placed.append((int(round(a.box[0] * K)) - z.pad, int(round(a.box[1] * K)) - z.pad, z))
    x0, y0 = min(p[0] for p in placed), min(p[1] for p in placed)
    x1 = max(p[0] + p[2].free.shape[1] for p in placed)
    y1 = max(p[1] + p[2].free.shape[0] for p in placed)
    if x0 < 0 or y0 < 0 or x1 > ink.shape[1] or y1 > ink.shape[0]:
        return [0.0] * len(group)
    covered = np.zeros((y1 - y0, x1 - x0), bool)
    for x, y, z in placed:
        n = z.free.shape[0]
        covered[y - y0 : y - y0 + n, x - x0 : x - x0 + n] |= z.free | z.printed
    rest = ink[y0:y1, x0:x1] & ~printed[y0:y1, x0:x1] & (owner[y0:y1, x0:x1] == gid) & ~covered
    ys, xs = np.nonzero(rest)
    if not len(xs):
        return [0.0] * len(group)
    centres = np.array([((a.box[0] + a.box[2]) / 2 * K - x0, (a.box[1] + a.box[3]) / 2 * K - y0)
                        for a in group])  # fmt: skip
    nearest = np.argmin(np.hypot(xs[:, None] - centres[:, 0], ys[:, None] - centres[:, 1]), 1)
    unit = (group[0].box[2] - group[0].box[0]) * K * K * MM
    return [float(c) / unit for c in np.bincount(nearest, minlength=len(group))]


def _pens(scored: list[tuple[Area, float, float, float]]) -> dict[int, float]:
    """How dark each day's clear marks are (the median tone of its areas marked beyond doubt);
    a day without one takes the page's. A patient fills in a day with one pen."""
    by: dict[int, list[float]] = {}
    for a, score, _, tone in scored:
        if score >= MARKED and tone > 0:
            by.setdefault(a.day, []).append(tone)
    every = [t for tones in by.values() for t in tones]
    if not every:
        return {}
    page = float(np.median(every))
    return {a.day: float(np.median(by[a.day])) if a.day in by else page for a, *_ in scored}


def _rings(
    ink: np.ndarray,
    printed: np.ndarray,
    groups: list[list[Area]],
    offsets: list[list[tuple[int, int]]],
    layout: SheetLayout,
) -> np.ndarray:
    """Where a ring drawn round a circle runs, marked with that circle's number (row * 100 +
    place + 1), 0 elsewhere. A ring is the circle's wherever it goes: on large print a loose ring
    round a leaks circle crosses the pain circle below it, and must not count there. Rows do not
    own a ring's pixels (it runs into the next row's), so the whole band round the circle is
    looked at; a ring goes at least half way round (CLAIM sectors of 16) just outside it. Each
    pixel is claimed once, by the fullest ring first."""
    claim = np.zeros(ink.shape, np.int32)
    H, W = ink.shape
    found: list[tuple[int, int, _Zone, int, int, np.ndarray, np.ndarray]] = []
    for gid, group in enumerate(groups):
        for i, (a, (dx, dy)) in enumerate(zip(group, offsets[gid], strict=True)):
            if a.shape != "circle":
                continue
            z = _zone(a, layout)
            n = z.free.shape[0]
            zx = int(round(a.box[0] * K)) - z.pad + dx
            zy = int(round(a.box[1] * K)) - z.pad + dy
            px, py = zx - dx, zy - dy
            if min(zx, zy, px, py) < 0 or max(zx, px) + n > W or max(zy, py) + n > H:
                continue
            pen = ink[zy : zy + n, zx : zx + n] & (z.sectors >= 0)
            band = pen & ~printed[py : py + n, px : px + n]
            around = len(np.unique(z.sectors[band]))
            if around >= CLAIM:
                found.append((around, gid * 100 + i + 1, z, zx, zy, pen, band))
    # The fullest rings first: a loose ring passing close by another circle can cover half of
    # that one's band too, and is the first one's, not a second ring.
    for _, number, z, zx, zy, pen, band in sorted(found, key=lambda f: -f[0]):
        n = z.free.shape[0]
        window = claim[zy : zy + n, zx : zx + n]
        band = band & (window == 0)
        if len(np.unique(z.sectors[band])) < CLAIM:
            continue
        # where it crosses the next circle's outline too: the ring, not that circle's
        window[pen & ~z.printed & (window == 0)] = number
    return claim


#: Sectors of 16 round a circle a ring must cover to be that circle's wherever it runs.
CLAIM = 8


def _extrapolate(ink: np.ndarray, mask: np.ndarray, seen: np.ndarray) -> int:
    """The ink over `mask`, counted where it can be seen and scaled up to the whole mask."""
    visible = int((mask & seen).sum())
    if visible == 0:
        return 0
    return int(round(int(ink[mask & seen].sum()) * int(mask.sum()) / visible))


def _reaching(ink: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The strokes of `ink` that reach into `inner`: a mark is the box's own when it enters the
    box; the edge of a ring or a tick drawn for a neighbour, which only grazes the zone, is not."""
    count, labels = cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)
    if count <= 1:
        return ink
    keep = np.zeros(count, bool)
    keep[np.unique(labels[ink & inner])] = True
    keep[0] = False
    return keep[labels]


def _state(score: float, tone: float = 0.0, pen: float | None = None) -> str:
    """Marked, empty or unsure. A mark in the unsure band drawn as dark as the day's clear marks
    is one the print or the box's edge hides in part (a tick across a printed number, one drawn
    mostly outside its box): it is marked. One much lighter than them (an erased mark, a pencil
    ghost beside biro) stays unsure, as does a faint mark on a page with no clear mark to go by."""
    if score >= MARKED:
        return "marked"
    if score <= EMPTY:
        return "empty"
    if pen is not None and tone >= SAME_PEN * pen:
        return "marked"
    return "unsure"


def _confidence(score: float) -> float:
    """How far a score sits from the unsure band, as 0.5 (on its edge) to 1; a mark inside the
    band read by its pen (see `_state`) is on the edge."""
    if score >= MARKED:
        return min(1.0, 0.5 + (score - MARKED) / (2 * MARKED))
    if score <= EMPTY:
        return min(1.0, 0.5 + (EMPTY - score) / (2 * EMPTY))
    return 0.5


def _choose(reads: list[AreaRead]) -> tuple[int | None, float, bool]:
    """One value from a row of circles: (value, confidence, unsure).

    The strongest mark wins when it clearly stands out from the rest (an overrunning stroke
    leaves a little ink in its neighbours); a filled-in circle beside a plain mark is one crossed
    out, and the plain mark is the answer; anything else is reported unsure.
    """
    ranked = sorted(reads, key=lambda r: -r.score)
    if not ranked:
        return None, 1.0, False
    best = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    third = ranked[2].score if len(ranked) > 2 else 0.0
    if best.score <= CIRCLE_EMPTY:
        return None, round(min(1.0, 0.5 + (CIRCLE_EMPTY - best.score) / CIRCLE_EMPTY / 2), 3), False
    other = ranked[1] if len(ranked) > 1 else None
    if (
        _filled(best)
        and other is not None
        # a clear re-mark, or one in the day's pen that the print half hides, not right beside
        # the scribble (where a faint one could be the scribble's own spill)
        and (other.score >= CIRCLE_MARKED or (other.state == "marked" and _apart(other, best)))
        # the other mark is not a fill of its own (a cross in a small circle covers half of it)
        and (other.fill < _full(other) * 0.8 or other.fill <= best.fill - SCRIBBLE_GAP)
        and third <= RATIO * ranked[1].score
    ):
        # A scribble's spill onto the next circle only grazes it (strokes must enter a circle
        # to count), so a re-mark beside it, even the very next one, is the patient's answer.
        return other.area.value, 0.75, False
    if (
        best.state == "marked"
        and best.score < CIRCLE_MARKED
        and second <= TRACE
        and sum(r.stray for r in ranked[1:]) <= best.score / 2
    ):
        # The row's one mark, faint only where the print hides it, in the day's own pen, with
        # no more ink astray about the other circles (a loose ring round a neighbour that
        # only grazes this circle leaves its stroke outside every circle) than half its own.
        return best.area.value, 0.55, False
    if _filled(best) and (
        second > CIRCLE_EMPTY or any(r.score > FAR_TRACE and _apart(r, best) for r in ranked[1:])
    ):
        # A filled circle and another mark, even a doubtful one (a light pencil ring lost in
        # its outline; beyond the next circle, where no spill of the fill reaches, even a
        # trace): the fill may be a choice scribbled out, so it is not read as sure.
        return None, 0.0, True
    # Beside the winner, only a trace (an overrun's tip, a scribble's spill) is allowed: a
    # second clear mark is a second answer, unless the winner is a scribble crossing it out.
    clear = 2 * CIRCLE_MARKED  # a mark of its own, not a trace
    if best.score >= CIRCLE_MARKED and second <= RATIO * best.score and second < clear:
        margin = 1 - second / best.score
        strength = min(1.0, 0.5 + (best.score - CIRCLE_MARKED) / (2 * CIRCLE_MARKED))
        return best.area.value, round(min(strength, 0.5 + margin / 2), 3), False
    return None, 0.0, True


def _full(r: AreaRead) -> float:
    """The share of a circle's inside from which it counts as filled in (by its size)."""
    return FILLED_LARGE if r.area.box[2] - r.area.box[0] >= LARGE_CIRCLE * MM else FILLED


def _filled(r: AreaRead) -> bool:
    return r.fill >= _full(r)


def _apart(a: AreaRead, b: AreaRead) -> bool:
    """Two circles with at least one circle between them."""
    return abs((a.area.value or 0) - (b.area.value or 0)) >= 2


def _days(layout: SheetLayout, areas: list[AreaRead]) -> list[DayRead]:
    by: dict[tuple[int, str], list[AreaRead]] = {}
    for r in areas:
        by.setdefault((r.area.day, r.area.field), []).append(r)
    days = []
    for day in sorted({r.area.day for r in areas} | {row.day for row in layout.rows}):
        unsure: list[str] = []
        conf: dict[str, float] = {}
        ticks = sorted(by.get((day, "session"), []), key=lambda r: r.area.index or 0)
        sessions = tuple(r.state == "marked" for r in ticks)
        if any(r.state == "unsure" for r in ticks):
            unsure.append("sessions")
            conf["sessions"] = 0.0
        else:
            conf["sessions"] = min((_confidence(r.score) for r in ticks), default=1.0)
        values: dict[str, int | None] = {}
        for name in SCALES:
            value, c, doubt = _choose(by.get((day, name), []))
            values[name] = value
            conf[name] = c
            if doubt:
                unsure.append(name)
        days.append(
            DayRead(
                day=day,
                date=layout.day_date(day),
                sessions=sessions,
                pain=values["pain"],
                urgency=values["urgency"],
                leaks=values["leaks"],
                unsure=tuple(unsure),
                confidence={k: round(v, 3) for k, v in conf.items()},
            )
        )
    return days
