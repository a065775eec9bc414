"""Vector pictures: each position, the pelvic floor per cue set, and the breath for a drop.

Built with ReportLab's graphics once per process, drawn into each document once as a form
XObject and reused wherever the picture appears. Line art in near-black on white with light grey
fills, no words inside (captions are text beside them), so they print the same in black and white.
"""

from __future__ import annotations

from functools import cache

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Circle, Drawing, Ellipse, Line, Path, Polygon, PolyLine, Rect
from reportlab.lib.colors import Color, HexColor
from reportlab.platypus import Flowable

from pdf.fonts import register_fonts

INK = HexColor("#1A1A1A")
FILL = Color(0.86, 0.86, 0.86)  # light grey: reads as a tint in colour and in black and white
PALE = Color(0.94, 0.94, 0.94)
W, H = 120.0, 90.0  # every picture is drawn in this box, then scaled

#: plain-words captions for each position picture
POSITION_CAPTIONS = {
    "lying": "Lying on your back with your knees bent",
    "side_lying": "Lying on your side, a pillow between your knees",
    "sitting": "Sitting upright, feet flat on the floor",
    "standing": "Standing tall, feet a little apart",
    "childs_pose": "Kneeling folded forward (child's pose)",
    "functional": "During everyday things, like lifting a bag",
}


def _limb(points: list[float], width: float = 5.0) -> PolyLine:
    return PolyLine(points, strokeColor=INK, strokeWidth=width, strokeLineCap=1, strokeLineJoin=1)


def _head(x: float, y: float, r: float = 7.0) -> Circle:
    return Circle(x, y, r, fillColor=FILL, strokeColor=INK, strokeWidth=1.6)


def _floor(d: Drawing, y: float = 8.0) -> None:
    d.add(Line(4, y, W - 4, y, strokeColor=INK, strokeWidth=1.2))


def _lying() -> Drawing:
    d = Drawing(W, H)
    _floor(d)
    d.add(Rect(6, 9, 20, 7, rx=3, ry=3, fillColor=PALE, strokeColor=INK, strokeWidth=1))
    d.add(_head(17, 23))
    d.add(_limb([25, 20, 66, 17]))  # body
    d.add(_limb([66, 17, 82, 42, 98, 11, 106, 11]))  # thigh, shin, foot
    d.add(_limb([32, 19, 52, 13], 4))  # arm along the body
    return d


def _side_lying() -> Drawing:
    d = Drawing(W, H)
    _floor(d)
    d.add(Rect(6, 9, 22, 9, rx=3, ry=3, fillColor=PALE, strokeColor=INK, strokeWidth=1))
    d.add(_head(18, 26))
    d.add(_limb([26, 24, 64, 20]))  # body on its side
    d.add(_limb([64, 20, 86, 30, 80, 11, 88, 11]))  # top leg
    d.add(_limb([64, 18, 84, 22, 76, 10], 4))  # lower leg
    d.add(Ellipse(85, 25, 5, 4, fillColor=PALE, strokeColor=INK, strokeWidth=1))  # pillow
    d.add(_limb([30, 24, 44, 34, 54, 30], 4))  # arm resting in front
    return d


def _sitting() -> Drawing:
    d = Drawing(W, H)
    _floor(d)
    chair = PolyLine([38, 8, 38, 38, 74, 38, 74, 8], strokeColor=INK, strokeWidth=1.6)
    d.add(chair)
    d.add(Line(38, 38, 36, 70, strokeColor=INK, strokeWidth=1.6))  # chair back
    d.add(_head(50, 80))
    d.add(_limb([50, 72, 50, 42]))  # upright back
    d.add(_limb([50, 42, 80, 42, 80, 10, 90, 10]))  # thigh, shin, foot
    d.add(_limb([50, 66, 60, 52, 72, 46], 4))  # hands on the thighs
    return d


def _standing() -> Drawing:
    d = Drawing(W, H)
    _floor(d)
    d.add(_head(60, 80))
    d.add(_limb([60, 72, 60, 42]))
    d.add(_limb([60, 42, 53, 9, 47, 9]))
    d.add(_limb([60, 42, 67, 9, 73, 9]))
    d.add(_limb([60, 68, 50, 46], 4))
    d.add(_limb([60, 68, 70, 46], 4))
    return d


def _childs_pose() -> Drawing:
    d = Drawing(W, H)
    _floor(d)
    d.add(_limb([98, 11, 70, 11, 84, 28]))  # shins on the floor, thighs up to the hips
    d.add(_limb([84, 28, 48, 20]))  # back folded forward
    d.add(_head(41, 16))
    d.add(_limb([52, 20, 30, 11, 14, 11], 4))  # arms stretched forward
    return d


def _functional() -> Drawing:
    d = Drawing(W, H)
    _floor(d)
    d.add(_head(52, 78))
    d.add(_limb([53, 70, 60, 42]))  # back leaning a little forward
    d.add(_limb([60, 42, 44, 30, 48, 9, 56, 9]))  # bent knees
    d.add(_limb([60, 42, 70, 26, 68, 9, 76, 9]))
    d.add(Rect(26, 28, 22, 18, fillColor=PALE, strokeColor=INK, strokeWidth=1.6))  # a bag
    d.add(_limb([54, 64, 46, 46], 4))  # arms holding it
    return d


def _arrow(x: float, y: float, down: bool, size: float = 7.0) -> list[object]:
    tip = y - size if down else y + size
    shaft = Line(x, y + (size if down else -size), x, y, strokeColor=INK, strokeWidth=2)
    head = Polygon(
        [x - size * 0.6, y, x + size * 0.6, y, x, tip],
        fillColor=INK,
        strokeColor=INK,
        strokeWidth=0,
    )
    return [shaft, head]


def _breath() -> Drawing:
    """Two torsos: breathing in, diaphragm and pelvic floor down; breathing out, both up."""
    d = Drawing(W, H)
    for x0, down in ((4, True), (64, False)):
        cx = x0 + 26
        d.add(Rect(x0, 6, 52, 80, rx=18, ry=18, fillColor=None, strokeColor=INK, strokeWidth=1.4))
        drop = 8 if down else 0
        dia = Path(strokeColor=INK, strokeWidth=3.2, fillColor=None, strokeLineCap=1)
        dia.moveTo(x0 + 4, 56 - drop)
        dia.curveTo(x0 + 14, 72 - drop, x0 + 38, 72 - drop, x0 + 48, 56 - drop)
        d.add(dia)
        floor = Path(strokeColor=INK, strokeWidth=3.2, fillColor=None, strokeLineCap=1)
        floor.moveTo(x0 + 6, 26)
        floor.curveTo(x0 + 16, 14 - drop, x0 + 36, 14 - drop, x0 + 46, 26)
        d.add(floor)
        for shape in _arrow(cx, 78 - drop if down else 62, down):
            d.add(shape)
        for shape in _arrow(cx, 34 - drop if down else 20, down):
            d.add(shape)
    return d


def _organ(d: Drawing, x: float, y: float, rx: float, ry: float) -> None:
    d.add(Ellipse(x, y, rx, ry, fillColor=PALE, strokeColor=INK, strokeWidth=1.2))


def _tube(d: Drawing, points: list[float]) -> None:
    d.add(_limb(points, 2.5))


def _pelvic_floor(cue_set: str) -> Drawing:
    """A side view: front on the left; the muscles are the thick sling at the bottom."""
    d = Drawing(W, H)
    outline = Path(strokeColor=INK, strokeWidth=1.2, fillColor=None)
    outline.moveTo(14, 84)
    outline.curveTo(4, 60, 8, 30, 30, 22)
    outline.moveTo(106, 84)
    outline.curveTo(116, 58, 110, 30, 92, 22)
    d.add(outline)
    d.add(Rect(8, 16, 12, 10, rx=3, ry=3, fillColor=FILL, strokeColor=INK, strokeWidth=1))  # pubic
    d.add(Rect(98, 18, 10, 26, rx=3, ry=3, fillColor=FILL, strokeColor=INK, strokeWidth=1))  # tail
    sling = Path(strokeColor=INK, strokeWidth=6, fillColor=None, strokeLineCap=1)
    sling.moveTo(20, 22)
    sling.curveTo(40, 6, 80, 6, 98, 26)
    d.add(sling)
    _organ(d, 34, 38, 14, 11)  # bladder, at the front
    _organ(d, 86, 44, 9, 18)  # bowel, at the back
    _tube(d, [86, 26, 84, 4])  # back passage through the sling
    if cue_set == "male":
        _organ(d, 36, 22, 6, 4)  # prostate under the bladder
        _tube(d, [36, 18, 30, 8, 12, 6])  # urethra forward into the penis
    else:
        _tube(d, [34, 27, 30, 4])  # urethra
    if cue_set == "female":
        _organ(d, 60, 50, 10, 14)  # womb between bladder and bowel
        _tube(d, [58, 36, 54, 4])  # vagina through the sling
    return d


@cache
def drawing(key: str) -> Drawing:
    """The picture named `key`, built once per process."""
    builders = {
        "lying": _lying,
        "side_lying": _side_lying,
        "sitting": _sitting,
        "standing": _standing,
        "childs_pose": _childs_pose,
        "functional": _functional,
        "breath": _breath,
    }
    if key.startswith("pelvic_floor_"):
        built = _pelvic_floor(key.removeprefix("pelvic_floor_"))
    else:
        built = builders[key]()
    # The pictures hold no words, but the renderer still sets a font: ours, not Helvetica.
    built.initialFontName = register_fonts().regular
    return built


class Picture(Flowable):
    """A picture at a given width, drawn into the document once and reused as a form."""

    def __init__(self, key: str, width: float) -> None:
        super().__init__()
        self.key = key
        self.scale = width / W
        self.width = width
        self.height = H * self.scale

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """A fixed size."""
        return self.width, self.height

    def draw(self) -> None:
        """Define the form on first use in this document, then place it."""
        canv = self.canv
        name = f"floorplan-{self.key}"
        if not canv.hasForm(name):
            canv.beginForm(name, 0, 0, W, H)
            renderPDF.draw(drawing(self.key), canv, 0, 0)
            canv.endForm()
        canv.saveState()
        canv.scale(self.scale, self.scale)
        canv.doForm(name)
        canv.restoreState()
