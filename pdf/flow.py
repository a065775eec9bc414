"""Flowables that keep the page tidy: cached paragraphs, headed runs that never leave a heading
at the foot of a page (and say "continued" when a step list splits), and bookmarks."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, Table

BIG = 0xFFFFFF  # a height no frame has: forces the frame to ask for a split


_CACHE_LIMIT = 20_000  # entries; patient text varies, the catalogue's text repeats
_parsed: dict[tuple[str, int, str | None], list] = {}
_broken: dict[tuple[str, int, str | None, float], tuple[object, float, list]] = {}


def _remember(cache: dict, key: object, value: object) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()  # crude, and rare: a process prints the same few texts again and again
    cache[key] = value


class Para(Paragraph):
    """A Paragraph whose parsing and line breaking are done once per process.

    Handouts repeat the same texts (the catalogue's steps, the safety box) in the same styles at
    the same widths; headed runs, tables and the frame each wrap a paragraph again. Parsed
    fragments and broken lines are read-only once made, so they are kept per (text, style,
    width) and shared; the same input still gives the same bytes.
    """

    is_heading = False

    def __init__(
        self,
        text: str | None,
        style: ParagraphStyle,
        bulletText: str | None = None,  # noqa: N803 - ReportLab's name
        frags: list | None = None,
        **kw: object,
    ) -> None:
        if frags is not None or text is None:  # a part made by split(): not shared
            super().__init__(text, style, bulletText, frags=frags, **kw)
            self._key = None
            return
        key = (text, id(style), bulletText)
        frags = _parsed.get(key)
        super().__init__(text, style, bulletText, frags=frags)
        if frags is None:
            _remember(_parsed, key, self.frags)
        self._key = key

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Break lines for this width, or reuse the lines already broken at this width.

        Breaking lines also replaces the fragments with the words it made (and sets a few
        counters); all of it is kept and restored, so a reused paragraph is the same object
        a fresh one would be, and splits and draws the same.
        """
        if self._key is None:
            return super().wrap(availWidth, availHeight)
        key = (*self._key, availWidth)
        known = _broken.get(key)
        if known is not None:
            self.__dict__.update(known)
            return availWidth, self.height
        before = dict(self.__dict__)
        width, height = super().wrap(availWidth, availHeight)
        made = {k: v for k, v in self.__dict__.items() if k not in before or before[k] is not v}
        _remember(_broken, key, made)
        return width, height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        """Split a private copy: ReportLab's split edits the words of the lines it splits
        (lines of one plain fragment, kind 0, are only read), and cached lines are shared with
        every later paragraph of the same text."""
        if self._key is not None and hasattr(self, "blPara") and self.blPara.kind != 0:
            self.blPara, self.frags = deepcopy((self.blPara, self.frags))
        return super().split(availWidth, availHeight)


class Heading(Para):
    """A heading: a page never ends on one."""

    is_heading = True


class Bookmark(Flowable):
    """An invisible mark: a PDF bookmark (outline entry) for the part that starts here."""

    width = height = 0.0

    def __init__(self, key: str, title: str, level: int = 0) -> None:
        super().__init__()
        self.key, self.title, self.level = key, title, level

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Takes no room."""
        return 0.0, 0.0

    def draw(self) -> None:
        """Mark this page and list it in the outline."""
        self.canv.bookmarkPage(self.key, fit="XYZ", top=None)
        self.canv.addOutlineEntry(self.title, self.key, level=self.level, closed=False)


def _height(item: Flowable, width: float, avail: float) -> float:
    _, h = item.wrap(width, avail)
    return h + item.getSpaceBefore() + item.getSpaceAfter()


class Run(Flowable):
    """A heading and what follows it, laid out item by item.

    The heading stays with at least its first item, no page ends on an inner heading, and when
    the run breaks before an item that carries a `continued` heading (the steps of an exercise)
    that heading opens the next page. A run never refuses to print: an item taller than a page
    is split on its own.
    """

    def __init__(
        self,
        heading: Flowable | None,
        items: list[Flowable],
        lead: list[Flowable] | None = None,
        continued: dict[int, Callable[[], Flowable]] | None = None,
    ) -> None:
        super().__init__()
        self.heading = heading
        self.items = items
        self.lead = lead or []  # zero-size marks (bookmarks) that travel with the heading
        #: item index -> the heading to print when the run resumes at that item on a new page,
        #: built only if it is needed (most runs never split)
        self.continued = continued or {}

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Always ask to be split, so the frame hands over the space left."""
        return availWidth, BIG

    def _rest(self, start: int, first: Flowable | None = None) -> Run | None:
        items = self.items[start:]
        if first is not None:
            items = [first, *items[1:]]
        if not items:
            return None
        continued = {i - start: h for i, h in self.continued.items() if i >= start}
        make = continued.pop(0, None)
        return Run(make() if make else None, items, continued=continued)

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        """As much as fits, then the rest as a new run."""
        head = [*self.lead, self.heading] if self.heading is not None else list(self.lead)
        used = sum(_height(f, availWidth, availHeight) for f in head)
        taken = 0
        for item in self.items:
            h = _height(item, availWidth, availHeight)
            if used + h > availHeight:
                break
            used += h
            taken += 1
        while taken and getattr(self.items[taken - 1], "is_heading", False):
            taken -= 1
            used = -1.0  # an inner heading moved on: the space left is no longer known
        if taken == len(self.items):
            return [*head, *self.items]
        nxt = self.items[taken]
        if used >= 0 and not getattr(nxt, "is_heading", False):
            # Fill the page: split the next item into what is left, if it splits at all.
            room = availHeight - used - nxt.getSpaceBefore() - 1
            parts = nxt.split(availWidth, room) if room > 0 else []
            if len(parts) >= 2:
                rest = self._rest(taken, first=_joined(parts[1:]))
                return [*head, *self.items[:taken], parts[0], *([rest] if rest else [])]
        if taken:
            rest = self._rest(taken)
            return [*head, *self.items[:taken], *([rest] if rest else [])]
        frame = getattr(self, "_frame", None)
        if getattr(self, "_postponed", False) or (frame is not None and frame._atTop):
            # A fresh page and still too tall: print item by item, each splitting on its own.
            rest = self._rest(1)
            return [*head, nxt, *([rest] if rest else [])]
        return []  # move the whole run to the next page


def _joined(parts: list[Flowable]) -> Flowable:
    """One flowable for the remainder of a split (a split gives two parts in practice)."""
    if len(parts) == 1:
        return parts[0]
    return Run(None, parts)


class Grid(Table):
    """A table that splits between rows, and inside a row only when a row outgrows a page."""

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        """Split between rows; failing that on a fresh page, split inside the row."""
        parts = super().split(availWidth, availHeight)
        frame = getattr(self, "_frame", None)
        # Only a whole fresh page may cut a row: anything less moves the row on instead.
        whole_page = frame is not None and availHeight >= frame._height - frame._topPadding - 2
        if not parts and (whole_page or getattr(self, "_postponed", False)) and not self.splitInRow:
            self.splitInRow = 1
            parts = super().split(availWidth, availHeight)
        head = getattr(self, "continued_head", None)
        for part in parts[1:]:
            if head is not None and isinstance(part, Table):
                # the repeated heading row says "(continued)"; rows are shared with the
                # first part, so the row is replaced, never changed in place
                part._cellvalues[0] = [head, *part._cellvalues[0][1:]]
                part.continued_head = head
        return parts
