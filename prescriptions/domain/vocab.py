"""Controlled vocabularies shared by forms, models, domain rules and the handout."""

from __future__ import annotations

from enum import StrEnum


class CueSet(StrEnum):
    """Which wording the patient-facing instructions use."""

    FEMALE = "female"
    MALE = "male"
    NEUTRAL = "neutral"


class Diagnosis(StrEnum):
    STRESS_UI = "stress_ui"
    URGE_UI = "urge_ui"
    MIXED_UI = "mixed_ui"
    POSTPARTUM = "postpartum"
    POST_PROSTATECTOMY = "post_prostatectomy"
    PELVIC_PAIN = "pelvic_pain"  #: pelvic pain or a hypertonic (overactive) pelvic floor
    PROLAPSE = "prolapse"
    OTHER = "other"


class Precaution(StrEnum):
    CATHETER = "catheter"  #: catheter in place: no exercises
    PROLAPSE_BEYOND_HYMEN = "prolapse_beyond_hymen"
    PREGNANT = "pregnant"


class Relaxation(StrEnum):
    """How fully the patient can let the pelvic floor go after a contraction."""

    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


class Position(StrEnum):
    LYING = "lying"
    SIDE_LYING = "side_lying"
    SITTING = "sitting"
    STANDING = "standing"
    FUNCTIONAL = "functional"


class Kind(StrEnum):
    """What an exercise does to the pelvic floor."""

    CONTRACT = "contract"
    RELAX = "relax"
    BREATH = "breath"
    FUNCTIONAL = "functional"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    SUPERSEDED = "superseded"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProgrammeStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"


class Role(StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"


class Paper(StrEnum):
    A4 = "a4"
    LETTER = "letter"


LABELS: dict[StrEnum, str] = {
    CueSet.FEMALE: "Female",
    CueSet.MALE: "Male",
    CueSet.NEUTRAL: "Neutral",
    Diagnosis.STRESS_UI: "Stress urinary incontinence",
    Diagnosis.URGE_UI: "Urge urinary incontinence",
    Diagnosis.MIXED_UI: "Mixed urinary incontinence",
    Diagnosis.POSTPARTUM: "Postpartum",
    Diagnosis.POST_PROSTATECTOMY: "Post-prostatectomy",
    Diagnosis.PELVIC_PAIN: "Pelvic pain / hypertonic",
    Diagnosis.PROLAPSE: "Prolapse",
    Diagnosis.OTHER: "Other",
    Precaution.CATHETER: "Catheter in place",
    Precaution.PROLAPSE_BEYOND_HYMEN: "Prolapse beyond the hymen",
    Precaution.PREGNANT: "Pregnant",
    Relaxation.FULL: "Full",
    Relaxation.PARTIAL: "Partial",
    Relaxation.NONE: "None",
    Position.LYING: "Lying",
    Position.SIDE_LYING: "Side-lying",
    Position.SITTING: "Sitting",
    Position.STANDING: "Standing",
    Position.FUNCTIONAL: "Functional",
    PlanStatus.DRAFT: "Draft",
    PlanStatus.ISSUED: "Issued",
    PlanStatus.SUPERSEDED: "Superseded",
    PlanStatus.COMPLETED: "Completed",
    PlanStatus.CANCELLED: "Cancelled",
    Role.ADMIN: "Administrator",
    Role.CLINICIAN: "Clinician",
    Paper.A4: "A4",
    Paper.LETTER: "Letter",
}


def label(value: StrEnum) -> str:
    """Human label for a vocabulary value."""
    return LABELS.get(value, str(value).replace("_", " ").capitalize())
