"""The sync task runs in a real Celery worker process fed through the real Redis broker."""

from __future__ import annotations

from faros.tasks import app as celery_app
from faros.tasks import sync as sync_task
from tests.harness.wait import eventually
from tests.harness.workers import Worker


def test_a_worker_process_syncs_a_gittrack(tracks, worker_settings, tmp_path):
    key = tracks.create(reference="a144436")

    with Worker(worker_settings, tmp_path / "worker"):
        with celery_app.app.connection_for_write(worker_settings.broker_url) as connection:
            # celery-types lacks apply_async's documented `connection` option
            sync_task.sync.apply_async(
                args=(key.namespace, key.name),
                connection=connection,  # type: ignore[call-arg]
            )

        def synced() -> None:
            status = tracks.status(key)
            assert status.get("objectsApplied") == 2, status

        eventually(synced, timeout=60)
    assert sorted(tracks.children(key)) == ["default/deployment-nginx", "default/service-nginx"]
