"""Fetch a GitTrack's files: credentials from its deployKey Secret, then the Git adapter."""

from __future__ import annotations

import base64
import time
from typing import Any

from faros import metrics
from faros.api import names
from faros.core import deploykeys, manifests, paths, sources
from faros.core import errors as core_errors
from faros.git import fetch
from faros.kube import client, errors


class SourceFailure(Exception):
    """The files could not be fetched; ``str()`` is the FilesFetched message (redacted).

    Its ``__cause__`` is the failure itself: the error policy decides from it whether the
    sync is tried again soon (a timeout) or waits for its next period (a missing branch).
    """


def fetch_files(
    kube: client.Kube, store: fetch.Store, gittrack: dict[str, Any], *, max_bytes: int,
    allow_plain_http: bool = False,
) -> tuple[fetch.Snapshot, list[manifests.FileResult]]:  # fmt: skip
    """Fetch and parse the manifests a GitTrack names; raise ``SourceFailure`` on any Git error
    (HTTP basic credentials over plain ``http://`` only with ``allow_plain_http``)."""
    spec = gittrack.get("spec", {})
    try:
        sub_path = paths.normalise(str(spec.get("subPath") or ""))
        credentials = _credentials(kube, gittrack, allow_plain_http=allow_plain_http)
        snapshot = _snapshot(store, spec, sub_path=sub_path, credentials=credentials)
    except (
        paths.SubPathError,
        deploykeys.DeployKeyError,
        sources.SourceInputError,
        fetch.FetchError,
    ) as problem:
        raise SourceFailure(str(problem)) from problem
    files = [manifests.parse(path, data, max_bytes=max_bytes) for path, data in snapshot.files]
    files += [
        manifests.FileResult(path, (), core_errors.ManifestError(path=path, reason=reason))
        for path, reason in sorted(snapshot.refused.items())
    ]
    return snapshot, sorted(files, key=lambda file: file.path)


def remote_commit(
    kube: client.Kube, store: fetch.Store, gittrack: dict[str, Any], *,
    allow_plain_http: bool = False,
) -> str | None:  # fmt: skip
    """The commit the GitTrack's reference names on its remote now (no fetch); None when it
    cannot be told cheaply (then the sync fetches)."""
    spec = gittrack.get("spec", {})
    try:
        credentials = _credentials(kube, gittrack, allow_plain_http=allow_plain_http)
        return store.remote_commit(
            url=str(spec.get("repository", "")), reference=str(spec.get("reference", "")),
            credentials=credentials,
        )  # fmt: skip
    except (deploykeys.DeployKeyError, sources.SourceInputError, SourceFailure):
        return None


def _snapshot(
    store: fetch.Store,
    spec: dict[str, Any],
    *,
    sub_path: str,
    credentials: deploykeys.Credentials,
) -> fetch.Snapshot:
    """Fetch and read, timed in ``faros_git_fetch_duration_seconds`` by result."""
    started = time.monotonic()
    result = "error"
    try:
        snapshot = store.snapshot(
            url=str(spec.get("repository", "")),
            reference=str(spec.get("reference", "")),
            sub_path=sub_path,
            credentials=credentials,
        )
        result = "success"
        return snapshot
    finally:
        metrics.GIT_FETCH_DURATION.labels(result=result).observe(time.monotonic() - started)


def _credentials(
    kube: client.Kube, gittrack: dict[str, Any], *, allow_plain_http: bool = False
) -> deploykeys.Credentials:
    meta = gittrack["metadata"]
    ref = deploykeys.secret_ref(
        gittrack.get("spec", {}).get("deployKey"),
        owner_kind=str(gittrack.get("kind", names.GITTRACK)),
        owner_namespace=str(meta.get("namespace", "")),
    )
    if ref is None:
        return deploykeys.NONE
    try:
        secret = kube.request("GET", f"/api/v1/namespaces/{ref.namespace}/secrets/{ref.name}")
    except (errors.NotFound, errors.Forbidden) as error:
        raise deploykeys.missing_secret(ref, str(error)) from None
    except errors.ApiError as error:  # the API server failed: the policy retries soon
        raise SourceFailure(str(deploykeys.missing_secret(ref, str(error)))) from error
    deploykeys.check_secret_type(ref, str(secret.get("type") or ""))
    data = {key: base64.b64decode(value) for key, value in (secret.get("data") or {}).items()}
    found = deploykeys.credentials(ref, data)
    deploykeys.check_transport(str(gittrack.get("spec", {}).get("repository", "")), found,
                               allow_plain_http=allow_plain_http)  # fmt: skip
    return found
