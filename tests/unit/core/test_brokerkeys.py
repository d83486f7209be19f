"""Queue depth counts every priority list kombu's Redis transport keeps for a queue."""

from __future__ import annotations

from kombu.transport import redis as kombu_redis

from faros.core import brokerkeys


def test_defaults_match_kombu():
    assert tuple(kombu_redis.PRIORITY_STEPS) == brokerkeys.PRIORITY_STEPS
    assert kombu_redis.Channel.sep == brokerkeys.SEPARATOR


def test_queue_keys_are_the_plain_name_and_one_per_priority_step():
    assert brokerkeys.queue_keys("apply") == (
        "apply", "apply\x06\x163", "apply\x06\x166", "apply\x06\x169",
    )  # fmt: skip


def test_transport_options_change_steps_separator_and_prefix():
    options = {"priority_steps": [0, 5], "sep": ":", "global_keyprefix": "faros/"}
    assert brokerkeys.for_options("sync", options) == ("faros/sync", "faros/sync:5")


def test_keys_match_kombu_for_each_step():
    channel = object.__new__(kombu_redis.Channel)  # no connection: only the pure helpers
    expected = {
        channel._q_for_pri("sync", step)  # type: ignore[attr-defined]  # private, untyped
        for step in kombu_redis.PRIORITY_STEPS
    }
    assert set(brokerkeys.queue_keys("sync")) == expected
