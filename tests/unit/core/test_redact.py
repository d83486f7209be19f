"""Credentials never survive redaction: URLs, Git errors, SSH users kept."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from faros.core import redact

URLS = [
    ("https://user:pass@github.com/org/repo.git", "https://github.com/org/repo.git"),
    ("https://TOKEN@github.com/org/repo", "https://github.com/org/repo"),
    ("http://user:p@ss@host:8080/repo", "http://host:8080/repo"),
    ("https://user:pass@host", "https://host"),
    ("HTTPS://u:p@host/x", "HTTPS://host/x"),
    ("git://u:p@host/x", "git://host/x"),
    ("ssh://git@github.com/org/repo", "ssh://git@github.com/org/repo"),
    ("ssh://git:secret@github.com/org/repo", "ssh://git@github.com/org/repo"),
    ("ssh://:secret@host/repo", "ssh://host/repo"),
    ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
    ("https://github.com/org/repo", "https://github.com/org/repo"),
    ("file:///srv/git/repo", "file:///srv/git/repo"),
    ("", ""),
]


@pytest.mark.parametrize(("url", "expected"), URLS, ids=[url or "empty" for url, _ in URLS])
def test_url_loses_its_credentials(url, expected):
    assert redact.url(url) == expected


MESSAGES = [
    (
        "fatal: unable to access 'https://user:tok@host/repo/': Could not resolve host",
        "fatal: unable to access 'https://host/repo/': Could not resolve host",
    ),
    (
        "failed to get repository 'https://a:b@x/r' and 'http://c@y/s': not found'",
        "failed to get repository 'https://x/r' and 'http://y/s': not found'",
    ),
    ("email me at someone@example.com", "email me at someone@example.com"),
    ("https://host/path?user=a@b", "https://host/path?user=a@b"),
    ("line one\nhttps://u:p@h/x\nline three", "line one\nhttps://h/x\nline three"),
]


@pytest.mark.parametrize(
    ("text", "expected"), MESSAGES, ids=["git-error", "two-urls", "email", "at-in-path", "lines"]
)
def test_message_loses_the_credentials_of_every_url(text, expected):
    assert redact.message(text) == expected


SECRET = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), blacklist_characters="/"
    ),
    min_size=4,
)


@given(
    scheme=st.sampled_from(["https", "http", "git", "ssh", "ftp"]),
    user=st.from_regex(r"[A-Za-z0-9._-]{0,12}", fullmatch=True),
    password=SECRET,
    host=st.from_regex(r"[a-z0-9.-]{1,20}", fullmatch=True),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_redacted_text_never_contains_the_password(scheme, user, password, host, before, after):
    assume(password not in before + host + after + scheme + user)
    text = f"{before} {scheme}://{user}:{password}@{host}/repo {after}"
    assert password not in redact.message(text)


@given(
    token=SECRET,
    host=st.from_regex(r"[a-z0-9.-]{1,20}", fullmatch=True),
    before=st.text(max_size=30),
)
def test_a_token_given_as_https_user_never_survives(token, host, before):
    assume(token not in before + host + "https")
    assert token not in redact.message(f"{before} https://{token}@{host}/repo")
