"""The receiver's webhook secrets: read through a reader function, cached, kept when the API
server fails, decoded as Secrets store them."""

from __future__ import annotations

import base64

from faros.core.webhooks import matching, payloads
from faros.kube import errors
from faros.receiver import secretcache

Provider = payloads.Provider


class Reads:
    """A reader function serving Secrets from a dict, counting reads; ``failing`` raises."""

    def __init__(self, secrets: dict[tuple[str, str], dict[str, str] | None]) -> None:
        self.secrets = secrets
        self.count = 0
        self.failing = False

    def __call__(self, namespace: str, name: str) -> dict[str, str] | None:
        self.count += 1
        if self.failing:
            raise errors.Unavailable(status=503, reason="ServiceUnavailable", message="down")
        return self.secrets.get((namespace, name))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_shared_secret_per_provider_and_own_secrets_by_key():
    reads = Reads({("faros", "hooks"): {"github": "gh", "azure": "u:p"},
                   ("team-a", "own"): {"k": "v"}})  # fmt: skip
    secrets = secretcache.Secrets(reads, shared="faros/hooks", clock=Clock())

    assert secrets.shared(Provider.GITHUB) == "gh"
    assert secrets.shared(Provider.AZURE) == "u:p"
    assert secrets.shared(Provider.GITLAB) == ""
    assert secrets.get(matching.SecretRef("team-a", "own", "k")) == "v"
    assert secrets.get(matching.SecretRef("team-a", "own", "missing")) == ""
    assert secrets.get(matching.SecretRef("team-a", "gone", "k")) == ""


def test_no_shared_secret_configured_reads_nothing():
    reads = Reads({})
    secrets = secretcache.Secrets(reads, shared="", clock=Clock())

    assert secrets.shared(Provider.GITHUB) == ""
    assert reads.count == 0


def test_a_secret_is_read_once_per_ttl_and_a_rotation_is_seen_after_it():
    reads = Reads({("faros", "hooks"): {"github": "old"}})
    clock = Clock()
    secrets = secretcache.Secrets(reads, shared="faros/hooks", clock=clock)

    assert [secrets.shared(Provider.GITHUB) for _ in range(5)] == ["old"] * 5
    reads.secrets[("faros", "hooks")] = {"github": "new"}
    clock.now = secretcache.TTL - 0.1
    assert secrets.shared(Provider.GITHUB) == "old"
    clock.now = secretcache.TTL
    assert secrets.shared(Provider.GITHUB) == "new"
    assert reads.count == 2


def test_the_last_value_is_kept_while_the_api_server_fails_and_retried_soon():
    reads = Reads({("faros", "hooks"): {"github": "gh"}})
    clock = Clock()
    secrets = secretcache.Secrets(reads, shared="faros/hooks", clock=clock)
    secrets.shared(Provider.GITHUB)
    reads.failing = True
    clock.now = secretcache.TTL

    assert secrets.shared(Provider.GITHUB) == "gh"
    assert secrets.shared(Provider.GITHUB) == "gh"  # not read again at once
    assert reads.count == 2
    reads.failing = False
    clock.now += secretcache.RETRY
    assert secrets.shared(Provider.GITHUB) == "gh"
    assert reads.count == 3


def test_never_read_and_failing_is_no_secret():
    reads = Reads({})
    reads.failing = True
    secrets = secretcache.Secrets(reads, shared="faros/hooks", clock=Clock())

    assert secrets.shared(Provider.GITHUB) == ""


def test_secret_data_is_decoded_without_a_trailing_line_end():
    def b64(text: bytes) -> str:
        return base64.b64encode(text).decode()

    data = {"github": b64(b"s3cret\n"), "gitlab": b64(b"tok\r\n"), "azure": b64(b"u:p"),
            "broken": "%%%"}  # fmt: skip

    assert secretcache.decode(data) == {"github": "s3cret", "gitlab": "tok", "azure": "u:p"}
