"""Repository URLs and references are checked before git sees them."""

from __future__ import annotations

import pytest

from faros.core import sources


@pytest.mark.parametrize(
    ("url", "transport"),
    [
        ("https://github.com/org/repo.git", sources.Transport.HTTPS),
        ("http://127.0.0.1:8080/r.git", sources.Transport.HTTP),
        ("ssh://git@github.com/org/repo.git", sources.Transport.SSH),
        ("git@github.com:org/repo.git", sources.Transport.SSH),
        ("git://127.0.0.1/r.git", sources.Transport.GIT),
        ("file:///srv/git/r.git", sources.Transport.FILE),
        ("https://git.example.com:8443/org/repo.git", sources.Transport.HTTPS),
        ("ssh://git@host:2222/org/repo.git", sources.Transport.SSH),
        ("https://[::1]:8443/r.git", sources.Transport.HTTPS),
        ("https://user:token@github.com/org/repo.git", sources.Transport.HTTPS),
        ("https://h:/r.git", sources.Transport.HTTPS),
    ],
    ids=["https", "http", "ssh", "scp-like", "git", "file", "https-port", "ssh-port", "ipv6",
         "https-credentials", "empty-port"],
)  # fmt: skip
def test_plain_urls_are_accepted(url, transport):
    assert sources.parse_url(url, allow_file=True).transport is transport


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("ext::sh -c touch% /tmp/x", "whitespace"),
        ("ext::ssh", "remote helper"),
        ("fd::17", "remote helper"),
        ("--upload-pack=touch /tmp/x", "start with '-'"),
        ("-oProxyCommand=x:r", "start with '-'"),
        ("ssh://-oProxyCommand=x/r", "host must not start"),
        ("host:-r", "path must not start"),
        ("ftp://h/r", "not supported"),
        ("https:///r", "no host"),
        ("file:///etc", "disabled"),
        ("https://h/r\nx", "whitespace"),
        ("just-a-word", "must be"),
    ],
    ids=["empty", "ext-space", "ext", "fd", "upload-pack", "scp-option", "ssh-host-option",
         "scp-path-option", "ftp", "no-host", "file-disabled", "newline", "word"],
)  # fmt: skip
def test_hostile_or_unsupported_urls_are_refused(url, reason):
    with pytest.raises(sources.SourceInputError, match=reason):
        sources.parse_url(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://[github.com/o/r", "invalid IPv6 address"),
        ("https://github.com]/o/r", "invalid IPv6 address"),
        ("https://[zz]/o/r", "invalid IPv6 address"),
        ("https://[::1]x/o/r", "unexpected text after the IPv6 address"),
        ("https://h:99999/x", "the port is not between 1 and 65535"),
        ("https://h:0/x", "the port is not between 1 and 65535"),
        ("https://h:abc/x", "the port is not a number"),
        ("https://h:-1/x", "the port is not a number"),
        ("https://h:1:2/x", "the port is not a number"),
        ("ssh://git@h:22x/x", "the port is not a number"),
        ("https://h\u2100/x", "the host changes under Unicode normalisation"),
    ],
    ids=["ipv6-unclosed", "ipv6-unopened", "ipv6-not-an-address", "ipv6-trailing-text",
         "port-too-big", "port-zero", "port-word", "port-negative", "port-twice", "ssh-port-word",
         "host-nfkc"],
)  # fmt: skip
def test_malformed_urls_say_what_is_wrong(url, reason):
    with pytest.raises(sources.SourceInputError) as caught:
        sources.parse_url(url)
    assert str(caught.value) == f"repository URL '{url}' is malformed: {reason}"


@pytest.mark.parametrize(
    "url",
    ["https://user:hunter2-SECRET@[github.com/o/r", "https://hunter2-SECRET@h:99999/r",
     "ssh://git:hunter2-SECRET@h:abc/r"],
    ids=["ipv6", "port-range", "ssh-port"],
)  # fmt: skip
def test_malformed_url_messages_quote_the_url_without_credentials(url):
    with pytest.raises(sources.SourceInputError, match="is malformed") as caught:
        sources.parse_url(url)
    assert "hunter2-SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "part"),
    [
        ("git@-oProxyCommand:x", "host"),
        ("-oProxyCommand=x@h:p", "user"),
        ("-oProxyCommand=x:p", "host"),
        ("ssh://-oProxyCommand=x@h/p", "user"),
        ("ssh://-oProxyCommand=x:password@h/p", "user"),
        ("ssh://git@-oProxy/p", "host"),
        ("ssh://%2doProxyCommand=x@h/p", "user"),
        ("ssh://%2DoProxyCommand=x@h/p", "user"),
        ("ssh://git@%2doProxy/p", "host"),
        ("https://-token@github.com/o/r", "user"),
        ("https://-h/o/r", "host"),
        ("git://%2dh/r", "host"),
        ("file://-h/srv/r", "host"),
    ],
    ids=["scp-host", "scp-user", "scp-host-first", "ssh-user", "ssh-user-password", "ssh-host",
         "ssh-user-encoded", "ssh-user-encoded-upper", "ssh-host-encoded", "https-user",
         "https-host", "git-host-encoded", "file-host"],
)  # fmt: skip
def test_option_like_users_and_hosts_are_refused(url, part):
    with pytest.raises(sources.SourceInputError) as caught:
        sources.parse_url(url, allow_file=True)
    assert str(caught.value) == f"repository {part} must not start with '-'"


@pytest.mark.parametrize(
    "url",
    ["git@%2doProxy:x", "ssh://git%20-o@h/p", "ssh://git@h%0a-o/p"],
    ids=["scp-encoded-host", "encoded-space-in-user", "encoded-newline-in-host"],
)
def test_encoded_tricks_in_users_and_hosts_are_refused(url):
    with pytest.raises(sources.SourceInputError):
        sources.parse_url(url)


@pytest.mark.parametrize(
    "reference",
    ["master", "release/1.2", "v1.0.0", "refs/tags/v1", "a1b2c3d", "0" * 40],
)
def test_plain_references_are_accepted(reference):
    assert sources.check_reference(reference) == reference


@pytest.mark.parametrize(
    "reference",
    ["", "-b", "--upload-pack=x", "a..b", "HEAD@{1}", "a b", "x~1", "x^", "a:b", "/x", "x/",
     "x.lock", "a//b"],
)  # fmt: skip
def test_option_like_or_invalid_references_are_refused(reference):
    with pytest.raises(sources.SourceInputError):
        sources.check_reference(reference)


@pytest.mark.parametrize(
    ("reference", "expected"),
    [("a1b2", True), ("a1b2c3d4e5", True), ("0" * 40, True), ("abc", False), ("main", False)],
)
def test_commit_ids_are_recognised(reference, expected):
    assert sources.is_commit_id(reference) is expected
