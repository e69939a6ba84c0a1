"""The throttle's pure parts: the rate's spacing and what a refused turn tells the delivery code."""

from notifier.throttle import MAX_WAIT_S, Throttled, interval_us


def test_the_spacing_between_sends_is_one_over_the_rate_in_microseconds_rounded_up():
    assert interval_us(20) == 50_000
    assert interval_us(0.5) == 2_000_000
    assert interval_us(3) == 333_334  # never faster than the rate


def test_a_refused_turn_is_retryable_not_permanent_and_says_when_to_come_back():
    refused = Throttled("turn at the SMS rate limit", 12.5)
    assert refused.retryable and not refused.permanent and refused.code is None
    assert refused.retry_after == 12.5 and f"{MAX_WAIT_S:.0f} s" in str(refused)
