"""The failing-webhook harness answers AdmissionReviews over verified TLS as a test switches it.

Its own loopback server is the one server this unit test starts: the harness under test.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.harness import wait
from tests.harness.webhook import Behaviour, Call, FailingWebhook

# func_only: the run's last test also tears down the session's control plane (slower)
pytestmark = pytest.mark.timeout(10, func_only=True)


@pytest.fixture
def hook() -> Iterator[FailingWebhook]:
    with FailingWebhook() as started:
        yield started


def review(*, name: str = "settings", operation: str = "CREATE") -> dict[str, Any]:
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "namespace": "team-a",
            "name": name,
            "operation": operation,
            "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}},
        },
    }


def post(
    hook: FailingWebhook,
    body: dict[str, Any],
    *,
    timeout: float = 2.0,
    hostname: str = "127.0.0.1",
) -> tuple[int, Any]:
    """POST like the API server does, trusting only the harness CA: (status, decoded body)."""
    context = ssl.create_default_context(cafile=str(hook.ca_path))
    connection = http.client.HTTPSConnection(hostname, hook.port, timeout=timeout, context=context)
    try:
        connection.request(
            "POST",
            "/validate?timeout=10s",
            body=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        data = answer.read()
    finally:
        connection.close()
    if answer.getheader("Content-Type") == "application/json":
        return answer.status, json.loads(data)
    return answer.status, data.decode()


def test_allow_answers_the_request_uid(hook: FailingWebhook) -> None:
    sent = review()
    status, body = post(hook, sent)
    assert status == 200
    assert body == {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": sent["request"]["uid"], "allowed": True},
    }


def test_certificate_names_localhost_too(hook: FailingWebhook) -> None:
    assert post(hook, review(), hostname="localhost")[0] == 200


def test_fail_answers_500_n_times_then_allows(hook: FailingWebhook) -> None:
    hook.fail(2)
    statuses = [post(hook, review())[0] for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert (hook.count(Behaviour.FAIL), hook.count(Behaviour.ALLOW), hook.count()) == (2, 1, 3)


def test_deny_carries_message_and_code_then_allows(hook: FailingWebhook) -> None:
    hook.deny(1, "no configmaps today", 422)
    _, denied = post(hook, review())
    _, allowed = post(hook, review())
    assert denied["response"]["allowed"] is False
    assert denied["response"]["status"] == {"code": 422, "message": "no configmaps today"}
    assert allowed["response"]["allowed"] is True


def test_hang_outlasts_the_client_timeout_then_allows(hook: FailingWebhook) -> None:
    hook.hang(1, 0.5)
    with pytest.raises(TimeoutError):
        post(hook, review(), timeout=0.2)
    # Served while the first request still hangs: handlers run concurrently.
    assert post(hook, review())[0] == 200
    assert (hook.count(Behaviour.HANG), hook.count(Behaviour.ALLOW)) == (1, 1)


def test_switching_back_to_allow_cancels_a_plan(hook: FailingWebhook) -> None:
    hook.fail(5)
    hook.allow()
    assert post(hook, review())[0] == 200


def test_records_kind_namespace_name_operation(hook: FailingWebhook) -> None:
    hook.deny(1)
    post(hook, review(name="first"))
    post(hook, review(name="second", operation="UPDATE"))
    assert hook.calls() == [
        Call("ConfigMap", "team-a", "first", "CREATE", Behaviour.DENY),
        Call("ConfigMap", "team-a", "second", "UPDATE", Behaviour.ALLOW),
    ]
    hook.reset()
    assert (hook.calls(), hook.count()) == ([], 0)


def test_not_a_review_is_a_bad_request(hook: FailingWebhook) -> None:
    status, _ = post(hook, {"kind": "Something"})
    assert status == 400
    assert (hook.count(), hook.calls()) == (1, [])


def hanging(hook: FailingWebhook) -> None:
    assert hook.count(Behaviour.HANG) == 1


def test_stop_is_prompt_while_a_request_hangs() -> None:
    hook = FailingWebhook().start()
    folder = hook.ca_path.parent
    hook.hang(1, 30)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(post, hook, review(), timeout=5)
        wait.eventually(lambda: hanging(hook), timeout=2, interval=0.01)
        started = time.monotonic()
        hook.stop()
        stopped = time.monotonic() - started
        with pytest.raises(http.client.RemoteDisconnected):  # hung up on, not answered
            pending.result()
    assert stopped < 1.0
    assert not folder.exists()


def test_configuration_points_at_the_server_with_its_ca(hook: FailingWebhook) -> None:
    body = hook.configuration(
        "faros-test-fail",
        namespace_label=("faros.test/webhook", "on"),
        resources=[("", "v1", "configmaps"), ("apps", "v1", "deployments")],
        timeout_seconds=2,
    )
    assert body["apiVersion"] == "admissionregistration.k8s.io/v1"
    assert body["kind"] == "ValidatingWebhookConfiguration"
    assert body["metadata"] == {"name": "faros-test-fail"}
    [webhook] = body["webhooks"]
    assert webhook["clientConfig"]["url"] == f"https://127.0.0.1:{hook.port}/validate"
    assert base64.b64decode(webhook["clientConfig"]["caBundle"]).decode() == hook.ca_pem
    assert hook.ca_pem == hook.ca_path.read_text()
    assert hook.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert webhook["namespaceSelector"] == {"matchLabels": {"faros.test/webhook": "on"}}
    assert [(r["apiGroups"], r["apiVersions"], r["resources"]) for r in webhook["rules"]] == [
        ([""], ["v1"], ["configmaps"]),
        (["apps"], ["v1"], ["deployments"]),
    ]
    assert all(r["operations"] == ["CREATE", "UPDATE"] for r in webhook["rules"])
    assert (webhook["failurePolicy"], webhook["timeoutSeconds"]) == ("Fail", 2)
    assert (webhook["sideEffects"], webhook["admissionReviewVersions"]) == ("None", ["v1"])
    assert webhook["name"].count(".") >= 2
