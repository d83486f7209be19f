"""Verify a delivery the way its provider signs it; every comparison is constant-time.

| Provider | What proves the sender knows the secret |
| --- | --- |
| ``github`` | ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`` |
| ``gitlab`` | ``X-Gitlab-Token: <the secret>`` |
| ``bitbucket`` (Cloud) | ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`` |
| ``bitbucket-server`` (Data Center) | the same |
| ``gitea`` (and Forgejo) | ``X-Forgejo-Signature``, else ``X-Gitea-Signature``: bare hex |
| ``azure`` (DevOps) | ``Authorization: Basic``, the secret being ``user:password`` |
| ``generic`` | ``X-Signature-256: sha256=<hex HMAC-SHA256 of the body>`` |

The HMACs are over the raw body, as received. Headers are given with lower-case names. An
empty secret never verifies anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from faros.core.webhooks import payloads

Provider = payloads.Provider


def verify(provider: Provider, *, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """True when the delivery (``headers`` by lower-case name, raw ``body``) proves ``secret``."""
    if not secret:
        return False
    key = secret.encode()
    if provider is Provider.GITLAB:
        return _equal(headers.get("x-gitlab-token", ""), secret)
    if provider is Provider.AZURE:
        return _basic(headers.get("authorization", ""), secret)
    if provider is Provider.GITEA:
        given = headers.get("x-forgejo-signature") or headers.get("x-gitea-signature", "")
        return _equal(given.strip().lower(), digest(key, body))
    header = {
        Provider.GITHUB: "x-hub-signature-256",
        Provider.BITBUCKET: "x-hub-signature",
        Provider.BITBUCKET_SERVER: "x-hub-signature",
        Provider.GENERIC: "x-signature-256",
    }[provider]
    scheme, _, given = headers.get(header, "").strip().partition("=")
    return scheme.lower() == "sha256" and _equal(given.lower(), digest(key, body))


def digest(key: bytes, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``body`` under ``key``: what the HMAC providers send."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _basic(header: str, secret: str) -> bool:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, secret.encode())


def _equal(given: str, expected: str) -> bool:
    """Constant-time equality of two texts; text that is not ASCII is compared as UTF-8."""
    return hmac.compare_digest(given.encode(), expected.encode())
