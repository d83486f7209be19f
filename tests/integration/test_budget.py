"""The API budget shared through the real Redis: processes together keep to one rate."""

from __future__ import annotations

import threading
import time

import redis

from faros import locks


def test_two_processes_draw_from_one_budget(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.delete(locks.BUDGET_KEY, locks.PAUSE_KEY)
    first = locks.RedisBudget(client, rate=20.0, burst=5.0)
    second = locks.RedisBudget(redis.Redis.from_url(redis_url), rate=20.0, burst=5.0)
    sent: list[float] = []
    guard = threading.Lock()

    def send(budget: locks.RedisBudget) -> None:
        for _ in range(20):
            time.sleep(budget.take())
            with guard:
                sent.append(time.monotonic())

    began = time.monotonic()
    threads = [threading.Thread(target=send, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # 40 requests, 5 at once then 20 per second: about 1.75 s, never much less.
    client.delete(locks.BUDGET_KEY, locks.PAUSE_KEY)
    assert len(sent) == 40
    assert max(sent) - began >= 1.5


def test_a_429_pauses_every_process(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.delete(locks.BUDGET_KEY, locks.PAUSE_KEY)
    one = locks.RedisBudget(client, rate=1000.0, burst=1000.0)
    other = locks.RedisBudget(redis.Redis.from_url(redis_url), rate=1000.0, burst=1000.0)
    one.pause(2.0)
    try:
        assert 1.5 <= other.take() <= 2.0
    finally:
        client.delete(locks.BUDGET_KEY, locks.PAUSE_KEY)  # the session's Redis: leave it clean


def test_a_full_bucket_is_drawn_from_in_batches_and_a_low_one_token_by_token(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.delete(locks.BUDGET_KEY, locks.PAUSE_KEY)
    full = locks.RedisBudget(client, rate=0.001, burst=1000.0)  # no refill during the test

    def tokens() -> float:
        return float(client.hget(locks.BUDGET_KEY, "tokens") or 0)

    try:
        assert [full.take() for _ in range(locks.BATCH)] == [0.0] * locks.BATCH
        assert round(tokens()) == 1000 - locks.BATCH  # one Redis round trip for all of them
        full.take()
        assert round(tokens()) == 1000 - 2 * locks.BATCH
        client.hset(locks.BUDGET_KEY, "tokens", str(2 * locks.BATCH - 1))
        low = locks.RedisBudget(client, rate=0.001, burst=1000.0)
        low.take()
        assert round(tokens()) == 2 * locks.BATCH - 2  # too few left to take a batch
    finally:
        client.delete(locks.BUDGET_KEY, locks.PAUSE_KEY)
