"""The threads pool cannot kill a task that hangs: its worker's health check names it."""

from __future__ import annotations

from faros.tasks import worker


def test_a_task_past_the_time_limit_is_hung():
    running = {"fast": 95.0, "stuck": 10.0}

    assert worker.hung(100.0, running=running, limit=60.0) == ["stuck"]


def test_no_limit_means_no_check():
    assert worker.hung(1e9, running={"old": 0.0}, limit=0.0) == []


def test_a_task_at_the_limit_is_not_yet_hung():
    assert worker.hung(160.0, running={"edge": 100.0}, limit=60.0) == []
