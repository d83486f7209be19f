"""kube-apiserver stopped and started again under a running Faros: no process exits, the
watchers resume, drift is reverted and a new commit converges."""

from __future__ import annotations

import secrets

import pytest

from tests.harness import cluster as cluster_harness
from tests.harness.apps import App
from tests.harness.shape import Shape, wait_ready
from tests.harness.wait import eventually


@pytest.mark.skipif(
    cluster_harness.use_existing(), reason="USE_EXISTING_CLUSTER: the API server is not ours"
)
def test_faros_carries_on_after_the_api_server_restarts(
    kube, cluster, worker_settings, git_root, git_servers, namespace, tmp_path
):
    assert cluster.plane is not None
    app = App(kube, git_root, git_servers, namespace, count=10)
    shape = Shape(worker_settings, tmp_path, beat_prefix=f"faros:beat:{secrets.token_hex(3)}:",
                  sync_period="30s")  # fmt: skip
    with shape:
        wait_ready(shape)
        app.track()
        eventually(lambda: app.assert_holds("0"), timeout=120, interval=1)

        cluster.plane.restart_apiserver(down=5.0)

        app.drift(2)  # seen only by watches that came back
        eventually(lambda: app.assert_holds("0"), timeout=90, interval=0.5)
        app.release("1")
        eventually(lambda: app.assert_holds("1"), timeout=90, interval=1)
        shape.assert_alive()
