"""Where everything on a log sheet sits: one source for the renderer and the reader alike.

All positions are in PDF points from the page's top-left corner (y grows downwards), as the
`sheet-layout` command prints them. A layout depends only on a `SheetSpec` (paper, print size,
sessions a day, the week's first day and the page), never on the plan's text, so a reader that
knows the spec from the sheet's code knows every answer area without seeing the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from pdf.layout import page_geometry
from pdf.snapshot import PAPERS
from pdf.styles import handout_styles

MM = 72 / 25.4
#: The edition of the geometry a sheet's code names; sheets printed by an earlier one still read.
LAYOUT_VERSION = "S2"
LAYOUT_VERSIONS = ("S1", "S2")
FIELDS = ("session", "pain", "urgency", "leaks")
#: Values each row of circles offers; leaks 5 means five or more.
SCALES = {"leaks": tuple(range(6)), "urgency": tuple(range(4)), "pain": tuple(range(11))}
SCALE_LABELS = {"leaks": ("0", "1", "2", "3", "4", "5+")}
MARK_SIZE = 7 * MM
MARK_INSET = 7 * MM  # distance of the corner marks from the page's left and right edges
CODE_SIZE = 20 * MM

Box = tuple[float, float, float, float]

# ArUco 4x4 markers (OpenCV's DICT_4X4_50, ids 0-15): 16 inner cells, row by row, 1 = white.
# Marker id = 4 * variant + corner; variant = 2 * paper index + large print; corner 0-3 clockwise
# from the top left. tests/sheets checks these against OpenCV's own dictionary.
ARUCO_4X4 = (
    0b1011010100110010,
    0b0000111110011010,
    0b0011001100101101,
    0b1001100101000110,
    0b0101010010011110,
    0b0111100111001101,
    0b1001111000101110,
    0b1100010011110010,
    0b1111111011011010,
    0b1100111101010110,
    0b1111100110010001,
    0b0001000110100111,
    0b0000111010110111,
    0b0010101000001111,
    0b0010010010110001,
    0b0010011000111110,
)


@dataclass(frozen=True, slots=True)
class SheetSpec:
    """What fixes a sheet's geometry: paper, print size, tick boxes a day, first day, page."""

    paper: str
    large: bool
    sessions: int
    starts: date | None  #: None for the spare, undated sheet
    page: int = 0
    version: str = LAYOUT_VERSION  #: the geometry's edition, printed in the code

    def __post_init__(self) -> None:
        if self.version not in LAYOUT_VERSIONS:
            raise ValueError(f"version must be one of {', '.join(LAYOUT_VERSIONS)}")
        if self.paper not in PAPERS:
            raise ValueError(f"paper must be one of {', '.join(PAPERS)}, not {self.paper!r}")
        if not 0 <= self.sessions <= 99:
            raise ValueError("sessions must be 0 to 99")
        if not 0 <= self.page < pages_per_week(self.large):
            raise ValueError(f"page must be below {pages_per_week(self.large)}")

    @property
    def variant(self) -> int:
        """Which set of corner marks the sheet carries (paper and print size)."""
        return PAPERS.index(self.paper) * 2 + int(self.large)

    def tag(self) -> str:
        """The geometry part of the sheet's code, e.g. 'S2AN0320250303P0'."""
        day = self.starts.strftime("%Y%m%d") if self.starts else "00000000"
        paper = "A" if self.paper == "a4" else "L"
        size = "L" if self.large else "N"
        return f"{self.version}{paper}{size}{self.sessions:02d}{day}P{self.page}"


_TAG = re.compile(f"({'|'.join(LAYOUT_VERSIONS)})" + r"([AL])([NL])(\d\d)(\d{8})P(\d)")


def parse_tag(text: str) -> SheetSpec | None:
    """The spec in a geometry tag, or None when it is not one."""
    m = _TAG.fullmatch(text)
    if not m:
        return None
    version, paper, size, sessions, day, page = m.groups()
    try:
        starts = None if day == "00000000" else date(int(day[:4]), int(day[4:6]), int(day[6:]))
        return SheetSpec("a4" if paper == "A" else "letter", size == "L", int(sessions), starts,
                         int(page), version)  # fmt: skip
    except ValueError:
        return None


def pages_per_week(large: bool) -> int:
    """Large print spreads a week over two pages; normal print keeps it on one."""
    return 2 if large else 1


@dataclass(frozen=True, slots=True)
class Area:
    """One answer area a machine reads: a tick box, or one circle of a row of circles."""

    field: str  #: session, pain, urgency or leaks
    day: int  #: 0 to 6 within the week
    box: Box
    index: int | None = None  #: which session (tick boxes)
    value: int | None = None  #: the value the circle stands for

    @property
    def shape(self) -> str:
        """'square' for tick boxes, 'circle' for scales."""
        return "square" if self.field == "session" else "circle"


@dataclass(frozen=True, slots=True)
class Cell:
    """A handwritten cell (longest hold, leaks caused by and notes): cropped, never read."""

    field: str
    day: int
    box: Box


@dataclass(frozen=True, slots=True)
class DayRow:
    """One day's row: where its label goes and the boxes of its bands."""

    day: int
    box: Box
    label: Box
    bands: tuple[Box, ...]  #: the horizontal strips of the row, top to bottom
    labels: tuple[tuple[str, float, float], ...]  #: in-row captions: text, x, baseline y


@dataclass(frozen=True, slots=True)
class SheetLayout:
    """One page of one week's sheet."""

    spec: SheetSpec
    page: tuple[float, float]
    frame: Box
    marks: tuple[Box, Box, Box, Box]  #: top left, top right, bottom right, bottom left
    code: Box
    head: Box  #: room for the title, names and this week's reminder
    heading: Box | None  #: the band of column headings (normal print)
    columns: tuple[tuple[str, float, float], ...]  #: heading text, x0, x1
    rows: tuple[DayRow, ...]
    foot: Box  #: room under the grid for the legend and the questions
    areas: tuple[Area, ...]
    cells: tuple[Cell, ...]
    circle: float  #: circle diameter
    digit_size: float  #: type size of the numbers inside circles

    def day_date(self, day: int) -> date | None:
        """The date of a day of the week, None on the undated sheet."""
        return self.spec.starts + timedelta(days=day) if self.spec.starts else None

    def as_json(self) -> dict[str, object]:
        """The contract's JSON shape (page_index added when the week has several pages)."""
        fields = []
        for a in self.areas:
            day = self.day_date(a.day)
            item: dict[str, object] = {"date": day.isoformat() if day else None, "field": a.field}
            if a.field == "session":
                item["index"] = a.index
            else:
                item["value"] = a.value
            item["box"] = [round(v, 2) for v in a.box]
            if pages_per_week(self.spec.large) > 1:
                item["page_index"] = self.spec.page
            fields.append(item)
        return {"page": [round(self.page[0], 2), round(self.page[1], 2)], "fields": fields}


def week_layouts(paper: str, large: bool, sessions: int, starts: date | None) -> list[SheetLayout]:
    """Every page of one week's sheet."""
    return [
        sheet_layout(SheetSpec(paper, large, sessions, starts, page))
        for page in range(pages_per_week(large))
    ]


def session_boxes(
    count: int, width: float, height: float, preferred: float
) -> list[tuple[float, float, float]]:
    """Exactly `count` square boxes (x, y from the cell's top left, side) in a cell."""
    if count <= 0:
        return []
    size = preferred
    while True:
        gap = size * 0.5
        per_line = max(1, int((width + gap) // (size + gap)))
        lines = -(-count // per_line)
        if lines * size + (lines - 1) * gap <= height or size <= 0.5:
            break
        size *= 0.9
    block_h = lines * size + (lines - 1) * gap
    top = (height - block_h) / 2
    return [
        ((i % per_line) * (size + gap), top + (i // per_line) * (size + gap), size)
        for i in range(count)
    ]


def question_lines(spec: SheetSpec) -> int:
    """How many lines for questions the sheet's last page leaves."""
    return 2 if spec.large or spec.paper == "letter" else 3


def foot_height(spec: SheetSpec) -> float:
    """Room under the grid: the legend on a week's first page, questions on its last."""
    st = handout_styles(spec.large)
    size = st.sheet_size
    legend = size if spec.large else st.sheet_small
    h = 0.0
    if spec.page == 0:
        h += size * 0.6 + (4 if spec.large else 3) * legend * 1.3
    if spec.page == pages_per_week(spec.large) - 1:
        h += size * 1.9 + question_lines(spec) * size * 2.1 + size * 0.3
    return h


def _days_on(spec: SheetSpec) -> tuple[int, ...]:
    if not spec.large:
        return tuple(range(7))
    return (0, 1, 2) if spec.page == 0 else (3, 4, 5, 6)


@dataclass(frozen=True, slots=True)
class Spacing:
    """How the rows of circles are spaced, by edition and print size (millimetres)."""

    circle: float  #: diameter
    pitch: float  #: from one circle's centre to the next one's
    digit_size: float  #: type size of the numbers inside (points)
    # Large print only, from the start of the row's label:
    leaks_at: float = 0.0  #: where the leaks row starts
    pain_at: float = 0.0  #: where the pain row starts
    ticks_at: float = 0.0  #: where the tick boxes start
    urgency_label: float = 0.0  #: how far before the urgency row its label starts

    @property
    def gap(self) -> float:
        """The clear space between two circles side by side, in millimetres."""
        return self.pitch - self.circle


#: S1 left 1.2 mm (large) and 1.4 mm (normal) between circles, too tight for a shaky hand. S2
#: leaves 3 mm and 2 mm, and staggers the large-print leaks row by half a circle from the pain
#: row under it, so no leaks circle sits straight above a pain circle; its tick boxes start
#: nearer their label to keep the room the wider urgency row takes (boxes as large as in S1).
SPACINGS = {
    ("S1", False): Spacing(5.2, 6.6, 8.0),
    ("S1", True): Spacing(9.4, 10.6, 16.0, leaks_at=18, pain_at=16, ticks_at=30, urgency_label=26),
    ("S2", False): Spacing(5.2, 7.2, 8.0),
    ("S2", True): Spacing(9.0, 12.0, 16.0, leaks_at=20, pain_at=14, ticks_at=28, urgency_label=25),
}


def spacing(spec: SheetSpec) -> Spacing:
    """The circles' spacing on a sheet of this spec."""
    return SPACINGS[spec.version, spec.large]


@dataclass(frozen=True, slots=True)
class _Grid:
    """What the normal and the large-print grids differ in; the rest of a page is shared."""

    head_end: float  #: where the room for the title and reminder ends
    grid_bottom: float  #: where the foot begins
    rows: tuple[DayRow, ...]
    areas: tuple[Area, ...]
    cells: tuple[Cell, ...]
    heading: Box | None = None
    columns: tuple[tuple[str, float, float], ...] = ()


@cache
def sheet_layout(spec: SheetSpec) -> SheetLayout:
    """Lay out one page of a week's sheet."""
    st = handout_styles(spec.large)
    g = page_geometry(spec.paper, st)
    w, h = g.width, g.height
    left, right, top, bottom = g.left, g.right, h - g.top, h - g.bottom
    frame = (left, top, right, bottom)
    marks = (
        (MARK_INSET, top, MARK_INSET + MARK_SIZE, top + MARK_SIZE),
        (w - MARK_INSET - MARK_SIZE, top, w - MARK_INSET, top + MARK_SIZE),
        (w - MARK_INSET - MARK_SIZE, bottom - MARK_SIZE, w - MARK_INSET, bottom),
        (MARK_INSET, bottom - MARK_SIZE, MARK_INSET + MARK_SIZE, bottom),
    )
    sp = spacing(spec)
    grid = _large(spec, frame, sp) if spec.large else _normal(spec, frame, sp)
    return SheetLayout(
        spec=spec,
        page=(w, h),
        frame=frame,
        marks=marks,
        code=(right - CODE_SIZE, top, right, top + CODE_SIZE),
        head=(left, top, right, grid.head_end),
        heading=grid.heading,
        columns=grid.columns,
        rows=grid.rows,
        foot=(left, grid.grid_bottom, right, bottom),
        areas=grid.areas,
        cells=grid.cells,
        circle=sp.circle * MM,
        digit_size=sp.digit_size,
    )


def _circles(field: str, day: int, x: float, yc: float, sp: Spacing) -> tuple[list[Area], float]:
    """A row of circles starting at x, centred on yc; returns the areas and the x after them."""
    out = []
    pitch, r = sp.pitch * MM, sp.circle * MM / 2
    for i, value in enumerate(SCALES[field]):
        cx = x + pitch * (i + 0.5)
        out.append(Area(field, day, (cx - r, yc - r, cx + r, yc + r), value=value))
    return out, x + pitch * len(SCALES[field])


def _ticks(
    day: int, x0: float, y0: float, x1: float, y1: float, count: int, preferred: float
) -> list[Area]:
    boxes = session_boxes(count, x1 - x0, y1 - y0, preferred)
    return [
        Area("session", day, (x0 + bx, y0 + by, x0 + bx + s, y0 + by + s), index=i)
        for i, (bx, by, s) in enumerate(boxes)
    ]


def _normal(spec: SheetSpec, frame: Box, sp: Spacing) -> _Grid:
    left, _, right, bottom = frame
    width = right - left
    band = 9 * MM
    st = handout_styles(False)
    foot_h = foot_height(spec)
    pitch = sp.pitch * MM
    day_w, hold_w = 20 * MM, 22 * MM
    leaks_w, urgency_w = 6 * pitch + 4 * MM, 4 * pitch + 4 * MM
    sess_w = width - day_w - hold_w - leaks_w - urgency_w
    xs = [left, left + day_w]
    for cw in (sess_w, hold_w, leaks_w, urgency_w):
        xs.append(xs[-1] + cw)
    head_h = 9 * MM
    grid_bottom = bottom - foot_h
    grid_top = grid_bottom - 7 * 2 * band - head_h
    columns = (
        ("Day", xs[0], xs[1]),
        ("Sessions done: tick a box for each", xs[1], xs[2]),
        ("Longest hold", xs[2], xs[3]),
        ("Leaks today", xs[3], xs[4]),
        ("Urgency", xs[4], xs[5]),
    )
    rows, areas, cells = [], [], []
    pain_x = xs[1] + 13 * MM
    pain_end = pain_x + 11 * pitch + 2 * MM
    for day in range(7):
        y0 = grid_top + head_h + day * 2 * band
        b1 = (xs[1], y0, right, y0 + band)
        b2 = (xs[1], y0 + band, right, y0 + 2 * band)
        pad = 1.6 * MM
        areas += _ticks(day, xs[1] + pad, y0 + 1.8 * MM, xs[2] - pad, y0 + band - 1.8 * MM,
                        spec.sessions, 5.2 * MM)  # fmt: skip
        yc = y0 + band / 2
        areas += _circles("leaks", day, xs[3] + 2 * MM, yc, sp)[0]
        areas += _circles("urgency", day, xs[4] + 2 * MM, yc, sp)[0]
        areas += _circles("pain", day, pain_x, yc + band, sp)[0]
        cells += [
            Cell("hold", day, (xs[2], y0, xs[3], y0 + band)),
            Cell("trigger", day, (pain_end, y0 + band, right, y0 + 2 * band)),
        ]
        rows.append(
            DayRow(
                day=day,
                box=(left, y0, right, y0 + 2 * band),
                label=(left, y0, xs[1], y0 + 2 * band),
                bands=(b1, b2),
                labels=(
                    ("Pain", xs[1] + pad, y0 + band * 1.5 + st.sheet_small * 0.35),
                    ("Leaks caused by, notes:", pain_end + pad, y0 + band + st.sheet_small * 1.2),
                    ("s", xs[3] - pad, y0 + band - pad),
                ),
            )
        )
    return _Grid(
        head_end=grid_top - 1 * MM,
        grid_bottom=grid_bottom,
        rows=tuple(rows),
        areas=tuple(areas),
        cells=tuple(cells),
        heading=(left, grid_top, right, grid_top + head_h),
        columns=columns,
    )


def _large(spec: SheetSpec, frame: Box, sp: Spacing) -> _Grid:
    left, _, right, bottom = frame
    st = handout_styles(True)
    size = st.sheet_size
    line, gap = (10.5 * MM, 2.5 * MM) if spec.paper == "a4" else (10 * MM, 2 * MM)
    block = 4 * line + gap
    pitch = sp.pitch * MM
    day_w = 27 * MM
    days = _days_on(spec)
    grid_bottom = bottom - foot_height(spec)
    grid_top = grid_bottom - len(days) * block
    x = left + day_w
    rows, areas, cells = [], [], []
    urgency_x = right - 4 * pitch
    urgency_label = urgency_x - sp.urgency_label * MM
    for n, day in enumerate(days):
        y0 = grid_top + n * block + gap
        bands = tuple((x, y0 + i * line, right, y0 + (i + 1) * line) for i in range(4))
        base = [b[1] + line / 2 + size * 0.35 for b in bands]
        areas += _ticks(day, x + sp.ticks_at * MM, y0 + 1 * MM, urgency_label - 3 * MM,
                        y0 + line - 1 * MM, spec.sessions, 8.4 * MM)  # fmt: skip
        urgency, _ = _circles("urgency", day, urgency_x, y0 + line / 2, sp)
        leaks, after = _circles("leaks", day, x + sp.leaks_at * MM, y0 + line * 1.5, sp)
        pain, _ = _circles("pain", day, x + sp.pain_at * MM, y0 + line * 2.5, sp)
        areas += urgency + leaks + pain
        hold_x = x + 42 * MM
        notes_x = hold_x + 30 * MM
        cause_x = after + 3 * MM
        cells += [
            Cell("hold", day, (hold_x, bands[3][1], hold_x + 22 * MM, bands[3][3])),
            Cell("trigger", day, (cause_x, bands[1][1], right, bands[1][3])),
            Cell("notes", day, (notes_x, bands[3][1], right, bands[3][3])),
        ]
        rows.append(
            DayRow(
                day=day,
                box=(left, y0, right, y0 + 4 * line),
                label=(left, y0, x, y0 + 4 * line),
                bands=bands,
                labels=(
                    ("Sessions", x, base[0]),
                    ("Urgency", urgency_label, base[0]),
                    ("Leaks", x, base[1]),
                    ("Caused by:", cause_x, base[1]),
                    ("Pain", x, base[2]),
                    ("Longest hold", x, base[3]),
                    ("s", hold_x + 23 * MM, base[3]),
                    ("Notes:", notes_x + 1.5 * MM, base[3]),
                ),
            )
        )
    return _Grid(
        head_end=grid_top,
        grid_bottom=grid_bottom,
        rows=tuple(rows),
        areas=tuple(areas),
        cells=tuple(cells),
    )


def aruco_cells(marker_id: int) -> list[tuple[int, int]]:
    """The black cells (column, row) of a 6 x 6 marker, border included."""
    bits = ARUCO_4X4[marker_id]
    black = []
    for r in range(6):
        for c in range(6):
            border = r in (0, 5) or c in (0, 5)
            if border or not (bits >> (15 - ((r - 1) * 4 + (c - 1)))) & 1:
                black.append((c, r))
    return black
