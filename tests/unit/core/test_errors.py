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
        "--broker-url: bad",
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


class Failed(errors.RequestFailure):
    def __init__(self, status, retry_after=None):
        super().__init__(status=status)
        self.status = status
        self.retry_after = retry_after


VERDICTS = [
    ("manifest", errors.ManifestError(path="a", reason="b"), True),
    ("refused", errors.Refused("subPath must not contain '..'"), True),
    ("lock-lost", errors.LockLost(key="k"), False),
    ("kind-not-served", errors.KindNotServed(api_version="x.io/v1", kind="X"), False),
    ("redis-away", errors.Unreachable(what="Redis", reason="refused"), False),
    ("invalid-422", Failed(422), True),
    ("bad-request-400", Failed(400), True),
    ("forbidden-403", Failed(403), True),
    ("too-large-413", Failed(413), True),
    ("not-found-404", Failed(404), False),
    ("conflict-409", Failed(409), False),
    ("gone-410", Failed(410), False),
    ("throttled-429", Failed(429), False),
    ("webhook-500", Failed(500), False),
    ("unavailable-503", Failed(503), False),
    ("no-answer-0", Failed(0), False),
    ("socket", ConnectionResetError("reset by peer"), False),
    ("bug", KeyError("oops"), False),
]


@pytest.mark.parametrize(
    ("error", "terminal"), [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS]
)
def test_one_policy_decides_terminal_and_transient(error, terminal):
    assert errors.verdict(error).terminal is terminal


def test_retry_after_is_carried_to_the_verdict():
    assert errors.verdict(Failed(429, retry_after=7.0)) == errors.Verdict(False, 7.0)


@pytest.mark.parametrize("jitter", [0.0, 0.5, 0.999])
def test_backoff_doubles_within_its_jitter_and_is_capped(jitter):
    waits = [errors.backoff(attempt, jitter=jitter) for attempt in range(12)]
    ceilings = [min(errors.MAX_BACKOFF, errors.MIN_BACKOFF * 2**a) for a in range(12)]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert waits == sorted(waits)
    assert max(waits) <= errors.MAX_BACKOFF


def test_backoff_honours_retry_after_up_to_a_limit():
    assert errors.backoff(0, jitter=0.0, retry_after=12.0) == 12.0
    assert errors.backoff(10, jitter=0.0, retry_after=1.0) == errors.MAX_BACKOFF / 2
    assert errors.backoff(0, jitter=0.0, retry_after=10_000.0) == errors.MAX_RETRY_AFTER


def test_refused_and_transient_errors_pickle():
    away = errors.Unreachable(what="Redis", reason="redis://:pw@r:6379 refused")
    for error in (errors.Refused("no"), errors.KindNotServed(api_version="v1", kind="X"), away):
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
        assert str(copy) == str(error)
        assert ":pw@" not in str(copy)
