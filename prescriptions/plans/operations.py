"""Writes of plans: verb_noun functions that take the actor, flush and audit.

The caller (a view or a command) owns the transaction: every write and its audit row commit
together or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from ..audit import Actor, acting_user, record_event
from ..database import allowed_fields
from ..domain.progression import Item, Template
from ..domain.vocab import PlanStatus, ProgrammeStatus
from ..extensions import db
from ..mapping.plans import item_rows, plan_items
from ..models import ClinicTemplate, Patient, Plan, PlanItem, Programme, User, WarningAck, utcnow
from ..programmes.operations import finish_programme, start_programme


class PlanStateError(Exception):
    """The plan's status does not allow this change (e.g. editing an issued plan)."""


PLAN_LENGTH_DAYS = 27  #: end = start + 27 days: four whole weeks


def create_plan(
    patient: Patient,
    template: Template,
    items: Sequence[Item],
    by: Actor,
    *,
    start: date,
    notes_to_patient: str = "",
    programme: Programme | None = None,
    block: int = 1,
    reasons: dict[str, str] | None = None,
    end_running: str = "",
    end_reason: str = "",
) -> Plan:
    """Start a draft plan for a patient from a template's (already progressed) items.

    Without a programme the plan is block 1 of a new one (a running one is ended as
    `end_running` and `end_reason` say, see start_programme); `reasons` (exercise code -> why)
    are kept with the items of a proposed block.
    """
    user = acting_user(by)
    if programme is None:
        programme = start_programme(
            patient, template.code, by, start=start, goal=template.purpose,
            end_running=end_running, reason=end_reason,
        )  # fmt: skip
    rows = item_rows(items)
    for row in rows:
        row.reason = (reasons or {}).get(row.exercise_code, "")[:400]
    plan = Plan(
        clinic_id=patient.clinic_id,
        patient=patient,
        author_id=user.id,
        template_code=template.code,
        title=template.name,
        approach=template.approach,
        purpose=template.purpose,
        start_date=start,
        end_date=start + timedelta(days=PLAN_LENGTH_DAYS),
        notes_to_patient=notes_to_patient,
        items=rows,
        programme_id=programme.id,
        block_number=block,
    )
    db.session.add(plan)
    db.session.flush()
    record_event(by, "plan.create", plan, f"{template.code} for patient {patient.id}")
    return plan


PLAN_DETAILS = ("start_date", "notes_to_patient", "paper", "large_print", "cue_set", "title")


def update_plan(plan: Plan, items: Sequence[Item], by: Actor, **details: Any) -> Plan:
    """Replace a draft's items and details; issued plans never change."""
    if not plan.is_editable:
        raise PlanStateError("Only a draft can be edited; revise an issued plan instead.")
    for key, value in allowed_fields(details, PLAN_DETAILS).items():
        setattr(plan, key, value)
    plan.end_date = plan.start_date + timedelta(days=PLAN_LENGTH_DAYS)
    plan.items = keep_reasons(plan.items, item_rows(items))
    plan.updated_at = utcnow()  # bumps the version even when only items changed
    db.session.flush()
    record_event(by, "plan.update", plan, f"{len(items)} items")
    return plan


def issue_plan(plan: Plan, by: Actor, acknowledged: Sequence[tuple[str, str]]) -> Plan:
    """Issue a draft: acknowledged warnings are kept, and the revision it replaces is superseded."""
    user = acting_user(by)
    if plan.status != PlanStatus.DRAFT:
        raise PlanStateError("Only a draft can be issued.")
    previous = db.session.get(Plan, plan.revises_id) if plan.revises_id is not None else None
    if previous is not None and previous.status == PlanStatus.SUPERSEDED:
        raise PlanStateError(
            f"Revision {plan.revision} can't be issued: the plan it revises was already replaced "
            "by another revision. Open the patient's current plan instead."
        )
    now = utcnow()
    for key, message in acknowledged:
        plan.acknowledgements.append(
            WarningAck(code=key[:60], message=message[:400], acknowledged_by_id=user.id)
        )
    plan.status = PlanStatus.ISSUED.value
    plan.issued_at = now
    plan.issued_by_id = user.id
    if previous is not None and previous.status == PlanStatus.ISSUED:
        # Superseding writes the previous plan under its row version: when two revisions are
        # issued at once, one of the two updates finds the version moved and loses the race.
        previous.status = PlanStatus.SUPERSEDED.value
        previous.status_reason = f"Replaced by revision {plan.revision}"
        previous.closed_at = now
        record_event(by, "plan.supersede", previous, f"by plan {plan.id}")
    db.session.flush()
    record_event(by, "plan.issue", plan, f"{len(acknowledged)} warnings acknowledged")
    return plan


def keep_reasons(old: Sequence[PlanItem], new: list[PlanItem]) -> list[PlanItem]:
    """New item rows carrying the proposal's reasons of the exercises they keep."""
    reasons = {row.exercise_code: (row.reason, row.patient_reason) for row in old if row.reason}
    for row in new:
        row.reason, row.patient_reason = reasons.get(row.exercise_code, ("", ""))
    return new


def _draft_from(plan: Plan, author: User, **overrides: Any) -> Plan:
    """A new draft carrying another plan's weeks, texts and handout options."""
    fields: dict[str, Any] = {
        "clinic_id": plan.clinic_id,
        "patient_id": plan.patient_id,
        "author_id": author.id,
        "template_code": plan.template_code,
        "title": plan.title,
        "approach": plan.approach,
        "purpose": plan.purpose,
        "start_date": plan.start_date,
        "end_date": plan.end_date,
        "notes_to_patient": plan.notes_to_patient,
        "paper": plan.paper,
        "large_print": plan.large_print,
        "cue_set": plan.cue_set,
        "items": keep_reasons(plan.items, item_rows(plan_items(plan.items))),
        "programme_id": plan.programme_id,
        "block_number": plan.block_number,
    }
    draft = Plan(**(fields | overrides))
    db.session.add(draft)
    db.session.flush()
    return draft


def revise_plan(plan: Plan, by: Actor) -> Plan:
    """A new draft revision of an issued plan, with the same items and options."""
    user = acting_user(by)
    if plan.status != PlanStatus.ISSUED:
        raise PlanStateError("Only an issued plan can be revised.")
    revision = _draft_from(
        plan,
        user,
        revision=plan.revision + 1,
        revises_id=plan.id,
        lineage_id=plan.lineage_key,  # the logged days follow the revision
    )
    record_event(by, "plan.revise", revision, f"revision {revision.revision} of plan {plan.id}")
    return revision


def complete_plan(plan: Plan, by: Actor) -> Plan:
    """Mark an issued plan as completed."""
    if plan.status != PlanStatus.ISSUED:
        raise PlanStateError("Only an issued plan can be completed.")
    plan.status = PlanStatus.COMPLETED.value
    plan.closed_at = utcnow()
    db.session.flush()
    record_event(by, "plan.complete", plan)
    programme = plan.programme
    if (
        programme is not None
        and programme.status == ProgrammeStatus.RUNNING
        and plan.block_number >= programme.block_count
    ):
        finish_programme(programme, by, on=plan.closed_at.date())
    return plan


def cancel_plan(plan: Plan, reason: str, by: Actor) -> Plan:
    """Cancel a draft or issued plan, with a reason; it stays on record."""
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.ISSUED):
        raise PlanStateError("Only a draft or an issued plan can be cancelled.")
    plan.status = PlanStatus.CANCELLED.value
    plan.status_reason = reason
    plan.closed_at = utcnow()
    db.session.flush()
    record_event(by, "plan.cancel", plan, reason)
    return plan


def copy_plan(plan: Plan, patient: Patient, by: Actor, *, start: date) -> Plan:
    """A new draft for another patient with the same items and notes, block 1 of its own
    programme."""
    programme = start_programme(patient, plan.template_code, by, start=start, goal=plan.purpose)
    copy = _draft_from(
        plan,
        acting_user(by),
        programme_id=programme.id,
        block_number=1,
        items=item_rows(plan_items(plan.items)),  # never the other patient's reasons
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        start_date=start,
        end_date=start + timedelta(days=PLAN_LENGTH_DAYS),
        cue_set=None,  # the new patient's own wording
    )
    record_event(by, "plan.copy", copy, f"from plan {plan.id}")
    return copy


def save_clinic_template(plan: Plan, name: str, by: Actor) -> ClinicTemplate:
    """Keep a plan's items as a clinic template."""
    user = acting_user(by)
    template = ClinicTemplate(
        clinic_id=plan.clinic_id,
        name=name,
        approach=plan.approach,
        purpose=plan.purpose,
        items=[item.as_dict() for item in plan_items(plan.items)],
        created_by_id=user.id,
    )
    db.session.add(template)
    db.session.flush()
    record_event(by, "template.create", template, f"from plan {plan.id}")
    return template


def create_next_block(
    programme: Programme,
    last: Plan,
    items: Sequence[Item],
    reasons: dict[str, str],
    by: Actor,
    *,
    block: int,
    start: date,
    patient_reasons: dict[str, str] | None = None,
) -> Plan:
    """A draft of block `block` of a programme, from the proposal's items and their reasons.

    The programme is written under its row version, so two clicks planning the same block at
    once make one draft: the second finds the version moved (StaleDataError).
    """
    user = acting_user(by)
    rows = item_rows(items)
    for row in rows:
        row.reason = reasons.get(row.exercise_code, "")[:400]
        row.patient_reason = (patient_reasons or {}).get(row.exercise_code, "")[:300]
    programme.updated_at = utcnow()
    draft = _draft_from(
        last,
        user,
        start_date=start,
        end_date=start + timedelta(days=PLAN_LENGTH_DAYS),
        items=rows,
        block_number=block,
    )
    record_event(by, "plan.next_block", draft, f"block {block} of programme {programme.id}")
    return draft
