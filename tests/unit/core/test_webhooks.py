"""faros.core.webhooks: signatures, payloads, repository URLs, matching, guards, push stamps.

Bodies are shaped like each provider's documented payloads (trimmed to what a receiver
reads, plus some of what it must ignore); signatures are computed as the provider computes
them, over the exact bytes sent.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import urllib.parse
from typing import Any

import pytest

from faros.api import names
from faros.core import identity
from faros.core.webhooks import guards, matching, payloads, pushstamp, repourls, signatures

Provider = payloads.Provider
RefChange = payloads.RefChange
SECRET = "It's a Secret to Everybody"
ZERO = "0" * 40
SHA_A = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
SHA_B = "b2a69e1d8a87b8a2c17a2fd6a6e1dc2f0e2a8e37"


def hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


# Payloads as the providers document them ---------------------------------------------------


def github_push(ref: str = "refs/heads/main", *, after: str = SHA_B, deleted: bool = False):
    return {
        "ref": ref, "before": SHA_A, "after": after, "created": False, "deleted": deleted,
        "forced": False, "base_ref": None,
        "compare": "https://github.com/Octo-Org/Hello-World/compare/6113728f27ae...b2a69e1d8a87",
        "commits": [{"id": SHA_B, "message": "Update README", "added": [], "removed": [],
                     "modified": ["README.md"]}],
        "head_commit": {"id": SHA_B, "message": "Update README"},
        "repository": {
            "id": 1296269, "name": "Hello-World", "full_name": "Octo-Org/Hello-World",
            "private": False, "html_url": "https://github.com/Octo-Org/Hello-World",
            "url": "https://github.com/Octo-Org/Hello-World",
            "git_url": "git://github.com/Octo-Org/Hello-World.git",
            "ssh_url": "git@github.com:Octo-Org/Hello-World.git",
            "clone_url": "https://github.com/Octo-Org/Hello-World.git",
            "svn_url": "https://github.com/Octo-Org/Hello-World", "default_branch": "main",
        },
        "pusher": {"name": "octocat", "email": "octocat@github.com"},
        "sender": {"login": "octocat", "id": 1},
    }  # fmt: skip


def github_ping():
    return {
        "zen": "Design for failure.", "hook_id": 109948940,
        "hook": {"type": "Repository", "id": 109948940, "events": ["push"], "active": True,
                 "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://x"}},
        "repository": github_push()["repository"],
        "sender": {"login": "octocat", "id": 1},
    }  # fmt: skip


def gitlab_push(ref: str = "refs/heads/master", *, after: str = SHA_B, kind: str = "push"):
    return {
        "object_kind": kind, "event_name": kind, "before": SHA_A, "after": after, "ref": ref,
        "ref_protected": True, "checkout_sha": after, "user_id": 4, "user_name": "John Smith",
        "project_id": 15,
        "project": {
            "id": 15, "name": "Diaspora", "web_url": "http://example.com/mike/diaspora",
            "git_ssh_url": "git@example.com:mike/diaspora.git",
            "git_http_url": "http://example.com/mike/diaspora.git", "namespace": "Mike",
            "path_with_namespace": "mike/diaspora", "default_branch": "master",
            "homepage": "http://example.com/mike/diaspora",
            "url": "git@example.com:mike/diaspora.git",
            "ssh_url": "git@example.com:mike/diaspora.git",
            "http_url": "http://example.com/mike/diaspora.git",
        },
        "repository": {
            "name": "Diaspora", "url": "git@example.com:mike/diaspora.git",
            "homepage": "http://example.com/mike/diaspora",
            "git_http_url": "http://example.com/mike/diaspora.git",
            "git_ssh_url": "git@example.com:mike/diaspora.git", "visibility_level": 0,
        },
        "commits": [], "total_commits_count": 4,
    }  # fmt: skip


def bitbucket_push(*changes: dict[str, Any]):
    return {
        "actor": {"type": "user", "display_name": "Emma"},
        "repository": {
            "type": "repository", "name": "Manifests", "full_name": "Team-A/Manifests",
            "uuid": "{b4f2b3e4-93e8-4a43-9ec6-7f8d3a1f6b2a}", "scm": "git", "is_private": True,
            "links": {"html": {"href": "https://bitbucket.org/Team-A/Manifests"},
                      "self": {"href": "https://api.bitbucket.org/2.0/repositories/Team-A/Manifests"}},
        },
        "push": {"changes": list(changes)},
    }  # fmt: skip


def bitbucket_change(kind: str, name: str, *, new: bool = True, old: bool = True):
    ref = {"type": kind, "name": name, "target": {"type": "commit", "hash": SHA_B}}
    return {
        "new": ref if new else None, "old": ref if old else None,
        "created": not old, "closed": not new, "forced": False, "truncated": False,
        "commits": [],
    }  # fmt: skip


def bitbucket_server_push(*changes: dict[str, Any]):
    return {
        "eventKey": "repo:refs_changed", "date": "2019-06-17T19:37:57+1000",
        "actor": {"name": "john", "emailAddress": "john@example.com", "id": 500},
        "repository": {
            "slug": "test-repo", "id": 656, "name": "test-repo", "scmId": "git",
            "project": {"key": "MYPROJECT", "id": 389, "name": "My Project"},
            "links": {
                "clone": [{"href": "ssh://git@bitbucketserver:7999/myproject/test-repo.git",
                           "name": "ssh"},
                          {"href": "https://bitbucketserver/scm/myproject/test-repo.git",
                           "name": "http"}],
                "self": [{"href": "https://bitbucketserver/projects/MYPROJECT/repos/test-repo/browse"}],
            },
        },
        "changes": list(changes),
    }  # fmt: skip


def bitbucket_server_change(ref: str, kind: str = "UPDATE", *, to_hash: str = SHA_B):
    display = ref.rpartition("/")[2]
    ref_type = "TAG" if ref.startswith("refs/tags/") else "BRANCH"
    return {"ref": {"id": ref, "displayId": display, "type": ref_type}, "refId": ref,
            "fromHash": SHA_A, "toHash": to_hash, "type": kind}  # fmt: skip


def gitea_push(ref: str = "refs/heads/develop", *, after: str = SHA_B):
    return {
        "ref": ref, "before": SHA_A, "after": after,
        "compare_url": "http://localhost:3000/gitea/webhooks/compare/6113...b2a6",
        "commits": [{"id": after, "message": "Webhooks Yay!"}],
        "repository": {
            "id": 140, "name": "webhooks", "full_name": "gitea/webhooks",
            "html_url": "http://localhost:3000/gitea/webhooks",
            "ssh_url": "ssh://gitea@localhost:2222/gitea/webhooks.git",
            "clone_url": "http://localhost:3000/gitea/webhooks.git", "default_branch": "master",
        },
        "pusher": {"login": "gitea"}, "sender": {"login": "gitea"},
    }  # fmt: skip


AZURE_PATH = "fabrikam-fiber-inc/Fabrikam-Fiber-Git/_git/Fabrikam-Fiber-Git"


def azure_push(*updates: tuple[str, str]):
    return {
        "subscriptionId": "00000000-0000-0000-0000-000000000000", "notificationId": 3,
        "id": "03c164c2-8912-4d5e-8009-3707d5f83734", "eventType": "git.push",
        "publisherId": "tfs",
        "message": {"text": "Jamal Hartnett pushed updates to Fabrikam-Fiber-Git:master."},
        "resource": {
            "commits": [{"commitId": SHA_B, "comment": "Fixed bug in web.config file"}],
            "refUpdates": [{"name": name, "oldObjectId": SHA_A, "newObjectId": new}
                           for name, new in updates],
            "repository": {
                "id": "278d5cd2-584d-4b63-824a-2ba458937249", "name": "Fabrikam-Fiber-Git",
                "url": "https://dev.azure.com/fabrikam-fiber-inc/_apis/git/repositories/278d5cd2",
                "project": {"id": "6ce954b1", "name": "Fabrikam-Fiber-Git"},
                "defaultBranch": "refs/heads/master",
                "remoteUrl": f"https://fabrikam-fiber-inc@dev.azure.com/{AZURE_PATH}",
                "sshUrl": "git@ssh.dev.azure.com:v3/fabrikam-fiber-inc/Fabrikam-Fiber-Git/"
                          "Fabrikam-Fiber-Git",
                "webUrl": f"https://dev.azure.com/{AZURE_PATH}",
            },
            "pushedBy": {"displayName": "Jamal Hartnett"}, "pushId": 14,
            "date": "2014-05-02T19:17:13.3309587Z",
        },
        "resourceVersion": "1.0",
        "createdDate": "2024-01-01T00:00:00Z",
    }  # fmt: skip


# Signatures ---------------------------------------------------------------------------------


def signed(provider: Provider, body: bytes, secret: str = SECRET) -> dict[str, str]:
    """The headers the provider sends with ``body`` under ``secret`` (lower-case names)."""
    digest = hex_hmac(secret, body)
    return {
        Provider.GITHUB: {"x-hub-signature-256": f"sha256={digest}"},
        Provider.GITLAB: {"x-gitlab-token": secret},
        Provider.BITBUCKET: {"x-hub-signature": f"sha256={digest}"},
        Provider.BITBUCKET_SERVER: {"x-hub-signature": f"sha256={digest}"},
        Provider.GITEA: {"x-gitea-signature": digest, "x-forgejo-signature": digest},
        Provider.AZURE: {"authorization": "Basic " + base64.b64encode(secret.encode()).decode()},
        Provider.GENERIC: {"x-signature-256": f"sha256={digest}"},
    }[provider]


BODY = b'{"ref": "refs/heads/main"}'


@pytest.mark.parametrize("provider", list(Provider), ids=str)
def test_a_delivery_signed_as_its_provider_signs_verifies(provider):
    secret = "faros:s3cret" if provider is Provider.AZURE else SECRET
    headers = signed(provider, BODY, secret)

    assert signatures.verify(provider, headers=headers, body=BODY, secret=secret)


@pytest.mark.parametrize("provider", list(Provider), ids=str)
def test_a_wrong_secret_a_changed_body_or_no_header_does_not_verify(provider):
    headers = signed(provider, BODY)

    assert not signatures.verify(provider, headers=headers, body=BODY, secret="other")
    assert not signatures.verify(provider, headers={}, body=BODY, secret=SECRET)
    assert not signatures.verify(provider, headers=headers, body=BODY, secret="")
    if provider not in (Provider.GITLAB, Provider.AZURE):  # those do not sign the body
        assert not signatures.verify(provider, headers=headers, body=BODY + b" ", secret=SECRET)


def test_github_s_example_signature():
    # GitHub's documented example: secret "It's a Secret to Everybody", body "Hello, World!".
    expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    headers = {"x-hub-signature-256": f"sha256={expected}"}

    assert signatures.verify(Provider.GITHUB, headers=headers, body=b"Hello, World!", secret=SECRET)


@pytest.mark.parametrize(
    "header",
    ["sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
     "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
     "sha256=", "sha256=zz", "sha256=757107ea"],
    ids=["sha1-prefix", "no-prefix", "empty", "not-hex", "truncated"],
)  # fmt: skip
def test_a_malformed_github_signature_does_not_verify(header):
    headers = {"x-hub-signature-256": header}

    assert not signatures.verify(
        Provider.GITHUB, headers=headers, body=b"Hello, World!", secret=SECRET
    )


def test_forgejo_s_signature_is_the_one_checked_when_both_are_sent():
    good = hex_hmac(SECRET, BODY)
    headers = {"x-forgejo-signature": "0" * 64, "x-gitea-signature": good}

    assert not signatures.verify(Provider.GITEA, headers=headers, body=BODY, secret=SECRET)
    assert signatures.verify(
        Provider.GITEA, headers={"x-gitea-signature": good}, body=BODY, secret=SECRET
    )


@pytest.mark.parametrize(
    "authorization",
    ["Basic " + base64.b64encode(b"faros:wrong").decode(), "Bearer faros:s3cret",
     "Basic !!!not-base64!!!", "Basic", ""],
    ids=["wrong-password", "other-scheme", "garbage", "no-credentials", "empty"],
)  # fmt: skip
def test_azure_basic_auth_must_match_user_and_password(authorization):
    headers = {"authorization": authorization}

    assert not signatures.verify(Provider.AZURE, headers=headers, body=BODY, secret="faros:s3cret")


# Payloads -----------------------------------------------------------------------------------


def parse(provider: Provider, payload: dict[str, Any], **headers: str) -> payloads.Event:
    lowered = {name.replace("_", "-").lower(): value for name, value in headers.items()}
    return payloads.parse(provider, headers=lowered, body=encode(payload))


def test_github_push_names_the_repository_every_way_and_the_branch():
    event = parse(Provider.GITHUB, github_push(), x_github_event="push",
                  x_github_delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")  # fmt: skip

    assert event.kind is payloads.Kind.PUSH
    assert event.delivery == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert set(event.repositories) == {
        "https://github.com/Octo-Org/Hello-World.git", "git@github.com:Octo-Org/Hello-World.git",
        "git://github.com/Octo-Org/Hello-World.git", "https://github.com/Octo-Org/Hello-World",
    }  # fmt: skip
    assert event.changes == (RefChange("refs/heads/main"),)


@pytest.mark.parametrize(
    ("payload", "change"),
    [(github_push("refs/tags/v1.2.0"), RefChange("refs/tags/v1.2.0")),
     (github_push(after=ZERO, deleted=True), RefChange("refs/heads/main", deleted=True)),
     (github_push(after=ZERO), RefChange("refs/heads/main", deleted=True))],
    ids=["tag", "deleted", "after-zero"],
)  # fmt: skip
def test_github_tags_and_deleted_branches(payload, change):
    assert parse(Provider.GITHUB, payload, x_github_event="push").changes == (change,)


def test_github_ping_and_other_events_are_not_pushes():
    ping = parse(Provider.GITHUB, github_ping(), x_github_event="ping", x_github_delivery="d")
    other = parse(Provider.GITHUB, {"action": "opened"}, x_github_event="pull_request")

    assert (ping.kind, ping.changes) == (payloads.Kind.PING, ())
    assert "https://github.com/Octo-Org/Hello-World.git" in ping.repositories  # for its secret
    assert other.kind is payloads.Kind.OTHER


def test_github_form_encoded_delivery_is_read_from_its_payload_field():
    body = urllib.parse.urlencode({"payload": json.dumps(github_push())}).encode()
    headers = {"x-github-event": "push", "content-type": "application/x-www-form-urlencoded"}

    event = payloads.parse(Provider.GITHUB, headers=headers, body=body)

    assert event.changes == (RefChange("refs/heads/main"),)


def test_gitlab_push_and_tag_push():
    push = parse(Provider.GITLAB, gitlab_push(), x_gitlab_event="Push Hook",
                 x_gitlab_event_uuid="13792a34-cac6-4fda-95a8-c58e00a3954e")  # fmt: skip
    tag = parse(Provider.GITLAB, gitlab_push("refs/tags/v1.0.0", kind="tag_push"),
                x_gitlab_event="Tag Push Hook")  # fmt: skip
    deleted = parse(Provider.GITLAB, gitlab_push(after=ZERO), x_gitlab_event="Push Hook")

    assert push.delivery == "13792a34-cac6-4fda-95a8-c58e00a3954e"
    assert {"git@example.com:mike/diaspora.git", "http://example.com/mike/diaspora.git",
            "http://example.com/mike/diaspora"} <= set(push.repositories)  # fmt: skip
    assert push.changes == (RefChange("refs/heads/master"),)
    assert tag.changes == (RefChange("refs/tags/v1.0.0"),)
    assert deleted.changes == (RefChange("refs/heads/master", deleted=True),)


def test_gitlab_system_hook_push_is_a_push_and_other_hooks_are_not():
    system = parse(Provider.GITLAB, gitlab_push(), x_gitlab_event="System Hook")
    issue = parse(Provider.GITLAB, {"object_kind": "issue"}, x_gitlab_event="Issue Hook")

    assert system.kind is payloads.Kind.PUSH
    assert issue.kind is payloads.Kind.OTHER


def test_bitbucket_cloud_push_with_several_changes():
    payload = bitbucket_push(
        bitbucket_change("branch", "main"),
        bitbucket_change("tag", "v2", old=False),
        bitbucket_change("branch", "old-feature", new=False),
        bitbucket_change("bookmark", "ignored"),
    )

    event = parse(Provider.BITBUCKET, payload, x_event_key="repo:push",
                  x_request_uuid="afe0d6f7-1c1b-4d4e-8e0f-2e5c8f1d6a2b")  # fmt: skip

    assert event.delivery == "afe0d6f7-1c1b-4d4e-8e0f-2e5c8f1d6a2b"
    assert set(event.repositories) == {"https://bitbucket.org/Team-A/Manifests"}
    assert event.changes == (
        RefChange("refs/heads/main"), RefChange("refs/tags/v2"),
        RefChange("refs/heads/old-feature", deleted=True),
    )  # fmt: skip


def test_bitbucket_server_refs_changed_and_ping():
    payload = bitbucket_server_push(
        bitbucket_server_change("refs/heads/master"),
        bitbucket_server_change("refs/tags/v3", "ADD"),
        bitbucket_server_change("refs/heads/gone", "DELETE", to_hash=ZERO),
    )

    event = parse(Provider.BITBUCKET_SERVER, payload, x_event_key="repo:refs_changed",
                  x_request_id="d5b0f0c6-1b34-4c1a-9d3f-3d4d5b6c7e8f")  # fmt: skip
    ping = parse(Provider.BITBUCKET_SERVER, {"test": True}, x_event_key="diagnostics:ping")

    assert event.repositories == (
        "ssh://git@bitbucketserver:7999/myproject/test-repo.git",
        "https://bitbucketserver/scm/myproject/test-repo.git",
    )
    assert event.changes == (
        RefChange("refs/heads/master"), RefChange("refs/tags/v3"),
        RefChange("refs/heads/gone", deleted=True),
    )  # fmt: skip
    assert ping.kind is payloads.Kind.PING


@pytest.mark.parametrize(
    "headers",
    [{"x_gitea_event": "push", "x_gitea_delivery": "f6266f16"},
     {"x_forgejo_event": "push", "x_forgejo_delivery": "f6266f16", "x_gitea_event": "push"}],
    ids=["gitea", "forgejo"],
)  # fmt: skip
def test_gitea_and_forgejo_push(headers):
    event = parse(Provider.GITEA, gitea_push(), **headers)

    assert event.delivery == "f6266f16"
    assert {"http://localhost:3000/gitea/webhooks.git",
            "ssh://gitea@localhost:2222/gitea/webhooks.git"} <= set(event.repositories)  # fmt: skip
    assert event.changes == (RefChange("refs/heads/develop"),)


def test_azure_devops_push_reads_every_ref_update():
    payload = azure_push(("refs/heads/master", SHA_B), ("refs/heads/old", "0" * 40))

    event = parse(Provider.AZURE, payload)

    assert event.delivery == "03c164c2-8912-4d5e-8009-3707d5f83734"
    assert {repourls.normalise(url) for url in event.repositories} == {
        "dev.azure.com/fabrikam-fiber-inc/fabrikam-fiber-git/fabrikam-fiber-git"
    }
    assert event.changes == (
        RefChange("refs/heads/master"), RefChange("refs/heads/old", deleted=True),
    )  # fmt: skip
    other = parse(Provider.AZURE, {"eventType": "build.complete", "id": "x"})
    assert other.kind is payloads.Kind.OTHER


@pytest.mark.parametrize(
    ("payload", "changes"),
    [({"repository": "https://git.example.com/org/repo.git", "ref": "refs/heads/main"},
      (RefChange("refs/heads/main"),)),
     ({"repository": ["https://a/x", "git@a:x"], "ref": "main"}, (RefChange("refs/heads/main"),)),
     ({"repositories": ["https://a/x"], "ref": "refs/tags/v1", "deleted": True},
      (RefChange("refs/tags/v1", deleted=True),))],
    ids=["one-url", "url-list-short-ref", "repositories-deleted-tag"],
)  # fmt: skip
def test_generic_payload(payload, changes):
    event = parse(Provider.GENERIC, payload, x_delivery_id="build-42")

    assert (event.kind, event.delivery, event.changes) == (payloads.Kind.PUSH, "build-42", changes)
    assert event.repositories


@pytest.mark.parametrize(
    ("provider", "body", "headers"),
    [(Provider.GITHUB, b"{not json", {"x-github-event": "push"}),
     (Provider.GITHUB, b"[1, 2]", {"x-github-event": "push"}),
     (Provider.GITHUB, b"[" * 100_000, {"x-github-event": "push"}),
     (Provider.GITHUB, b"\xff\xfe", {"x-github-event": "ping"}),
     (Provider.GITHUB, encode({"repository": github_push()["repository"]}),
      {"x-github-event": "push"}),
     (Provider.GITHUB, encode({"ref": "refs/heads/main"}), {"x-github-event": "push"}),
     (Provider.GITHUB, b"payload=", {"content-type": "application/x-www-form-urlencoded"}),
     (Provider.GITHUB, b"&".join([b"a=1"] * 100),
      {"content-type": "application/x-www-form-urlencoded"}),
     (Provider.BITBUCKET, encode(bitbucket_push()), {"x-event-key": "repo:push"}),
     (Provider.AZURE, encode({"eventType": "git.push", "resource": {"refUpdates": "x"}}), {}),
     (Provider.GENERIC, encode({"ref": "main"}), {})],
    ids=["not-json", "not-object", "nested-deep", "not-utf8", "no-ref", "no-repository",
         "empty-form", "many-form-fields", "no-changes", "bad-ref-updates",
         "generic-no-repository"],
)  # fmt: skip
def test_malformed_bodies_are_payload_errors_that_quote_nothing(provider, body, headers):
    with pytest.raises(payloads.PayloadError) as refused:
        payloads.parse(provider, headers=headers, body=body)

    assert "refs/heads" not in str(refused.value)
    assert "http" not in str(refused.value)


def test_a_push_naming_many_urls_is_read_up_to_a_bound():
    payload = {"repositories": [f"https://h/{n}" for n in range(1000)], "ref": "main"}

    event = parse(Provider.GENERIC, payload)

    assert len(event.repositories) == payloads.MAX_REPOSITORIES


# Repository URLs ----------------------------------------------------------------------------


SAME_REPOSITORY = [
    "https://github.com/org/repo",
    "https://github.com/org/repo.git",
    "https://github.com/org/repo/",
    "https://GitHub.com/Org/Repo.git",
    "https://user:token@github.com/org/repo.git",
    "https://x-access-token@github.com:443/org/repo",
    "http://github.com/org/repo",
    "git@github.com:org/repo.git",
    "git@github.com:org/repo",
    "github.com:org/repo.git",
    "ssh://git@github.com/org/repo.git",
    "ssh://git@github.com:22/org/repo",
    "ssh://git@github.com:22/org/repo.git/",
    "git://github.com/org/repo.git",
    "git+ssh://git@github.com/org/repo",
]


@pytest.mark.parametrize("url", SAME_REPOSITORY)
def test_every_form_of_a_repository_url_is_one_repository(url):
    assert repourls.normalise(url) == "github.com/org/repo"


AZURE_REPOSITORY = [
    "https://fabrikam@dev.azure.com/fabrikam/Fiber/_git/Fiber-Git",
    "https://dev.azure.com/fabrikam/Fiber/_git/Fiber-Git",
    "git@ssh.dev.azure.com:v3/fabrikam/Fiber/Fiber-Git",
    "ssh://git@ssh.dev.azure.com/v3/fabrikam/Fiber/Fiber-Git",
    "https://fabrikam.visualstudio.com/Fiber/_git/Fiber-Git",
    "https://fabrikam.visualstudio.com/DefaultCollection/Fiber/_git/Fiber-Git",
    "fabrikam@vs-ssh.visualstudio.com:v3/fabrikam/Fiber/Fiber-Git",
]


@pytest.mark.parametrize("url", AZURE_REPOSITORY)
def test_azure_devops_https_ssh_and_legacy_urls_are_one_repository(url):
    assert repourls.normalise(url) == "dev.azure.com/fabrikam/fiber/fiber-git"


@pytest.mark.parametrize(
    ("url", "expected"),
    [("https://dev.azure.com/org/_git/repo", "dev.azure.com/org/repo/repo"),
     ("https://dev.azure.com/org/My%20Project/_git/repo", "dev.azure.com/org/my project/repo"),
     ("git@ssh.dev.azure.com:v3/org/My%20Project/repo", "dev.azure.com/org/my project/repo"),
     ("https://gitlab.example.com/group/sub/repo.git", "gitlab.example.com/group/sub/repo"),
     ("ssh://git@bitbucket.example.com:7999/proj/repo.git", "bitbucket.example.com/proj/repo"),
     ("file:///srv/git/repo.git", "/srv/git/repo"),
     ("git://127.0.0.1:9418/e2e.git", "127.0.0.1/e2e"),
     ("https://[::1]:8443/org/repo", "::1/org/repo")],
    ids=["azure-project-is-repo", "azure-space", "azure-ssh-space", "subgroups", "bb-server",
         "file", "git-daemon", "ipv6"],
)  # fmt: skip
def test_other_forms(url, expected):
    assert repourls.normalise(url) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [("https://github.com/org/repo", "https://github.com/org/repo2"),
     ("https://github.com/org/repo", "https://gitlab.com/org/repo"),
     ("https://github.com/org/repo", "https://github.com/other/repo"),
     ("https://dev.azure.com/org/p1/_git/repo", "https://dev.azure.com/org/p2/_git/repo")],
    ids=["name", "host", "owner", "azure-project"],
)  # fmt: skip
def test_different_repositories_stay_different(a, b):
    assert repourls.normalise(a) != repourls.normalise(b)


@pytest.mark.parametrize(
    "url",
    ["", "   ", "https://", "https:///org/repo", "not a url", "repo", "https://github.com/",
     "https://github.com/.git", "https://[::1/org/repo", "https://dev.azure.com/org/repo",
     "git@ssh.dev.azure.com:v2/org/p/repo"],
)  # fmt: skip
def test_urls_that_name_no_repository(url):
    assert repourls.normalise(url) is None


# Matching -----------------------------------------------------------------------------------


def gittrack(name: str, reference: str, *, namespace: str = "team-a",
             repository: str = "https://github.com/org/repo.git",
             secret: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    kind = names.GITTRACK if namespace else names.CLUSTERGITTRACK
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    spec: dict[str, Any] = {"repository": repository, "reference": reference}
    if secret is not None:
        spec["webhookSecretRef"] = secret
    return {"apiVersion": names.API_VERSION, "kind": kind, "metadata": meta, "spec": spec}


ALL = matching.Scope()


def test_candidates_are_the_gittracks_of_the_repository_in_scope():
    tracks = [
        gittrack("main", "main", repository="git@github.com:org/repo.git"),
        gittrack("other-repo", "main", repository="https://github.com/org/else"),
        gittrack("cluster", "main", namespace=""),
        gittrack("elsewhere", "main", namespace="team-b"),
        {"kind": names.GITTRACK, "metadata": {"name": "broken", "namespace": "team-a"}},
    ]

    found = matching.candidates(tracks, repositories=["https://github.com/Org/Repo"], scope=ALL)
    scoped = matching.candidates(
        tracks, repositories=["https://github.com/org/repo"],
        scope=matching.Scope(cluster_mode=names.ClusterGitTrackMode.DISABLED, namespace="team-a"),
    )  # fmt: skip
    clusters_only = matching.candidates(
        tracks, repositories=["https://github.com/org/repo"], scope=matching.Scope(gittracks=False)
    )

    assert [c.key.name for c in found] == ["cluster", "main", "elsewhere"]  # in key order
    assert [c.key.name for c in scoped] == ["main"]
    assert [c.key.name for c in clusters_only] == ["cluster"]
    assert found[0].key == identity.gittrack_key(namespace="", name="cluster")


def test_no_repository_no_candidates():
    assert matching.candidates([gittrack("a", "main")], repositories=["nope"], scope=ALL) == []


@pytest.mark.parametrize(
    ("reference", "change", "woken"),
    [("main", RefChange("refs/heads/main"), True),
     ("refs/heads/main", RefChange("refs/heads/main"), True),
     ("main", RefChange("refs/heads/main-2"), False),
     ("main", RefChange("refs/heads/feature/main"), False),
     ("feature/x", RefChange("refs/heads/feature/x"), True),
     ("v1", RefChange("refs/tags/v1"), True),
     ("refs/tags/v1", RefChange("refs/tags/v1"), True),
     ("refs/tags/v1", RefChange("refs/heads/v1"), False),
     ("refs/heads/main", RefChange("refs/tags/main"), False),
     ("main", RefChange("refs/heads/main", deleted=True), False),
     (SHA_A, RefChange(f"refs/heads/{SHA_A}"), False),
     ("a" * 64, RefChange(f"refs/heads/{'a' * 64}"), False),
     ("cafe", RefChange("refs/heads/cafe"), True),
     ("", RefChange("refs/heads/main"), False)],
    ids=["branch", "full-branch", "other-branch", "suffix", "slash", "tag", "full-tag",
         "tag-ref-not-branch", "branch-ref-not-tag", "deleted", "pinned-sha1", "pinned-sha256",
         "short-hex-is-a-name", "empty"],
)  # fmt: skip
def test_which_pushes_wake_which_reference(reference, change, woken):
    assert matching.is_woken(reference, [RefChange("refs/heads/unrelated"), change]) is woken


@pytest.mark.parametrize(
    ("track", "expected"),
    [(gittrack("a", "main", secret={"name": "hook", "key": "github"}),
      matching.SecretRef("team-a", "hook", "github")),
     (gittrack("a", "main", secret={"name": "hook", "key": "k", "namespace": "team-a"}),
      matching.SecretRef("team-a", "hook", "k")),
     (gittrack("a", "main", secret={"name": "hook", "key": "k", "namespace": "team-b"}), None),
     (gittrack("a", "main", namespace="", secret={"name": "hook", "key": "k"}), None),
     (gittrack("a", "main", namespace="",
               secret={"name": "hook", "key": "k", "namespace": "faros"}),
      matching.SecretRef("faros", "hook", "k")),
     (gittrack("a", "main", secret={"name": "", "key": "k"}), None),
     (gittrack("a", "main"), None)],
    ids=["own-namespace", "explicit-own", "other-namespace-refused", "cluster-needs-namespace",
         "cluster", "no-name", "none"],
)  # fmt: skip
def test_a_gittrack_s_own_secret(track, expected):
    assert matching.secret_ref(track) == expected


# Guards -------------------------------------------------------------------------------------


def test_rate_limiter_allows_a_burst_then_says_when_to_come_back():
    limiter = guards.RateLimiter(rate=2, burst=3)

    assert [limiter.take("10.0.0.1", now=100.0) for _ in range(3)] == [0, 0, 0]
    assert limiter.take("10.0.0.1", now=100.0) == 1  # one token back in 0.5 s: at least 1 s
    assert limiter.take("10.0.0.2", now=100.0) == 0  # per client
    assert limiter.take("10.0.0.1", now=100.6) == 0  # refilled
    assert limiter.take("10.0.0.1", now=100.6) == 1


def test_rate_limiter_retry_after_grows_with_a_slow_rate_and_zero_disables():
    slow = guards.RateLimiter(rate=0.1, burst=1)
    assert slow.take("c", now=0.0) == 0
    assert slow.take("c", now=0.0) == 10
    assert slow.take("c", now=5.0) == 5  # a refused request spends nothing

    off = guards.RateLimiter(rate=0, burst=0)
    assert all(off.take("c", now=0.0) == 0 for _ in range(1000))


def test_rate_limiter_memory_is_bounded():
    limiter = guards.RateLimiter(rate=1, burst=1, max_clients=3)
    for n in range(100):
        limiter.take(f"10.0.0.{n}", now=0.0)

    assert len(limiter._buckets) == 3


def test_replay_window_refuses_a_delivery_seen_within_it_only():
    window = guards.ReplayWindow(window=600)

    assert window.claim("github:abc", now=0.0)
    assert not window.claim("github:abc", now=599.0)
    assert window.claim("gitlab:abc", now=1.0)
    assert window.claim("github:abc", now=600.0)  # expired
    assert window.claim("", now=600.0)
    assert window.claim("", now=600.0)  # no id: never a replay


def test_replay_window_release_lets_a_redelivery_through():
    window = guards.ReplayWindow(window=600)
    window.claim("github:abc", now=0.0)

    window.release("github:abc")

    assert window.claim("github:abc", now=1.0)


def test_replay_window_memory_is_bounded():
    window = guards.ReplayWindow(window=600, max_entries=10)
    for n in range(1000):
        window.claim(f"id-{n}", now=float(n) / 100)

    assert len(window) == 10
    assert not window.claim("id-999", now=10.0)


# Push stamps --------------------------------------------------------------------------------

NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=datetime.UTC)


def gto(*, stamp: str | None, applied: bool = False) -> dict[str, Any]:
    annotations = {} if stamp is None else {names.PUSHED_AT_ANNOTATION: stamp}
    status = {"observedGeneration": 3, "conditions": [
        {"type": "ObjectInSync", "status": "True"}]} if applied else {}  # fmt: skip
    return {"metadata": {"generation": 3, "annotations": annotations}, "status": status}


def test_push_stamp_value_and_patches():
    stamp = pushstamp.value(NOW)

    assert stamp == "2024-05-01T12:00:00.250Z"
    assert pushstamp.merge_patch(stamp) == {
        "metadata": {"annotations": {"faros.pusher.com/pushed-at": stamp}}
    }
    assert pushstamp.consume_patch(stamp) == [
        {"op": "test", "path": "/metadata/annotations/faros.pusher.com~1pushed-at", "value": stamp},
        {"op": "remove", "path": "/metadata/annotations/faros.pusher.com~1pushed-at"},
    ]
    with pytest.raises(ValueError, match="time zone"):
        pushstamp.value(NOW.replace(tzinfo=None))


def test_pending_push_of_a_gittrack():
    stamp = pushstamp.value(NOW)
    carrying = {"metadata": {"annotations": {names.PUSHED_AT_ANNOTATION: stamp}}}

    assert pushstamp.pending(carrying) == stamp
    assert pushstamp.pending({"metadata": {}}) == ""
    assert pushstamp.pending({"metadata": {"annotations": {names.PUSHED_AT_ANNOTATION: "x"}}}) == ""


@pytest.mark.parametrize(
    ("body", "expected"),
    [(gto(stamp="2024-05-01T11:59:58.250Z"), 2.0),
     (gto(stamp="2024-05-01T12:00:01Z"), 0.0),
     (gto(stamp="2024-05-01T11:59:58.250Z", applied=True), None),
     (gto(stamp=""), None),
     (gto(stamp="yesterday"), None),
     (gto(stamp="2024-05-01T11:59:58"), None),
     (gto(stamp=None), None)],
    ids=["pushed", "clock-skew-clamped", "generation-applied-before", "cleared", "garbage",
         "no-zone", "none"],
)  # fmt: skip
def test_push_to_applied_latency(body, expected):
    assert pushstamp.latency(body, now=NOW) == expected
