"""Edit conflicts that keep the typing: who saved first, and what they saved beside yours."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_login import current_user

from ..audit.queries import fetch_last_write


@dataclass(frozen=True)
class Difference:
    """One value the other save left different from what this user typed."""

    label: str
    saved: str
    typed: str
    #: the form shows the saved value here (the other save changed it), not the typed one
    kept_saved: bool = False


@dataclass(frozen=True)
class Conflict:
    """Someone (perhaps this user in another tab) saved the record after the form was opened."""

    who: str
    at: datetime | None
    by_you: bool
    differences: list[Difference] = field(default_factory=list)
    #: other differences in words, each "saved → yours"
    changes: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        """Who saved when, in plain words."""
        when = f" at {self.at.strftime('%H:%M')} UTC" if self.at else ""
        if self.by_you:
            return f"You saved this in another tab or window{when}, after opening this form."
        return f"{self.who} saved this{when}, after you opened this form."


def find_conflict(
    clinic_id: int,
    record_type: str,
    record_id: int,
    actions: tuple[str, ...],
    differences: list[Difference] | None = None,
    changes: list[str] | None = None,
) -> Conflict:
    """The conflict on a record, from its newest audited write."""
    last = fetch_last_write(clinic_id, record_type, record_id, actions)
    if last is None:
        return Conflict("Someone", None, False, differences or [], changes or [])
    by_you = last.user_id is not None and last.user_id == current_user.id
    return Conflict(last.name, last.at, by_you, differences or [], changes or [])


def shown(value: object) -> str:
    """A saved or typed value as the conflict list shows it."""
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
