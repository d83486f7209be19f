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
    ],
    ids=["https", "http", "ssh", "scp-like", "git", "file"],
)
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
