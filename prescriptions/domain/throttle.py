"""The sign-in throttle policy: whether an attempt may be checked, given the counted failures.

Pure: the counts come from the database, which reserves each attempt atomically before it is
checked (a counted attempt that turns out right is handed back), so the counts below already
include the attempt being decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    """At most `per_account` and `per_address` failed attempts in each window."""

    per_account: int
    per_address: int
    window: timedelta

    @property
    def wait_minutes(self) -> int:
        """The window in whole minutes, as people are told to wait (at least 1)."""
        return max(1, int(self.window.total_seconds() // 60))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: "account", "address" or "" when allowed
    limited_by: str = ""


def decide_attempt(account_count: int, address_count: int, policy: ThrottlePolicy) -> Decision:
    """Allow the attempt when neither count, this attempt included, passes its limit."""
    if account_count > policy.per_account:
        return Decision(False, "account")
    if address_count > policy.per_address:
        return Decision(False, "address")
    return Decision(True)
