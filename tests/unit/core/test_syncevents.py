"""GitTrack Events follow changes: new Git errors, new ownership conflicts (spec 2.8)."""

from __future__ import annotations

import pytest

from faros.core import identity, rules, syncevents

SPEC = {"repository": "https://bot:s3cret@git.example/r.git", "reference": "main", "subPath": "x"}


def fetched(status: str, message: str) -> dict[str, object]:
    return {"conditions": [{"type": "FilesFetched", "status": status, "message": message}]}


def test_checkout_text_has_no_credentials():
    assert syncevents.checkout_text("Checking out", SPEC) == (
        "Checking out 'https://git.example/r.git' at 'main'"
    )


@pytest.mark.parametrize(
    ("previous", "message", "expected"),
    [
        ({}, "boom", "Failed to checkout 'https://git.example/r.git' at 'main'"),
        (fetched("True", ""), "boom", "Failed to checkout 'https://git.example/r.git' at 'main'"),
        (fetched("False", "other"), "boom",
         "Failed to checkout 'https://git.example/r.git' at 'main'"),
        (fetched("False", "boom"), "boom", None),
        ({}, "no files for subpath 'x/'", "No files for SubPath 'x'"),
    ],
    ids=["first", "was-fine", "different-error", "same-error", "no-files"],
)  # fmt: skip
def test_checkout_failure_is_posted_when_new(previous, message, expected):
    assert syncevents.checkout_failure(message=message, previous=previous, spec=SPEC) == expected


def test_mismatch_is_posted_once():
    mismatches = [("ns/a", "A is owned"), ("ns/b", "B is owned")]
    previous = {"ignoredFiles": {"ns/a": rules.OWNED_BY_ANOTHER}}

    assert syncevents.new_mismatches(mismatches, previous=previous) == ["B is owned"]


@pytest.mark.parametrize(
    ("creating", "missing", "expected"),
    [
        (True, False, "failed to create child for 'configmap-c': denied"),
        (True, True, "failed to create child for 'configmap-c': namespace \"ns\" does not exist "
                     "yet; the next sync retries"),
        (False, False, "failed to update child resource: error updating child resource: denied"),
    ],
    ids=["create", "namespace-missing", "update"],
)  # fmt: skip
def test_write_failure_messages(creating, missing, expected):
    gto = identity.gto_key(namespace="ns", name="configmap-c")

    message = syncevents.write_failure(
        gto=gto, creating=creating, error="denied", namespace_missing=missing
    )

    assert message == expected


@pytest.mark.parametrize(
    ("commit", "previous", "summary", "expected"),
    [
        ("b" * 40, "a" * 40, False, True),  # a new commit: announced, as the Go controller did
        ("b" * 40, None, False, True),  # the first sync
        ("a" * 40, "a" * 40, False, False),  # the same commit again: no Events
        ("b" * 40, "a" * 40, True, False),  # summary: the Synced Event names the commit
    ],
)
def test_checkout_events_announce_a_new_commit_unless_summary(commit, previous, summary, expected):
    assert syncevents.announces_checkout(commit=commit, previous=previous, summary=summary) is (
        expected
    )
