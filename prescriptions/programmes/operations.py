"""Writes of programmes: verb_noun functions that take the actor, flush and audit."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..audit import Actor, acting_user, record_event
from ..domain.blocks import DEFAULT_BLOCKS, MAX_BLOCKS, MIN_BLOCKS
from ..domain.vocab import ProgrammeStatus
from ..extensions import db
from ..models import (
    BLOCK_SUMS,
    LogEntry,
    Patient,
    Plan,
    Programme,
    ProgrammeBlockSums,
    day_sums,
)


class ProgrammeStateError(Exception):
    """The programme's status does not allow this change."""


class ProgrammeRunningError(ProgrammeStateError):
    """The patient already has a running programme: one runs at a time."""

    def __init__(self, running: Programme) -> None:
        super().__init__(
            f"This patient's programme started {running.started_on.isoformat()} is still "
            "running: plan its next block, or stop or finish it (with a reason) to start another."
        )
        self.running = running


#: how a running programme ends when a separate one starts: the choice the therapist made
END_RUNNING = ("stop", "finish")


def running_programme(patient: Patient) -> Programme | None:
    """The patient's running programme, if any (there is at most one)."""
    return db.session.scalar(
        sa.select(Programme).where(
            Programme.clinic_id == patient.clinic_id,
            Programme.patient_id == patient.id,
            Programme.status == ProgrammeStatus.RUNNING.value,
        )
    )


def start_programme(
    patient: Patient,
    template_code: str,
    by: Actor,
    *,
    start: date,
    goal: str = "",
    block_count: int = DEFAULT_BLOCKS,
    end_running: str = "",
    reason: str = "",
) -> Programme:
    """Start a running programme for a patient; its first block is the plan made with it.

    A patient has one running programme at a time: one already running is stopped or finished
    with `reason` when `end_running` says so, else ProgrammeRunningError. (A partial unique index
    refuses the second of two starts at once.)
    """
    user = acting_user(by)
    running = running_programme(patient)
    if running is not None:
        if end_running not in END_RUNNING or not reason.strip():
            raise ProgrammeRunningError(running)
        today = date.today()
        if end_running == "stop":
            stop_programme(running, reason, by, on=today)
        else:
            finish_programme(running, by, on=today, reason=reason)
    programme = Programme(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        template_code=template_code,
        goal=goal,
        block_count=min(max(block_count, MIN_BLOCKS), MAX_BLOCKS),
        status=ProgrammeStatus.RUNNING.value,
        status_reason="",
        started_on=start,
        created_by_id=user.id,
    )
    db.session.add(programme)
    db.session.flush()
    record_event(by, "programme.start", programme, f"{template_code} for patient {patient.id}")
    return programme


def update_programme(programme: Programme, by: Actor, *, goal: str, block_count: int) -> Programme:
    """Change a programme's goal and number of blocks."""
    programme.goal = goal
    programme.block_count = min(max(block_count, MIN_BLOCKS), MAX_BLOCKS)
    db.session.flush()
    record_event(by, "programme.update", programme, f"{programme.block_count} blocks")
    return programme


def finish_programme(programme: Programme, by: Actor, *, on: date, reason: str = "") -> Programme:
    """Mark a running programme finished (its last block completed, or the therapist's call)."""
    if programme.status != ProgrammeStatus.RUNNING:
        raise ProgrammeStateError("Only a running programme can be finished.")
    programme.status = ProgrammeStatus.FINISHED.value
    programme.status_reason = reason[:300]
    programme.ended_on = on
    db.session.flush()
    record_event(by, "programme.finish", programme)
    return programme


def stop_programme(programme: Programme, reason: str, by: Actor, *, on: date) -> Programme:
    """Stop a running programme early, with a reason; it stays on record."""
    if programme.status != ProgrammeStatus.RUNNING:
        raise ProgrammeStateError("Only a running programme can be stopped.")
    programme.status = ProgrammeStatus.STOPPED.value
    programme.status_reason = reason
    programme.ended_on = on
    db.session.flush()
    record_event(by, "programme.stop", programme, reason)
    return programme


def refresh_block_sums(clinic_id: int | None = None) -> None:
    """Recount a clinic's ProgrammeBlockSums (every clinic's when None) from its logged days,
    for writes that bypass the ORM's flush events (seed-demo's bulk insert, a restore: a
    backup's sums rows are never trusted). No flush or audit: derived data only."""
    table = ProgrammeBlockSums.__table__
    scoped = [] if clinic_id is None else [table.c.clinic_id == clinic_id]
    db.session.execute(sa.delete(table).where(*scoped))
    source = (
        sa.select(
            Plan.programme_id,
            Plan.block_number,
            Plan.clinic_id,
            *day_sums(),
        )
        .join(Plan, Plan.id == LogEntry.lineage_id)  # a lineage's first plan carries its days
        .where(Plan.programme_id.is_not(None))
        .group_by(Plan.programme_id, Plan.block_number, Plan.clinic_id)
    )
    if clinic_id is not None:
        source = source.where(Plan.clinic_id == clinic_id)
    db.session.execute(
        sa.insert(table).from_select(
            ["programme_id", "block_number", "clinic_id", *BLOCK_SUMS], source
        )
    )
