"""Writes of returned logs: one week of a plan at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError

from ..audit import Actor, acting_user, record_event
from ..database import allowed_fields
from ..domain.adherence import LOG_FIELDS
from ..domain.vocab import PlanStatus
from ..extensions import db
from ..models import LogEntry, Plan
from ..plans.operations import PlanStateError


class LogConflict(Exception):
    """Someone else saved this week's log after the form was opened."""


@dataclass(frozen=True)
class DayEntry:
    """One filled line of a weekly log form."""

    day: date
    version: int | None  #: the version the form was opened at; None for a new day
    values: dict[str, Any]


def _new_day(plan: Plan, day: date, prescribed: int, **values: Any) -> LogEntry:
    """A day of the plan's lineage logged for the first time, against this revision, which
    prescribes its `prescribed` sessions; `values` are what is logged and who entered it."""
    row = LogEntry(
        clinic_id=plan.clinic_id,
        plan_id=plan.id,
        lineage_id=plan.lineage_key,
        day=day,
        sessions_prescribed=prescribed,
        **values,
    )
    db.session.add(row)
    return row


def save_week_log(
    plan: Plan,
    entries: Sequence[DayEntry],
    existing: dict[date, LogEntry],
    prescribed: int,
    by: Actor,
) -> int:
    """Create or update the logged days of one plan week; returns how many days changed.

    Days belong to the plan's lineage, so every revision sees them. A new day is prescribed
    `prescribed` sessions by this revision; a day logged earlier keeps what its revision
    prescribed that day, even when a later revision changed the dose.
    """
    user = acting_user(by)
    if plan.status == PlanStatus.DRAFT:
        raise PlanStateError("A draft has no log: issue the plan first.")
    changed = 0
    for entry in entries:
        values = allowed_fields(entry.values, LOG_FIELDS)
        row = existing.get(entry.day)
        if row is None:
            if entry.version is not None:
                raise LogConflict(entry.day)
            _new_day(plan, entry.day, prescribed, entered_by_id=user.id, **values)
            changed += 1
        else:
            if entry.version != row.version:
                raise LogConflict(entry.day)
            if any(getattr(row, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.entered_by_id = user.id
                changed += 1
    try:
        db.session.flush()
    except IntegrityError as error:  # a twin request created the same day first
        raise LogConflict(None) from error
    record_event(by, "log.save", plan, f"{changed} days")
    return changed


class DayFull(Exception):
    """Every session prescribed for the day is already logged."""


def _patient_day(plan: Plan, day: date, prescribed: int, link_id: int) -> LogEntry:
    """The programme's row for a day, made (as the patient's) when there is none yet."""
    from .queries import fetch_logs

    found = fetch_logs(plan.clinic_id, plan.id, day, day)
    if found:
        return found[0]
    return _new_day(
        plan,
        day,
        prescribed,
        sessions_done=0,
        entered_by_id=None,
        entered_by_link_id=link_id,
        patient_entry={"sessions_done": 0},
    )


def _apply_patient_entry(row: LogEntry, entry: dict[str, Any], link_id: int) -> None:
    """Keep the patient's values; they are the day's too until staff have saved the day."""
    row.patient_entry = entry
    row.entered_by_link_id = link_id
    if row.entered_by_id is None:
        for key, value in entry.items():
            setattr(row, key, value)


def log_patient_session(plan: Plan, day: date, prescribed: int, link_id: int) -> LogEntry:
    """One session done, tapped on the patient's phone (DayFull once the day's are all in).

    A day a staff member has saved keeps the staff values; the patient's count is kept beside
    them in `patient_entry`, never over them.
    """
    if plan.status == PlanStatus.DRAFT:
        raise PlanStateError("A draft has no log.")
    row = _patient_day(plan, day, prescribed, link_id)
    entry = dict(row.patient_entry or {})
    done = int(entry.get("sessions_done") or 0)
    if done >= max(row.sessions_prescribed, 1):
        raise DayFull(day)
    entry["sessions_done"] = done + 1
    _apply_patient_entry(row, entry, link_id)
    db.session.flush()
    return row


def save_patient_day(
    plan: Plan, day: date, values: dict[str, Any], prescribed: int, link_id: int
) -> LogEntry:
    """The rest of a day's sheet from the patient's phone (leaks, urgency, pain, hold, note)."""
    if plan.status == PlanStatus.DRAFT:
        raise PlanStateError("A draft has no log.")
    values = allowed_fields(values, LOG_FIELDS)
    values.pop("sessions_done", None)  # sessions are tapped one at a time
    row = _patient_day(plan, day, prescribed, link_id)
    entry = dict(row.patient_entry or {}) | values
    entry.setdefault("sessions_done", 0)
    _apply_patient_entry(row, entry, link_id)
    db.session.flush()
    return row
