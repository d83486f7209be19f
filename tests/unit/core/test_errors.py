"""The error tree: what each error says, what it carries, that it pickles without secrets."""

import pickle

import pytest

from faros.core import errors, identity

KEY = identity.ObjectKey("apps", "v1", "Deployment", "default", "nginx")

ERRORS = [
    (
        errors.ManifestError(path="a.yaml", reason="bad"),
        errors.InputError,
        "unable to parse 'a.yaml': bad",
    ),
    (
        errors.SourceError(
            url="https://u:secret@host/r",
            reference="main",
            reason="failed to get repository 'https://u:secret@host/r': repository not found'",
        ),
        errors.InputError,
        "failed to get repository 'https://host/r': repository not found'",
    ),
    (
        errors.ObjectError(key=KEY, reason='no matches for kind "Deployment" in version "apps/v1"'),
        errors.InputError,
        'no matches for kind "Deployment" in version "apps/v1"',
    ),
    (
        errors.ConfigError(flag="--broker-url", value="redis://:pw@redis:6379", reason="bad"),
        errors.InputError,
        "invalid value 'redis://redis:6379' for --broker-url: bad",
    ),
    (
        errors.LockLost(key="faros:lock:apps/Deployment/default/nginx"),
        errors.TransientError,
        "lost the lock faros:lock:apps/Deployment/default/nginx; another worker owns it now, "
        "nothing was written",
    ),
]
IDS = ["manifest", "source", "object", "config", "lock-lost"]


@pytest.mark.parametrize(("error", "family", "text"), ERRORS, ids=IDS)
def test_str_is_the_sentence_a_user_reads(error, family, text):
    assert isinstance(error, family)
    assert isinstance(error, errors.FarosError)
    assert str(error) == text


@pytest.mark.parametrize(("error", "family", "text"), ERRORS, ids=IDS)
def test_errors_survive_pickling(error, family, text):
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is type(error)
    assert str(copy) == text
    assert copy.args == error.args


@pytest.mark.parametrize(("error", "family", "text"), ERRORS, ids=IDS)
def test_no_secret_in_repr_or_pickle(error, family, text):
    assert "secret" not in repr(error)
    assert b"secret" not in pickle.dumps(error)
    assert ":pw@" not in repr(error)


def test_attributes_name_what_is_at_fault():
    source = errors.SourceError(url="https://t@h/r", reference="v1", reason="x")
    assert (source.url, source.reference) == ("https://h/r", "v1")
    assert errors.ObjectError(key=KEY, reason="x").key == KEY
    assert errors.ManifestError(path="p.yaml", reason="r").path == "p.yaml"
    assert errors.ConfigError(flag="--namespace", value="x", reason="r").flag == "--namespace"
