"""The API budget: a shared token bucket with reservations, and the pause of a 429."""

from __future__ import annotations

import pytest

from faros.core import budget


def test_a_full_bucket_lets_a_burst_through_then_spaces_requests_at_the_rate():
    bucket, waits = None, []
    for _ in range(8):
        wait, bucket = budget.reserve(bucket, now=100.0, rate=2.0, burst=5.0)
        waits.append(wait)
    assert waits == [0.0] * 5 + [0.5, 1.0, 1.5]  # reserved in turn, each after the last


def test_tokens_come_back_with_time_up_to_the_burst():
    _, bucket = budget.reserve(None, now=0.0, rate=10.0, burst=3.0)
    wait, bucket = budget.reserve(bucket, now=1000.0, rate=10.0, burst=3.0)
    assert wait == 0.0
    assert bucket.tokens == pytest.approx(2.0)


def test_a_pause_makes_everyone_wait_for_it():
    wait, _ = budget.reserve(None, now=10.0, rate=100.0, burst=100.0, paused_until=13.5)
    assert wait == pytest.approx(3.5)


def test_rate_zero_is_no_limit_but_still_honours_a_pause():
    assert budget.reserve(None, now=1.0, rate=0.0, burst=1.0)[0] == 0.0
    assert budget.reserve(None, now=1.0, rate=0.0, burst=1.0, paused_until=3.0)[0] == 2.0
