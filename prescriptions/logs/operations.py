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
            row = LogEntry(
                clinic_id=plan.clinic_id,
                plan_id=plan.id,
                lineage_id=plan.lineage_key,
                day=entry.day,
                sessions_prescribed=prescribed,
                entered_by_id=user.id,
                **values,
            )
            db.session.add(row)
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
