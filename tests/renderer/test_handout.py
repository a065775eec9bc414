"""The handout read back out of the PDF: text, pages, boxes, headers, footers and metadata."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from functools import cache
from pathlib import Path

import pdfplumber
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfbase.pdfmetrics import stringWidth

from pdf import (
    ClinicHeader,
    Dose,
    ExerciseGuide,
    HandoutOptions,
    HandoutSnapshot,
    WeekPlan,
    render_handout,
    render_handouts,
)
from pdf.fonts import register_fonts
from pdf.sample import sample_snapshot
from pdf.styles import handout_styles
from pdf.text import dose_sentence, dose_words

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = 'A & <b>B</b> <font color="red">x</font>'
NORMAL = HandoutOptions()
LARGE = HandoutOptions(large_print=True)


@cache
def render(snapshot: HandoutSnapshot, options: HandoutOptions = NORMAL) -> bytes:
    """Render once per distinct input: the inputs are frozen, so the bytes can be shared."""
    return render_handout(snapshot, options)


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text with no-break spaces and runs of spaces folded to one space."""
    return [re.sub(r"[ \u00a0]+", " ", page.extract_text()) for page in reader(pdf).pages]


def baselines(pdf: bytes, page: int, *texts: str) -> list[float]:
    """Where each text's first letter stands on a page (its baseline, in points), by pdfplumber."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        found = document.pages[page]
        return [round(found.search(text, regex=False)[0]["chars"][0]["matrix"][5], 2)
                for text in texts]  # fmt: skip


def sample() -> HandoutSnapshot:
    return sample_snapshot()


def with_sessions(snapshot: HandoutSnapshot, counts: tuple[int, ...]) -> HandoutSnapshot:
    weeks = tuple(
        replace(w, sessions_per_day=n) for w, n in zip(snapshot.weeks, counts, strict=True)
    )
    return replace(snapshot, weeks=weeks)


def week_sheets(pages: list, options: HandoutOptions = NORMAL) -> list[list]:
    """The pages of each week's sheet (a week has two in large print), the spare sheet left out."""
    per = 2 if options.large_print else 1
    sheets = pages[-5 * per : -per]
    return [sheets[i : i + per] for i in range(0, len(sheets), per)]


def squares_by_row(page_content: bytes) -> Counter[float]:
    """Square `re` rectangles (the tick boxes) in a content stream, counted per baseline."""
    number = rb"(-?[\d.]+)"
    pattern = re.compile(rb"%s %s %s %s re" % (number, number, number, number))
    rows: Counter[float] = Counter()
    for _x, y, w, h in pattern.findall(page_content):
        if abs(float(w) - float(h)) < 0.01 and float(w) < 40:
            rows[round(float(y), 1)] += 1
    return rows


# -- what the patient reads --------------------------------------------------------------------


def test_text_holds_the_patient_the_exercises_and_every_weeks_dose() -> None:
    snap = sample()
    pages = page_texts(render(snap))
    whole = "\n".join(pages)
    assert "For Łucja" in pages[0]
    assert all("Łucja Wiśniewska" in page for page in pages)
    assert "Maya Okafor" in pages[0]
    for guide in snap.exercises:
        assert f"{guide.name}" in whole
        assert guide.steps[0][:40] in whole
    sheets = ["".join(w) for w in week_sheets(pages)]
    for week, sheet in zip(snap.weeks, sheets, strict=True):
        assert f"Week {week.number} log sheet" in sheet
        assert f"Week {week.number}" in whole
        for dose in week.doses:
            assert dose_sentence(dose, with_note=False).replace("\u00a0", " ") in sheet
            if dose.note:  # notes print once, in the dose grid, not on the sheet
                assert dose.note in " ".join(whole.split()) and dose.note not in sheet
            # the week table says each dose in its own words (never a bare "hold" for a drop)
            assert dose_words(dose)[0].replace("\u00a0", " ") in " ".join(whole.split())
    assert "Staying safe: when to get help" in whole
    assert "call Riverside Pelvic Health on 020 7946 0321 the same day" in " ".join(whole.split())


def test_four_log_sheets_one_per_page_then_a_spare_at_the_end() -> None:
    pages = page_texts(render(sample()))
    headed = [i for i, text in enumerate(pages) if re.search(r"Week \d log sheet", text)]
    assert headed == list(range(len(pages) - 5, len(pages) - 1))
    for n, i in enumerate(headed, 1):
        assert f"Week {n} log sheet" in pages[i]
        assert "Questions for your next visit" in pages[i]
        assert "Chart RPH-20417" in pages[i]
    assert "Spare log sheet" in pages[-1] and "Chart RPH-20417" in pages[-1]


def test_large_print_sheets_take_two_pages_and_keep_the_reminder() -> None:
    pages = page_texts(render(sample(), LARGE))
    for n, (first, second) in enumerate(week_sheets(pages, LARGE), 1):
        assert f"Week {n} log sheet" in first and "This week, one session is" in first
        assert f"Week {n} log sheet, continued" in second
        assert "RPH-20417" in first and "RPH-20417" in second


def _reminders(snapshot: HandoutSnapshot, options: HandoutOptions) -> list[str]:
    """The reminder box above each week's grid: the lines from its heading to "Do N sessions"."""
    pages = page_texts(render(snapshot, options))
    return [
        first.split("This week, one session is:")[1].split("\nDo ")[0]
        for first, *_ in week_sheets(pages, options)
    ]


def test_large_print_reminders_give_each_dose_whole_in_closer_lines_before_cutting_one() -> None:
    """The down-training sample's weeks, large print A4: the reminder above each sheet's grid
    fits every dose sentence whole once its lines are drawn closer (it used to cut a dose short
    with an ellipsis as soon as the roomiest spacing did not fit)."""
    for reminder in _reminders(sample_snapshot("down_training"), HandoutOptions("a4", True)):
        assert "\u2026" not in reminder, reminder


@pytest.mark.parametrize("approach", ["strengthening", "down_training", "balanced"])
@pytest.mark.parametrize("paper", ["a4", "letter"])
@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_every_weeks_reminder_names_every_exercise_of_the_week(
    approach: str, paper: str, large: bool
) -> None:
    """Every sample, both papers and print sizes: each of the week's exercises is on its sheet's
    reminder. Large print on Letter used to leave the last doses off without a word (week 3 of
    the strengthening sample showed two of its four); the dates now sit beside the title and the
    chart number beside the name, and a dose that still does not fit is cut, not dropped."""
    snapshot = sample_snapshot(approach)
    reminders = _reminders(snapshot, HandoutOptions(paper, large))
    for week, reminder in zip(snapshot.weeks, reminders, strict=True):
        for dose in week.doses:
            assert f"• {dose.exercise_name}:" in reminder, (week.number, reminder)
        if paper == "a4":  # A4 has the room to give every dose whole
            assert "\u2026" not in reminder, reminder


def test_a_week_of_more_doses_than_fit_names_the_rest_and_where_their_doses_are() -> None:
    """A week of six doses in large print on Letter: what does not fit is named, with where to
    find it; a week of twelve (the editor's most) says how many more there are."""
    base = sample_snapshot("strengthening")
    doses = base.weeks[2].doses
    for count in (6, 12):
        extra = tuple(
            replace(doses[i % len(doses)], exercise_name=f"Exercise {chr(65 + i)}")
            for i in range(count)
        )
        snapshot = replace(base, weeks=(*base.weeks[:2], replace(base.weeks[2], doses=extra),
                                        base.weeks[3]))  # fmt: skip
        reminder = " ".join(_reminders(snapshot, HandoutOptions("letter", True))[2].split())
        given = [d.exercise_name for d in extra if f"• {d.exercise_name}:" in reminder]
        assert given == [d.exercise_name for d in extra[: len(given)]] and len(given) < count
        rest = [d.exercise_name for d in extra[len(given) :]]
        if count == 6:
            assert f"• Also {', '.join(rest)}: see “Week by week” for how many." in reminder
        else:
            assert f"• {len(rest)} more exercises: see “Week by week”." in reminder


def test_a_sheet_gives_the_dates_beside_its_title_and_the_chart_beside_the_name() -> None:
    """On a week's first page, when they fit: a line more for the doses. The chart number
    stays whole and in bold (staff file loose sheets by it); a long one keeps its own lines."""
    week_1 = -10  # of five two-page sheets, the spare last
    title, dates, name, chart = baselines(
        render(sample(), LARGE), week_1, "Week 1 log sheet", "3 to 9 March 2025",
        "Łucja Wiśniewska Chart", "Chart RPH-20417",
    )  # fmt: skip
    assert title == dates and name == chart and name != title
    long_chart = replace(sample(), chart_number="RPH-" + "7" * 40)
    name, label = baselines(render(long_chart, LARGE), week_1, "Łucja Wiśniewska\nChart", "Chart")
    assert label < name  # on lines of its own under the name (y grows upwards)


@pytest.mark.parametrize(
    ("options", "size", "low", "high"),
    [
        # the sample plan: the guide, then four weekly sheets and a spare one (large print: a
        # week over two pages)
        (HandoutOptions(paper="a4"), A4, 11, 12),
        (HandoutOptions(paper="letter"), LETTER, 12, 13),
        (HandoutOptions(paper="a4", large_print=True), A4, 21, 23),
        (HandoutOptions(paper="letter", large_print=True), LETTER, 22, 24),
    ],
)
def test_page_counts_and_paper(
    options: HandoutOptions, size: tuple[float, float], low: int, high: int
) -> None:
    pdf = reader(render(sample(), options))
    assert low <= len(pdf.pages) <= high
    for page in pdf.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
            round(size[0]),
            round(size[1]),
        )


def test_large_print_reflows_onto_more_pages() -> None:
    assert len(reader(render(sample(), LARGE)).pages) > len(reader(render(sample())).pages)


def test_log_sheets_only() -> None:
    pages = page_texts(render(sample(), HandoutOptions(log_sheets_only=True)))
    assert len(pages) == 5
    for n, text in enumerate(pages[:4], 1):
        assert f"Week {n} log sheet" in text
        assert f"Page {n} of 5" in text
        assert "Riverside Pelvic Health" in text and "Łucja Wiśniewska" in text
    assert "Finding the right muscles" not in "".join(pages)


# -- every page ----------------------------------------------------------------------------


@pytest.mark.parametrize("options", [NORMAL, LARGE, HandoutOptions(paper="letter")])
def test_every_page_has_header_and_page_x_of_y(options: HandoutOptions) -> None:
    pages = page_texts(render(sample(), options))
    for i, text in enumerate(pages, 1):
        assert f"Page {i} of {len(pages)}" in text
        assert "Riverside Pelvic Health" in text
        assert "Łucja Wiśniewska" in text
        assert "020 7946 0321" in text
        assert "Out of hours, call 111." in " ".join(text.split())  # may wrap in large print


def test_batch_numbers_each_handout_on_its_own_and_keeps_its_paper() -> None:
    first = sample()
    second = replace(
        sample(), patient_full_name="Nguyễn Thị Mai", patient_name="Mai", chart_number="X-1"
    )
    pdf = render_handouts([(first, NORMAL), (second, HandoutOptions(paper="letter"))])
    pages = page_texts(pdf)
    n1 = len(reader(render(first)).pages)
    n2 = len(reader(render(second, HandoutOptions(paper="letter"))).pages)
    assert len(pages) == n1 + n2
    for i in range(n1):
        assert f"Page {i + 1} of {n1}" in pages[i]
        assert "Łucja Wiśniewska" in pages[i]
    for i in range(n2):
        assert f"Page {i + 1} of {n2}" in pages[n1 + i]
        assert "Nguyễn Thị Mai" in pages[n1 + i]
    boxes = [round(float(p.mediabox.height)) for p in reader(pdf).pages]
    assert boxes == [round(A4[1])] * n1 + [round(LETTER[1])] * n2


def test_batch_needs_at_least_one_handout() -> None:
    with pytest.raises(ValueError, match="at least one"):
        render_handouts([])


def test_draft_watermark_on_every_page_of_drafts_only() -> None:
    draft = page_texts(render(replace(sample(), is_draft=True)))
    issued = page_texts(render(sample()))
    assert all("DRAFT" in text for text in draft)
    assert not any("DRAFT" in text for text in issued)


# -- bytes ---------------------------------------------------------------------------------


def test_same_input_same_bytes() -> None:
    snap = replace(sample(), is_draft=True)
    assert render_handout(snap, LARGE) == render_handout(snap, LARGE)
    batch = [(sample(), NORMAL), (snap, HandoutOptions(paper="letter"))]
    assert render_handouts(batch) == render_handouts(batch)


def test_first_render_in_a_process_gives_the_same_bytes_as_later_ones() -> None:
    # Paragraphs reuse lines broken earlier in the process: a reused one must split and draw
    # exactly as a freshly broken one (Letter large print split a reused paragraph otherwise).
    from pdf import flow

    for options in (NORMAL, LARGE, HandoutOptions(paper="letter", large_print=True)):
        flow._parsed.clear()
        flow._broken.clear()
        cold = render_handout(sample(), options)
        assert render_handout(sample(), options) == cold


def test_same_bytes_in_a_fresh_process() -> None:
    code = (
        "import hashlib, sys; sys.path.insert(0, sys.argv[1]);"
        "from pdf import render_handout; from pdf.sample import sample_snapshot;"
        "print(hashlib.sha256(render_handout(sample_snapshot())).hexdigest())"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", code, str(ROOT)], check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == hashlib.sha256(render(sample())).hexdigest()


def test_metadata() -> None:
    meta = reader(render(sample())).metadata
    # Title and subject show in print queues and browser tabs: no patient name there.
    assert meta.title == "Your pelvic floor exercise plan"
    assert meta.author == "Riverside Pelvic Health"
    assert meta.subject == "Home exercise plan, 3 to 30 March 2025, version 1"
    assert "Łucja" not in meta.title + meta.subject and "Wiśniewska" not in meta.subject
    # The creation date is the plan's issue time, fixed, so the bytes stay identical.
    assert meta["/CreationDate"] == "D:20250228143000+00'00'"
    assert (
        meta["/CreationDate"]
        == reader(render(replace(sample(), revision=2))).metadata["/CreationDate"]
    )


def test_fonts_are_embedded_subsets_and_nothing_else() -> None:
    pdf = render(sample())
    fonts = set(re.findall(rb"/BaseFont /([^\s/>]+)", pdf))
    assert fonts == {b"AAAAAA+DejaVuSans", b"AAAAAA+DejaVuSans-Bold"}
    assert pdf.count(b"/FontFile2") == 2


# -- hostile and unusual text --------------------------------------------------------------


def hostile_snapshot(text: str) -> HandoutSnapshot:
    """The sample with `text` in every free-text field the clinic or patient can type."""
    snap = sample()
    guide = replace(snap.exercises[0], name=text, summary=text, steps=(text,), mistakes=(text,))
    weeks = tuple(
        replace(w, doses=(replace(w.doses[0], exercise_name=text, note=text, position=text),))
        for w in snap.weeks
    )
    return replace(
        snap,
        clinic=replace(snap.clinic, name=text, phone=text, address=text, footer_text=text),
        patient_name=text,
        patient_full_name=text,
        chart_number=text,
        therapist=text,
        title=text,
        purpose=text,
        notes_to_patient=text,
        finding_the_muscles=(text,),
        exercises=(guide,),
        weeks=weeks,
        when_to_stop=(text,),
        flare_advice=(text,),
        block_note=text,
    )


def test_markup_in_text_prints_literally() -> None:
    pdf = render(hostile_snapshot(HOSTILE))
    pages = page_texts(pdf)
    assert HOSTILE in pages[0]
    assert f"For {HOSTILE}" in pages[0]
    assert all(HOSTILE in text for text in pages)  # the header names the patient
    assert reader(pdf).metadata.author == HOSTILE
    # Nothing was turned red: the only fill colours are the house ones.
    content = b"".join(p.get_contents().get_data() for p in reader(pdf).pages)
    assert b"1 0 0 rg" not in content


@pytest.mark.parametrize(
    "text",
    [
        "Łucja 😀🎉👍🏽 Wiśniewska",
        "שלום עולם",
        "مرحبا بالعالم",
        "Nguyễn Thị Mai ‮reversed‬ ‎",
        "tab\there\r\nnull\x00bell\x07 \ufeff \u200b",
        "",
    ],
)
def test_unusual_text_never_raises(text: str) -> None:
    pdf = render(hostile_snapshot(text))
    assert len(reader(pdf).pages) >= 5


def test_right_to_left_letters_come_back_out() -> None:
    whole = "".join(page_texts(render(hostile_snapshot("שלום مرحبا"))))
    assert "שלום" in whole or "םולש" in whole
    assert "مرحبا" in whole or "ابحرم" in whole


def text_runs(pdf: bytes) -> list[tuple[float, float, str, float, str, float]]:
    """Every run of text: page width, x, font, size, text and the horizontal matrix scale."""
    runs = []
    for page in reader(pdf).pages:
        width = float(page.mediabox.width)

        def visit(text, cm, tm, font, size, width=width):  # noqa: ANN001, ANN202
            if text.strip() and font is not None:
                x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
                runs.append((width, x, str(font.get("/BaseFont")), size, text, cm[0]))

        page.extract_text(visitor_text=visit)
    return runs


@pytest.mark.parametrize("options", [NORMAL, LARGE, HandoutOptions(paper="letter")])
def test_a_300_character_name_stays_on_the_page(options: HandoutOptions) -> None:
    fonts = register_fonts()
    long_word = "Ł" + "w" * 299
    long_words = " ".join(["Wiśniewska-Kowalska"] * 16)[:300]
    for name in (long_word, long_words):
        snap = replace(
            sample(),
            patient_name=name,
            patient_full_name=name,
            therapist=name,
            clinic=replace(sample().clinic, name=name, footer_text=name),
        )
        pdf = render(snap, options)
        for page_width, x, font, size, text, scale in text_runs(pdf):
            if scale != 1:  # only the rotated draft watermark is drawn under a transform
                continue
            face = fonts.bold if font.endswith("Bold") else fonts.regular
            right = x + stringWidth(text.rstrip("\n"), face, size)
            assert x >= 0, text
            assert right <= page_width + 0.5, (text, right, page_width)


# -- log sheets ----------------------------------------------------------------------------


@pytest.mark.parametrize("counts", [(3, 3, 3, 3), (1, 2, 4, 5), (6, 2, 1, 3)])
@pytest.mark.parametrize("options", [NORMAL, LARGE, HandoutOptions(paper="letter")])
def test_each_day_has_exactly_the_prescribed_session_boxes(
    counts: tuple[int, ...], options: HandoutOptions
) -> None:
    snap = with_sessions(sample(), counts)
    pdf = reader(render(snap, options))
    for n, pages in zip(counts, week_sheets(list(pdf.pages), options), strict=True):
        rows = [squares_by_row(page.get_contents().get_data()) for page in pages]
        assert sum(len(r) for r in rows) == 7, rows
        assert {v for r in rows for v in r.values()} == {n}


def test_many_sessions_still_get_every_box() -> None:
    snap = with_sessions(sample(), (12, 0, 20, 9))
    pdf = reader(render(snap, NORMAL))
    totals = [sum(squares_by_row(p.get_contents().get_data()).values()) for p in pdf.pages[-5:-1]]
    assert totals == [7 * 12, 0, 7 * 20, 7 * 9]


def test_log_sheet_days_carry_their_dates() -> None:
    snap = sample()
    sheets = page_texts(render(snap))[-5:-1]
    for week, sheet in zip(snap.weeks, sheets, strict=True):
        for d in range(7):
            day = week.starts + timedelta(days=d)
            assert f"{day.day} {day.strftime('%b')}" in sheet


# -- print size ----------------------------------------------------------------------------


def body_size(pdf: bytes) -> float:
    """The font size that carries the most characters on the instruction pages."""
    sizes: Counter[float] = Counter()
    for _, _, _, size, text, scale in text_runs(pdf):
        if scale == 1:
            sizes[round(size, 1)] += len(text.strip())
    return sizes.most_common(1)[0][0]


def test_large_print_body_is_at_least_16_pt() -> None:
    assert handout_styles(True).body.fontSize >= 16
    assert handout_styles(True).cell.fontSize >= 16
    assert body_size(render(sample(), LARGE)) >= 16


def test_normal_print_body_is_12_to_14_pt() -> None:
    assert 12 <= handout_styles(False).body.fontSize <= 14
    assert 12 <= body_size(render(sample())) <= 14


def test_body_text_is_left_aligned_with_one_and_a_half_spacing() -> None:
    for large in (False, True):
        style = handout_styles(large).body
        assert style.alignment == 0
        assert style.leading == pytest.approx(style.fontSize * 1.5)


# -- edges ---------------------------------------------------------------------------------


def test_a_plan_with_no_weeks_or_exercises_still_prints() -> None:
    snap = replace(sample(), exercises=(), weeks=(), finding_the_muscles=(), when_to_stop=())
    assert len(reader(render(snap)).pages) >= 1


def test_log_sheets_only_without_weeks_is_never_blank() -> None:
    snap = replace(sample(), weeks=())
    pages = page_texts(render(snap, HandoutOptions(log_sheets_only=True)))
    assert len(pages) == 1
    assert "no log sheets" in pages[0]


def test_a_week_without_doses_gets_a_sheet() -> None:
    snap = sample()
    snap = replace(snap, weeks=(replace(snap.weeks[0], doses=()), *snap.weeks[1:]))
    assert "Week 1 log sheet" in page_texts(render(snap))[-5]


def test_logo_is_drawn_and_a_broken_logo_is_skipped() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), "#0E4D64").save(buffer, "PNG")
    good = replace(sample(), clinic=replace(sample().clinic, logo=buffer.getvalue()))
    bad = replace(sample(), clinic=replace(sample().clinic, logo=b"\x89PNG not really"))
    assert b"/Subtype /Image" in render(good)
    assert b"/Subtype /Image" not in render(bad)


def test_unknown_paper_is_refused() -> None:
    with pytest.raises(ValueError, match="paper"):
        HandoutOptions(paper="a5")


def test_snapshot_types_are_frozen() -> None:
    with pytest.raises(AttributeError):
        sample().patient_name = "x"  # type: ignore[misc]


# -- arbitrary input -----------------------------------------------------------------------

names = st.text(max_size=120)
notes = st.text(max_size=600)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, note=notes, exercise=names, sessions=st.integers(min_value=0, max_value=9))
def test_arbitrary_unicode_never_raises(name: str, note: str, exercise: str, sessions: int) -> None:
    snap = sample()
    guide = ExerciseGuide("x", exercise, note, (note, name), note, note, (exercise,))
    dose = Dose("x", exercise, name, 5, 10, 8, 1, sessions, effort_pct=40, note=note)
    week = WeekPlan(1, snap.start, snap.start + timedelta(days=6), sessions, (dose,))
    snap = replace(
        snap,
        clinic=ClinicHeader(name=name, phone=name, footer_text=note),
        patient_name=name,
        patient_full_name=name,
        therapist=name,
        notes_to_patient=note,
        exercises=(guide,),
        weeks=(week,),
    )
    for options in (NORMAL, HandoutOptions(paper="letter", large_print=True)):
        pdf = render_handout(snap, options)
        assert pdf.startswith(b"%PDF-")
