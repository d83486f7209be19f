"""deployKey + Secret -> credentials, with the original controller's messages (spec 2.3.1)."""

from __future__ import annotations

import pytest

from faros.api import names
from faros.core import deploykeys

GT = {"owner_kind": names.GITTRACK, "owner_namespace": "team"}
CGT = {"owner_kind": names.CLUSTERGITTRACK, "owner_namespace": ""}


@pytest.mark.parametrize(
    "deploy_key",
    [None, {}, {"secretName": "", "secretNamespace": "", "key": "", "type": ""}],
    ids=["absent", "empty", "go-client-empty-strings"],
)
def test_no_deploy_key_means_no_credentials(deploy_key):
    assert deploykeys.secret_ref(deploy_key, **GT) is None


@pytest.mark.parametrize(
    ("deploy_key", "owner", "message"),
    [
        ({"secretName": "s"}, GT, "both SecretName and Key must be set when using DeployKey"),
        ({"key": "k"}, GT, "both SecretName and Key must be set when using DeployKey"),
        ({"secretName": "s", "key": "k", "secretNamespace": "other"}, GT,
         "the DeployKey namespace must match GitTrack namespace or be empty"),
        ({"secretName": "s", "key": "k"}, CGT, "no SecretNamespace set for DeployKey"),
        ({"secretName": "s", "key": "k", "type": "Token"}, GT, 'invalid type "Token"'),
    ],
    ids=["no-key", "no-name", "foreign-namespace", "cluster-no-namespace", "bad-type"],
)  # fmt: skip
def test_bad_deploy_keys_are_explained(deploy_key, owner, message):
    with pytest.raises(deploykeys.DeployKeyError, match=message):
        deploykeys.secret_ref(deploy_key, **owner)


def test_gittrack_secret_defaults_to_its_own_namespace():
    ref = deploykeys.secret_ref({"secretName": "s", "key": "k"}, **GT)

    assert ref == deploykeys.SecretRef("team", "s", "k", names.DeployKeyType.SSH)


def test_ssh_key_and_known_hosts_are_read():
    ref = deploykeys.SecretRef("ns", "s", "id", names.DeployKeyType.SSH)

    creds = deploykeys.credentials(ref, {"id": b"KEY", "known_hosts": b"host ssh-ed25519 AAA"})

    assert (creds.ssh_key, creds.known_hosts) == (b"KEY", b"host ssh-ed25519 AAA")
    assert "KEY" not in repr(creds)


def test_basic_auth_splits_at_the_first_colon():
    ref = deploykeys.SecretRef("ns", "s", "auth", names.DeployKeyType.HTTP_BASIC_AUTH)

    creds = deploykeys.credentials(ref, {"auth": b"bot:pa:ss\n"})

    assert (creds.username, creds.password) == ("bot", "pa:ss")
    assert "pa:ss" not in repr(creds)


def test_basic_auth_without_colon_is_refused():
    ref = deploykeys.SecretRef("ns", "s", "auth", names.DeployKeyType.HTTP_BASIC_AUTH)

    with pytest.raises(deploykeys.DeployKeyError, match="<username>:<password>"):
        deploykeys.credentials(ref, {"auth": b"token-only"})


def test_missing_key_names_secret_and_key():
    ref = deploykeys.SecretRef("ns", "creds", "id", names.DeployKeyType.SSH)

    with pytest.raises(deploykeys.DeployKeyError, match="Secret creds does not have key id"):
        deploykeys.credentials(ref, {"other": b"x"})


BASIC = deploykeys.SecretRef("team", "auth", "basic", names.DeployKeyType.HTTP_BASIC_AUTH)


@pytest.mark.parametrize("secret_type", ["kubernetes.io/service-account-token",
                                         "kubernetes.io/dockerconfigjson",
                                         "kubernetes.io/dockercfg"])  # fmt: skip
def test_token_and_registry_secrets_are_refused_naming_only_the_secret(secret_type):
    with pytest.raises(deploykeys.DeployKeyError, match=f"Secret team/auth has type {secret_type}"):
        deploykeys.check_secret_type(BASIC, secret_type)
    deploykeys.check_secret_type(BASIC, "Opaque")
    deploykeys.check_secret_type(BASIC, "")


def test_basic_credentials_need_https_unless_allowed():
    found = deploykeys.credentials(BASIC, {"basic": b"me:pw"})
    with pytest.raises(deploykeys.DeployKeyError, match="never sent over plain http://") as caught:
        deploykeys.check_transport("HTTP://git.example.com/x.git", found, allow_plain_http=False)
    assert "pw" not in str(caught.value).replace("plain", "")
    deploykeys.check_transport("http://git.example.com/x.git", found, allow_plain_http=True)
    deploykeys.check_transport("https://git.example.com/x.git", found, allow_plain_http=False)
    ssh = deploykeys.Credentials(ssh_key=b"k")
    deploykeys.check_transport("http://git.example.com/x.git", ssh, allow_plain_http=False)
