"""Flower, started as the chart starts it, guards its API with basic auth and shows the
Faros workers and the syncs they ran (from worker events, ``--task-events``)."""

from __future__ import annotations

import secrets
import socket
from typing import Any

from faros.tasks import app as celery_app
from faros.tasks import sync as sync_task
from tests.harness.flower import Flower
from tests.harness.wait import eventually
from tests.harness.workers import Worker

USER = "faros"


def test_flower_requires_credentials_but_not_for_its_probe(redis_url, tmp_path):
    password = secrets.token_urlsafe(12)
    with Flower(
        broker_url=redis_url, basic_auth=f"{USER}:{password}", directory=tmp_path
    ) as flower:
        assert flower.get("/healthcheck") == (200, "OK")  # the chart's probe
        assert flower.get("/metrics")[0] == 200
        for path in ("/", "/api/workers", "/api/tasks"):
            assert flower.get(path)[0] == 401, path
            assert flower.get(path, auth=(USER, "wrong"))[0] == 401, path
            assert flower.get(path, auth=("other", password))[0] == 401, path
            assert flower.get(path, auth=(USER, password))[0] == 200, path
    assert flower.returncode == 0
    assert password not in flower.log.read_text()


def test_flower_lists_the_worker_and_the_sync_it_ran(tracks, worker_settings, redis_url, tmp_path):
    credentials = (USER, secrets.token_urlsafe(12))
    key = tracks.create(reference="a144436")
    name = f"celery@{socket.gethostname()}"  # the harness worker keeps Celery's default name

    with (
        Flower(
            broker_url=redis_url, basic_auth=":".join(credentials), directory=tmp_path / "flower"
        ) as flower,
        Worker(worker_settings, tmp_path / "worker"),
    ):

        def online() -> None:  # Flower has seen the worker's events
            assert flower.json("/api/workers?status=true", auth=credentials) == {name: True}

        eventually(online, timeout=30, interval=0.5)

        def inspected() -> dict[str, Any]:  # refresh=true asks the workers (remote control) again
            workers = flower.json("/api/workers?refresh=true", auth=credentials)
            assert list(workers) == [name], workers
            return dict(workers[name])

        worker = eventually(inspected, timeout=30, interval=0.5)
        assert {"faros.sync", "faros.apply"} <= set(worker["registered"])
        assert [queue["name"] for queue in worker["active_queues"]] == ["sync"]

        with celery_app.app.connection_for_write(redis_url) as connection:
            # celery-types lacks apply_async's documented `connection` option
            sent = sync_task.sync.apply_async(
                args=(key.namespace, key.name),
                connection=connection,  # type: ignore[call-arg]
            )

        def succeeded() -> dict[str, Any]:
            task = flower.json("/api/tasks?taskname=faros.sync", auth=credentials).get(sent.id)
            assert task is not None, "Flower has not seen the task"
            assert task["state"] == "SUCCESS", task
            return dict(task)

        task = eventually(succeeded, timeout=60, interval=0.5)
        assert task["worker"] == name
        assert key.name in task["args"]
        assert tracks.status(key).get("objectsApplied") == 2
        queues = flower.json("/api/queues/length", auth=credentials)
        assert queues == {"active_queues": [{"name": "sync", "messages": 0}]}
    assert flower.returncode == 0
