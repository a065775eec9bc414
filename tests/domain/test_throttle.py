"""The sign-in throttle policy (pure): which attempts may be checked, given the counts."""

from __future__ import annotations

from datetime import timedelta

from prescriptions.domain.throttle import Decision, ThrottlePolicy, decide_attempt

POLICY = ThrottlePolicy(per_account=5, per_address=20, window=timedelta(minutes=15))


def test_attempts_within_both_limits_are_allowed():
    assert decide_attempt(1, 1, POLICY) == Decision(True)
    assert decide_attempt(5, 20, POLICY).allowed  # the fifth attempt, this one included


def test_an_attempt_past_either_limit_is_refused_and_says_which():
    assert decide_attempt(6, 1, POLICY) == Decision(False, "account")
    assert decide_attempt(1, 21, POLICY) == Decision(False, "address")
    assert decide_attempt(6, 21, POLICY).limited_by == "account"


def test_the_wait_is_the_window_in_minutes():
    assert POLICY.wait_minutes == 15
    assert ThrottlePolicy(1, 1, timedelta(seconds=10)).wait_minutes == 1
