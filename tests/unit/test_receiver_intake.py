"""One delivery through the receiver's intake: verify, match, de-duplicate, stamp, queue.

The GitTracks are an in-memory index, the dispatcher records what it is asked to queue (our
own ``Dispatcher`` protocol) and the clocks are injected: no server of any kind.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from faros.api import names
from faros.core import errors, identity
from faros.core.webhooks import matching, payloads
from faros.receiver import intake

Provider = payloads.Provider
SHARED = "shared-github-secret"
OWN = "team-a-own-secret"
REPO = "https://github.com/org/manifests.git"
NOW = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)


def track(
    name: str, reference: str = "main", *, namespace: str = "team-a", repository: str = REPO,
    secret: dict[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    meta: dict[str, Any] = {"name": name, "namespace": namespace} if namespace else {"name": name}
    spec: dict[str, Any] = {"repository": repository, "reference": reference}
    if secret:
        spec["webhookSecretRef"] = secret
    kind = names.GITTRACK if namespace else names.CLUSTERGITTRACK
    return {"apiVersion": names.API_VERSION, "kind": kind, "metadata": meta, "spec": spec}


def key(name: str, namespace: str = "team-a") -> identity.ObjectKey:
    return identity.gittrack_key(namespace=namespace, name=name)


class Recorder:
    """A dispatcher that records the syncs it is asked for; ``pending`` ones are not queued."""

    def __init__(self, pending: Iterable[identity.ObjectKey] = ()) -> None:
        self.asked: list[identity.ObjectKey] = []
        self.pending = set(pending)
        self.down = False

    def sync(self, key: identity.ObjectKey) -> bool:
        if self.down:
            raise errors.Unreachable(what="the broker", reason="connection refused")
        self.asked.append(key)
        return key not in self.pending


class Store:
    """Secrets in memory: the shared ones by provider, GitTracks' own by reference."""

    def __init__(self, shared: dict[str, str], own: dict[matching.SecretRef, str]) -> None:
        self.shared_secrets = shared
        self.own = own

    def shared(self, provider: payloads.Provider) -> str:
        return self.shared_secrets.get(provider.value, "")

    def get(self, ref: matching.SecretRef) -> str:
        return self.own.get(ref, "")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class World:
    """An intake over an in-memory index, with what it queued and stamped."""

    def __init__(self, tracks: list[dict[str, Any]], *, shared: dict[str, str] | None = None,
                 own: dict[matching.SecretRef, str] | None = None, rate: float = 10,
                 scope: matching.Scope | None = None,
                 pending: Iterable[identity.ObjectKey] = ()) -> None:  # fmt: skip
        self.tracks = tracks
        self.dispatcher = Recorder(pending)
        self.stamps: list[tuple[identity.ObjectKey, str]] = []
        self.clock = Clock()
        self.intake = intake.Intake(
            tracks=lambda kind: [t for t in self.tracks if t["kind"] == kind],
            secrets=Store({"github": SHARED} if shared is None else shared, own or {}),
            dispatcher=self.dispatcher,
            stamp=lambda key, stamp: self.stamps.append((key, stamp)),
            scope=scope or matching.Scope(),
            replay_window=600,
            rate=rate,
            clock=self.clock,
            wall=lambda: NOW,
        )

    def github(self, payload: dict[str, Any], *, secret: str = SHARED, event: str = "push",
               delivery: str = "d-1") -> intake.Answer:  # fmt: skip
        body = json.dumps(payload).encode()
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "x-github-event": event, "x-github-delivery": delivery,
            "x-hub-signature-256": f"sha256={digest}", "content-type": "application/json",
        }  # fmt: skip
        return self.intake.handle(Provider.GITHUB, headers=headers, body=body)


def push(ref: str = "refs/heads/main", *, name: str = "org/manifests", after: str = "b" * 40):
    return {
        "ref": ref, "before": "a" * 40, "after": after, "deleted": set(after) == {"0"},
        "repository": {"full_name": name, "ssh_url": f"git@github.com:{name}.git",
                       "clone_url": f"https://github.com/{name}.git",
                       "html_url": f"https://github.com/{name}"},
    }  # fmt: skip


def queued(provider: str) -> float:
    return (
        REGISTRY.get_sample_value("faros_webhook_syncs_queued_total", {"provider": provider}) or 0.0
    )


def test_a_signed_push_queues_the_gittracks_following_that_branch_and_stamps_them():
    world = World([track("main"), track("release", "release"), track("cluster", namespace=""),
                   track("elsewhere", repository="https://github.com/org/other")])  # fmt: skip
    before = queued("github")

    answer = world.github(push())

    assert (answer.status, answer.body, answer.result) == (200, {"accepted": True}, "accepted")
    assert world.dispatcher.asked == [key("cluster", ""), key("main")]
    assert world.stamps == [(key("cluster", ""), "2024-05-01T12:00:00.000Z"),
                            (key("main"), "2024-05-01T12:00:00.000Z")]  # fmt: skip
    assert queued("github") == before + 2


def test_matched_and_unmatched_pushes_get_the_same_answer():
    world = World([track("main")])

    matched = world.github(push(), delivery="1")
    unmatched = world.github(push("refs/heads/nobody-follows"), delivery="2")
    unknown_repository = world.github(push(name="org/none"), delivery="3")

    assert matched == unmatched == unknown_repository
    assert world.dispatcher.asked == [key("main")]


def test_a_sync_already_pending_is_asked_for_and_stamped_but_not_counted_twice():
    world = World([track("main")], pending=[key("main")])
    before = queued("github")

    assert world.github(push()).status == 200

    assert world.dispatcher.asked == [key("main")]
    assert len(world.stamps) == 1
    assert queued("github") == before


def test_tags_deletions_and_pinned_gittracks():
    world = World([track("tag", "v1"), track("pinned", "c" * 40), track("main")])

    world.github(push("refs/tags/v1"), delivery="1")
    world.github(push(after="0" * 40), delivery="2")  # main deleted
    world.github(push("refs/heads/" + "c" * 40), delivery="3")

    assert world.dispatcher.asked == [key("tag")]


@pytest.mark.parametrize(
    ("secret", "headers"),
    [("wrong", None), (SHARED, {"x-github-event": "push"}), (OWN, None)],
    ids=["wrong-secret", "no-signature", "another-gittrack-s-secret"],
)
def test_an_unverified_push_is_401_and_queues_nothing(secret, headers):
    world = World([track("main")])
    if headers is None:
        answer = world.github(push(), secret=secret)
    else:
        answer = world.intake.handle(Provider.GITHUB, headers=headers, body=b"{}")

    assert (answer.status, answer.body) == (401, {"error": "unauthorized"})
    assert world.dispatcher.asked == []
    assert world.stamps == []


def test_no_secret_configured_refuses_everything():
    world = World([track("main")], shared={})

    assert world.github(push(), secret="").status == 401
    assert world.github(push(), secret="anything").status == 401
    assert world.dispatcher.asked == []


def test_a_gittrack_s_own_secret_wakes_that_gittrack_only():
    ref = matching.SecretRef("team-a", "hook", "github")
    world = World(
        [track("own", secret={"name": "hook", "key": "github"}), track("shared-only"),
         track("other-own", secret={"name": "other", "key": "github"})],
        shared={}, own={ref: OWN, matching.SecretRef("team-a", "other", "github"): "x"},
    )  # fmt: skip

    assert world.github(push(), secret=OWN).status == 200
    assert world.dispatcher.asked == [key("own")]


def test_the_shared_secret_also_wakes_gittracks_that_have_their_own():
    world = World([track("own", secret={"name": "hook", "key": "github"})],
                  own={matching.SecretRef("team-a", "hook", "github"): OWN})  # fmt: skip

    assert world.github(push()).status == 200
    assert world.dispatcher.asked == [key("own")]


def test_malformed_payload_is_400_only_once_authenticated():
    world = World([track("main")])
    body = b"{not json"
    digest = hmac.new(SHARED.encode(), body, hashlib.sha256).hexdigest()
    signed = {"x-github-event": "push", "x-hub-signature-256": f"sha256={digest}"}

    assert world.intake.handle(Provider.GITHUB, headers=signed, body=body).status == 400
    unsigned = {"x-github-event": "push", "x-hub-signature-256": "sha256=00"}
    assert world.intake.handle(Provider.GITHUB, headers=unsigned, body=body).status == 401


def test_a_replayed_delivery_is_200_and_queues_nothing_until_the_window_passed():
    world = World([track("main")])

    first = world.github(push(), delivery="same")
    world.clock.now += 599
    again = world.github(push(), delivery="same")
    world.clock.now += 2
    later = world.github(push(), delivery="same")

    assert (first.result, again.result, later.result) == ("accepted", "replayed", "accepted")
    assert again.body == first.body
    assert world.dispatcher.asked == [key("main"), key("main")]


def test_an_unverified_delivery_does_not_burn_its_delivery_id():
    world = World([track("main")])

    assert world.github(push(), secret="wrong", delivery="x").status == 401
    assert world.github(push(), delivery="x").result == "accepted"


def test_ping_and_other_events_are_200_and_ignored():
    world = World([track("main")])

    ping = world.github({"zen": "Keep it logically awesome.", "hook_id": 1}, event="ping",
                        delivery="p")  # fmt: skip
    other = world.github({"action": "opened"}, event="pull_request", delivery="o")

    assert (ping.status, ping.result, other.status, other.result) == (
        200, "ping", 200, "ignored")  # fmt: skip
    assert world.dispatcher.asked == []


def test_a_ping_verifies_against_the_own_secret_of_a_gittrack_of_its_repository():
    world = World([track("own", secret={"name": "hook", "key": "github"})], shared={},
                  own={matching.SecretRef("team-a", "hook", "github"): OWN})  # fmt: skip
    ping = {
        "zen": "Half measures are as bad as nothing at all.",
        "repository": push()["repository"],
    }

    assert world.github(ping, event="ping", secret=OWN).result == "ping"
    assert world.github(ping, event="ping", secret="wrong", delivery="2").status == 401


def test_broker_down_is_503_and_the_redelivery_is_accepted():
    world = World([track("main")])
    world.dispatcher.down = True

    assert world.github(push(), delivery="d").status == 503

    world.dispatcher.down = False
    assert world.github(push(), delivery="d").result == "accepted"
    assert world.dispatcher.asked == [key("main")]


def test_scope_is_respected():
    tracks = [track("a"), track("b", namespace="team-b"), track("c", namespace="")]
    namespaced = World(tracks, scope=matching.Scope(
        cluster_mode=names.ClusterGitTrackMode.DISABLED, namespace="team-a"))  # fmt: skip
    clusters = World(tracks, scope=matching.Scope(gittracks=False))

    namespaced.github(push())
    clusters.github(push())

    assert namespaced.dispatcher.asked == [key("a")]
    assert clusters.dispatcher.asked == [key("c", "")]


def test_admit_rate_limits_each_client():
    world = World([], rate=1)  # bursts of 5

    assert [world.intake.admit("10.1.1.1") for _ in range(6)] == [0, 0, 0, 0, 0, 1]
    assert world.intake.admit("10.1.1.2") == 0
    world.clock.now += 1
    assert world.intake.admit("10.1.1.1") == 0


@pytest.mark.parametrize("provider", list(Provider), ids=str)
def test_every_provider_goes_through_the_same_path(provider):
    world = World([track("main")], shared={provider.value: "user:s3cret"})
    body, headers = DELIVERIES[provider]()
    headers |= SIGN[provider](body, "user:s3cret")

    answer = world.intake.handle(provider, headers=headers, body=body)

    assert (answer.status, answer.result) == (200, "accepted")
    assert world.dispatcher.asked == [key("main")]


def _hmac(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


SIGN = {
    Provider.GITHUB: lambda b, s: {"x-hub-signature-256": f"sha256={_hmac(b, s)}"},
    Provider.GITLAB: lambda b, s: {"x-gitlab-token": s},
    Provider.BITBUCKET: lambda b, s: {"x-hub-signature": f"sha256={_hmac(b, s)}"},
    Provider.BITBUCKET_SERVER: lambda b, s: {"x-hub-signature": f"sha256={_hmac(b, s)}"},
    Provider.GITEA: lambda b, s: {"x-gitea-signature": _hmac(b, s)},
    Provider.AZURE: lambda b, s: {"authorization": "Basic dXNlcjpzM2NyZXQ="},  # user:s3cret
    Provider.GENERIC: lambda b, s: {"x-signature-256": f"sha256={_hmac(b, s)}"},
}


def _json(payload: dict[str, Any], **headers: str) -> tuple[bytes, dict[str, str]]:
    return json.dumps(payload).encode(), {k.replace("_", "-"): v for k, v in headers.items()}


DELIVERIES = {
    Provider.GITHUB: lambda: _json(push(), x_github_event="push"),
    Provider.GITLAB: lambda: _json(
        {"object_kind": "push", "ref": "refs/heads/main", "after": "b" * 40,
         "project": {"git_ssh_url": "git@github.com:org/manifests.git"}},
        x_gitlab_event="Push Hook"),
    Provider.BITBUCKET: lambda: _json(
        {"repository": {"full_name": "org/manifests",
                        "links": {"html": {"href": "https://github.com/org/manifests"}}},
         "push": {"changes": [{"new": {"type": "branch", "name": "main"}, "old": None}]}},
        x_event_key="repo:push"),
    Provider.BITBUCKET_SERVER: lambda: _json(
        {"repository": {"links": {"clone": [{"href": REPO, "name": "http"}]}},
         "changes": [{"ref": {"id": "refs/heads/main"}, "type": "UPDATE"}]},
        x_event_key="repo:refs_changed"),
    Provider.GITEA: lambda: _json(push(), x_gitea_event="push"),
    Provider.AZURE: lambda: _json(
        {"eventType": "git.push", "id": "e",
         "resource": {"repository": {"remoteUrl": REPO},
                      "refUpdates": [{"name": "refs/heads/main", "newObjectId": "b" * 40}]}}),
    Provider.GENERIC: lambda: _json({"repository": REPO, "ref": "main"}),
}  # fmt: skip
