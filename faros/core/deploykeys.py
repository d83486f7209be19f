"""Turn a GitTrack's ``deployKey`` and its Secret into credentials (spec section 2.3.1).

Messages keep the original controller's wording. Secret values never appear in a message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from faros.api import names
from faros.core import errors

KNOWN_HOSTS_KEY = "known_hosts"
"""Optional key of the deployKey Secret holding extra SSH host keys (known_hosts format)."""

WRAP = "unable to retrieve git credentials from secret: "


class DeployKeyError(errors.Refused):
    """The deployKey or its Secret cannot give credentials; ``str()`` says why."""


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """What a deployKey Secret gave us; ``repr`` never shows the values."""

    ssh_key: bytes | None = None
    known_hosts: bytes | None = None
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        kinds = [
            label
            for label, value in (("ssh_key", self.ssh_key), ("basic_auth", self.password))
            if value
        ]
        return f"Credentials({', '.join(kinds) or 'none'})"


NONE = Credentials()


@dataclasses.dataclass(frozen=True, slots=True)
class SecretRef:
    """Which Secret and key to read, and how to read the value."""

    namespace: str
    name: str
    key: str
    type: names.DeployKeyType


def secret_ref(
    deploy_key: Mapping[str, Any] | None, *, owner_kind: str, owner_namespace: str
) -> SecretRef | None:
    """The Secret a deployKey names, or None when it asks for no credentials."""
    key = dict(deploy_key or {})
    if not any(key.get(field) for field in ("secretName", "secretNamespace", "key", "type")):
        return None
    if not key.get("secretName") or not key.get("key"):
        raise DeployKeyError(WRAP + "both SecretName and Key must be set when using DeployKey")
    namespace = str(key.get("secretNamespace") or "")
    if owner_kind == names.GITTRACK:
        if namespace and namespace != owner_namespace:
            raise DeployKeyError(
                WRAP + "the DeployKey namespace must match GitTrack namespace or be empty"
            )
        namespace = owner_namespace
    elif not namespace:
        raise DeployKeyError(WRAP + "no SecretNamespace set for DeployKey")
    kind = str(key.get("type") or names.DeployKeyType.SSH)
    try:
        credential_type = names.DeployKeyType(kind)
    except ValueError:
        raise DeployKeyError(f'unable to create repo ref: invalid type "{kind}"') from None
    return SecretRef(namespace, str(key["secretName"]), str(key["key"]), credential_type)


def missing_secret(ref: SecretRef, reason: str) -> DeployKeyError:
    """The error for a Secret the API server did not give us (``reason`` is its message)."""
    return DeployKeyError(WRAP + f"failed to look up secret {ref.name}: {reason}")


REFUSED_TYPES = frozenset({
    "kubernetes.io/service-account-token",
    "kubernetes.io/dockerconfigjson",
    "kubernetes.io/dockercfg",
})  # fmt: skip
"""Secret types never read as deploy keys: a GitTrack's author could otherwise have Faros send
a service account's token or registry credentials to any Git server (a confused deputy)."""


def check_secret_type(ref: SecretRef, secret_type: str) -> None:
    """Refuse a Secret whose type holds another system's credentials.

    Raises:
        DeployKeyError: naming the Secret and its type (never its content).
    """
    if secret_type in REFUSED_TYPES:
        raise DeployKeyError(
            WRAP + f"Secret {ref.namespace}/{ref.name} has type {secret_type}: service account "
            "tokens and registry credentials are never used as deploy keys"
        )


def check_transport(url: str, found: Credentials, *, allow_plain_http: bool) -> None:
    """Refuse to send HTTP basic credentials over plain ``http://`` unless allowed.

    Raises:
        DeployKeyError: naming the reason and the flag that allows it.
    """
    plain = url.strip().lower().startswith("http://")
    if found.password is not None and plain and not allow_plain_http:
        raise DeployKeyError(
            "HTTP basic credentials are never sent over plain http:// (anyone on the path "
            "could read them): use an https:// URL, or --allow-http-credentials on a "
            "trusted network"
        )


def credentials(ref: SecretRef, data: Mapping[str, bytes]) -> Credentials:
    """Read the credential named by ``ref`` out of the Secret's decoded ``data``."""
    if ref.key not in data:
        raise DeployKeyError(
            WRAP + f"invalid deploy key reference. Secret {ref.name} does not have key {ref.key}"
        )
    value = data[ref.key]
    known_hosts = data.get(KNOWN_HOSTS_KEY) if ref.key != KNOWN_HOSTS_KEY else None
    if ref.type is names.DeployKeyType.SSH:
        return Credentials(ssh_key=value, known_hosts=known_hosts)
    username, separator, password = value.decode("utf-8", "replace").partition(":")
    if not separator:
        raise DeployKeyError(
            "you must specify the secret as <username>:<password> for credential type HTTPBasicAuth"
        )
    return Credentials(username=username.strip(), password=password.strip("\r\n"))
