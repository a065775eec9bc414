"""The companion's pure parts: the link's secrets and what the phone page says."""

from __future__ import annotations

from datetime import date, time

from hypothesis import given, settings
from hypothesis import strategies as st

from pdf.sample import sample_snapshot
from prescriptions.companion.pages import breath_words, first_name, reminder_slots, today_page
from prescriptions.companion.tokens import (
    code_for,
    digest,
    form_key_for,
    key_hash,
    link_key,
    new_nonce,
    normalise_code,
    token_for,
)


def test_token_code_and_form_key_are_distinct_and_follow_the_nonce():
    key = link_key("secret")
    one, two = new_nonce(), new_nonce()
    assert one != two
    assert token_for(key, one) == token_for(key, one) != token_for(key, two)
    assert token_for(link_key("other"), one) != token_for(key, one)
    assert len(token_for(key, one)) == 32  # 192 bits
    code = code_for(key, one)
    assert len(code) == 14 and code.count("-") == 2
    assert form_key_for(key, one) not in (token_for(key, one), code)


@settings(max_examples=50)
@given(st.text(max_size=40))
def test_any_typed_key_is_a_token_a_code_or_nothing(typed):
    hashed = key_hash(b"k", typed)
    assert hashed is None or hashed[0] in "tc"


def test_a_code_is_typed_in_any_case_with_or_without_dashes():
    code = code_for(link_key("k"), "n")
    plain = code.replace("-", "")
    for typed in (code, code.lower(), f" {plain[:4]} {plain[4:8]} {plain[8:]} "):
        assert key_hash(b"k", typed) == "c" + digest(b"k", plain)
    assert normalise_code("O0O0-IIII-LLLL") is None  # look-alikes are not in the alphabet


def test_the_page_never_says_hold_your_breath():
    text = "Squeeze. Do not hold your breath. Never hold the breath while lifting. Rest."
    out = breath_words(text)
    assert "hold" not in out.lower()
    assert "Keep breathing" in out and "Rest." in out
    assert breath_words("Holding your breath makes it harder. Relax.") == "Relax."


def test_only_the_first_word_of_the_preferred_name():
    assert first_name("Mary Ann Smith") == "Mary"
    assert first_name("  ") == ""


def test_today_and_the_reminders_follow_the_weeks():
    snap = sample_snapshot()
    inside = today_page(snap, snap.start, {snap.start: {"sessions_done": 2}})
    assert inside.week.number == 1 and inside.done == 2 and inside.steps
    assert today_page(snap, date(1999, 1, 1), {}).before_start
    times = [time(8), time(13), time(19), time(21)]
    slots = reminder_slots(snap, times)
    assert len(slots) == sum(7 * w.sessions_per_day for w in snap.weeks)
    assert len(reminder_slots(snap, times[:1])) == 28


def test_the_safety_signs_name_no_clinic_and_keep_the_emergency_number():
    from prescriptions.companion.pages import safety_grades

    snap = sample_snapshot()
    grades = safety_grades(snap)
    text = " ".join(g.heading + g.action + " ".join(g.signs) for g in grades)
    assert snap.clinic.name not in text and snap.clinic.phone not in text
    assert snap.clinic.emergency_number in text and " us " not in f" {text} ".lower()
    assert len(grades) == 3 and grades[0].heading == "Get help now"
