"""The graded safety box: what needs help now, today, or at the next visit, per cue set.

The grades and signs follow CLINICAL.md "Safety, graded"; the words are ours, kept plain. Lines that
concern one anatomy print only for its cue set; the neutral set words them to cover both.
"""

from __future__ import annotations

from dataclasses import dataclass

from pdf.snapshot import ClinicHeader

_EMERGENCY_SIGNS = (
    "New numbness around your bottom, genitals or inner thighs (where you would sit on a saddle).",
    "Suddenly not being able to pass urine.",
    "New leaking from your bowel that you cannot control.",
)
_EMERGENCY_WHY = (
    "These can be signs of pressure on the nerves at the bottom of your spine. This needs to be "
    "checked the same day in hospital. Do not wait for a clinic appointment."
)
_HEAVY_BLEEDING = "Heavy bleeding, or a fever with pain that gets worse after surgery or birth."

_SAME_DAY_ALL = (
    "Pain that gets worse.",
    "Blood in your urine.",
    "A fever, or burning when you pass urine.",
)
_SAME_DAY_FEMALE = (
    "Bleeding from the vagina that is not normal for you, or any bleeding after the menopause.",
    "A new lump or bulge in your vagina, or a prolapse that feels worse.",
)
_SAME_DAY_MALE = ("Bleeding from your penis that is new to you.",)
_SAME_DAY_NEUTRAL = (
    "Bleeding from the vagina or penis that is new to you, or any bleeding after the menopause.",
    "A new lump or bulge between your legs, or a prolapse that feels worse.",
)

NEXT_VISIT = (
    "The exercises feel harder each week, not easier.",
    "Nothing has changed after four weeks.",
    "Any questions about your plan.",
)


@dataclass(frozen=True, slots=True)
class Grade:
    """One grade of the box: a heading, what to do, and the signs."""

    heading: str
    action: str
    signs: tuple[str, ...]
    note: str = ""


def same_day_signs(cue_set: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Signs that mean stop and call the same day, for this cue set, plus the clinic's own."""
    own = {
        "female": _SAME_DAY_FEMALE,
        "male": _SAME_DAY_MALE,
    }.get(cue_set, _SAME_DAY_NEUTRAL)
    signs = list(_SAME_DAY_ALL + own)
    for line in extra:  # a clinic line already said in our words is not said twice
        if line.strip() and line.strip() not in signs:
            signs.append(line.strip())
    return tuple(signs)


def graded(
    clinic: ClinicHeader, clinic_name: str, cue_set: str, extra: tuple[str, ...]
) -> list[Grade]:
    """The three grades, most urgent first, with the clinic's numbers written in."""
    emergency = clinic.emergency_number.strip()
    now = (
        f"Call {emergency} now, or go to the emergency department."
        if emergency
        else "Call the emergency number now, or go to the emergency department."
    )
    phone = clinic.phone.strip()
    ooh = clinic.out_of_hours_number.strip()
    today = f"Stop the exercises and call {clinic_name}"
    today += f" on {phone} the same day." if phone else " the same day."
    if ooh:
        today += f" When we are closed, call {ooh} for advice."
    return [
        Grade("Get help now", now, _EMERGENCY_SIGNS + (_HEAVY_BLEEDING,), _EMERGENCY_WHY),
        Grade("Call us the same day", today, same_day_signs(cue_set, extra)),
        Grade("Tell us at your next visit", "Write it on your log sheet and bring it.", NEXT_VISIT),
    ]
