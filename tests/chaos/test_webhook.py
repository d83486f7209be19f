"""A real admission webhook that fails: the apply is retried until the child converges.

A ValidatingWebhookConfiguration sends every ConfigMap write of the test's namespace to a
small HTTPS server of the harness (its own CA in ``caBundle``), which answers HTTP 500, or
hangs past its timeout, for the first requests. The API server turns both into a 500 for
Faros: transient, so the GitTrackObject says it is retrying and the apply runs again with
backoff. Nothing else happens meanwhile (the sync period is long, the re-check too): the
retry alone must converge.
"""

from __future__ import annotations

import contextlib
import secrets

from faros.api import names
from faros.kube import errors
from tests.harness import webhook
from tests.harness.apps import App
from tests.harness.shape import Shape, wait_ready
from tests.harness.wait import eventually
from tests.harness.webhook import Behaviour


def test_a_failing_or_hanging_webhook_is_retried_until_the_child_converges(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    app = App(kube, git_root, git_servers, namespace, count=1)
    with (
        webhook.FailingWebhook() as hook,
        webhook.guarding(kube, hook, namespace=namespace, resources=[], timeout_seconds=2),
    ):
        hook.fail(6)  # the create, then its retries, answered 500
        shape = Shape(worker_settings, tmp_path, beat_prefix=_prefix(), sync_period="10m")
        with shape:
            wait_ready(shape)
            app.track()
            seen: set[str] = set()
            eventually(lambda: _converged(app, "0", seen), timeout=120, interval=0.5)
            assert hook.count(Behaviour.FAIL) == 6
            assert any("retrying" in message for message in seen), seen

            hook.hang(2, seconds=8)  # the update's requests time out in the API server
            app.release("1")
            eventually(lambda: _converged(app, "1", seen), timeout=120, interval=0.5)
            assert hook.count(Behaviour.HANG) == 2
            shape.assert_alive()


def _converged(app: App, value: str, seen: set[str]) -> None:
    """Note what ObjectInSync says on the way, then require ``value`` in the cluster."""
    path = f"/apis/{names.API_VERSION}/namespaces/{app.namespace}/gittrackobjects/configmap-cm-0"
    with contextlib.suppress(errors.NotFound):
        for condition in (app.kube.request("GET", path).get("status") or {}).get("conditions", []):
            seen.add(condition.get("message", ""))
    app.assert_holds(value)


def _prefix() -> str:
    return f"faros:beat:{secrets.token_hex(3)}:"
