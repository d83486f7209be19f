"""A worker serving both queues keeps one pool process for applies: sync slots."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any, cast

import pytest

from faros import config
from faros.git import fetch
from faros.tasks import runtime


@pytest.mark.parametrize(
    ("queues", "concurrency", "slots"),
    [("sync,apply", 4, 3), ("sync,apply", 1, 0), ("sync", 4, 0), ("apply", 2, 0)],
    ids=["both-queues", "one-process", "sync-only", "apply-only"],
)
def test_a_worker_serving_both_queues_caps_its_syncs(queues, concurrency, slots):
    _, settings = config.parse(["worker", f"--queues={queues}",
                                f"--concurrency={concurrency}"], {})  # fmt: skip
    assert runtime.sync_slots(settings) == slots


def test_slots_are_shared_and_freed(tmp_path):
    rt = _runtime(tmp_path, slots=2)
    with contextlib.ExitStack() as stack:
        assert stack.enter_context(rt.sync_slot()) is True
        assert stack.enter_context(rt.sync_slot()) is True
        with rt.sync_slot() as third:
            assert third is False, "both slots taken: the process stays free for applies"
    with rt.sync_slot() as again:
        assert again is True


def test_threads_of_one_process_share_the_slots(tmp_path):
    rt = _runtime(tmp_path, slots=1)
    with _held_by_another_thread(rt), rt.sync_slot() as other:
        assert other is False, "the threads pool's other thread is kept for applies"
    with rt.sync_slot() as again:
        assert again is True


def test_a_slot_freed_within_the_wait_is_taken_instead_of_queuing_the_sync_again(tmp_path):
    """During a wave of syncs the pool's spare thread waited for nothing: it re-queued sync
    after sync (1,751 messages for 300 syncs). It now waits ``SLOT_WAIT`` for a slot."""
    rt = _runtime(tmp_path, slots=1)
    with _held_by_another_thread(rt) as release:
        threading.Timer(runtime.SLOT_WAIT / 4, release.set).start()
        with rt.sync_slot() as freed:
            assert freed is True, "the slot freed while this sync waited for one"


@contextlib.contextmanager
def _held_by_another_thread(rt: runtime.Runtime) -> Iterator[threading.Event]:
    """The only slot, held by another thread until the yielded event is set (or the end)."""
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with rt.sync_slot() as slot:
            assert slot is True
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        yield release
    finally:
        release.set()
        thread.join()


def _runtime(folder, *, slots: int) -> runtime.Runtime:
    """A runtime with only its clone cache (where the slots' lock files live)."""
    return runtime.Runtime(
        settings=config.Settings(), kube=cast(Any, None), discovery=cast(Any, None),
        openapi=cast(Any, None), store=fetch.Store(folder, fetch_timeout=1.0),
        locks=cast(Any, None), lock_ttl=30.0, sync_slots=slots,
    )  # fmt: skip
